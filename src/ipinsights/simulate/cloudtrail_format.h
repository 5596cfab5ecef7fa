// Simulated AWS CloudTrail: identities, the API call catalogue, and the exact delivery
// layout (AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_
// <YYYYMMDDTHHMMZ>_<16 chars>.json.gz holding {"Records":[...]}, plus hourly digest files
// under CloudTrail-Digest/).
//
// Each simulated entity gets one identity whose principalId is unique: IAM users (AIDA...),
// people signing in through IAM Identity Center roles (AROA...:first.last@company), federated
// users (<account>:name), an account's root (<account>), and workloads' role sessions
// (AROA...:i-0123... for EC2, AROA...:function-name for Lambda). Besides their (entity, IP)
// events the logs carry the records `prepare` must skip, at realistic rates: AWSService
// callers (~6%), "AWS Internal" (~2%) and service host names (~3%) as sourceIPAddress, and
// sign-ins without a principalId (SAMLUser, IdentityCenterUser; ~0.5% of people's events).
//
// Thread-safety: immutable after construction (see log_format.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ipinsights/simulate/log_format.h"
#include "ipinsights/simulate/population_model.h"

namespace ipinsights::simulate {

class CloudTrailFormat : public LogFormat {
 public:
  CloudTrailFormat(const PopulationModel& population, uint64_t seed);

  size_t partition_count() const override { return accounts_.size() * regions_.size(); }
  void Classify(uint32_t entity, Rng& rng, SimulatedEvent& event) const override;
  int window_min_seconds() const override { return 300; }
  int window_max_seconds() const override { return 900; }
  size_t max_records_per_object() const override { return 5000; }
  bool compressed() const override { return true; }
  std::string ObjectKey(const SimulatedEvent* events, size_t count, Rng& rng) const override;
  void AppendObject(const SimulatedEvent* events, size_t count, Rng& rng,
                    std::string& out) const override;
  std::vector<std::pair<std::string, std::string>> Digests(
      const std::vector<DeliveredObject>& objects, int64_t day_start_ms, Rng& rng) const override;
  // Stolen EC2 instance-role credentials, and IAM users' long-term keys.
  std::vector<AttackKind> targeted_attack_kinds() const override {
    return {AttackKind::kInstanceCredentials, AttackKind::kLongTermKeyNewNetwork};
  }
  bool Targetable(uint32_t entity, AttackKind kind) const override;
  std::string_view EntityName(uint32_t entity) const override {
    return identities_[entity].principal_id;
  }

 private:
  struct Identity {
    std::string principal_id;
    // `"userIdentity":{...` up to (not including) the session creation date, or the whole
    // object without its closing brace when there is no session context.
    std::string head;
    std::string tail;                // after the creation date; empty when no session context
    std::string console_agent;       // JSON string literal
    std::string api_agent;           // JSON string literal
    std::string no_entity_identity;  // SAMLUser / IdentityCenterUser object for sign-ins
    uint8_t account = 0;
    uint8_t home_region = 0;
    bool person = true;
    bool ec2_instance = false;  // an AssumedRole session named after its instance (i-0...)
    bool iam_user = false;      // an IAM user: principalId AIDA..., accessKeyId AKIA...
  };

  void AppendRecord(const SimulatedEvent& event, Rng& rng, std::string& out) const;
  void AppendServiceRecord(const SimulatedEvent& event, Rng& rng, std::string& out) const;
  void AppendNoEntityRecord(const SimulatedEvent& event, Rng& rng, std::string& out) const;

  const PopulationModel& population_;
  std::vector<std::string> accounts_;
  std::vector<std::string> regions_;
  std::vector<Identity> identities_;
};

}  // namespace ipinsights::simulate
