// Simulated AWS WAF v2 logs as Kinesis Data Firehose delivers them:
// <prefix>YYYY/MM/DD/HH/<stream>-1-YYYY-MM-DD-HH-MM-SS-<uuid> (".gz" appended with
// gzip, as Firehose does), newline-delimited WAF records with every field real ones carry.
//
// Entities are clients identified by their User-Agent (the default entity of `prepare`,
// with '.' and ',' removed): each simulated client has a distinctive user agent (browser
// with its exact versions, mobile app build, SDK, script, monitor), unique after that
// normalisation so the oracle is exact. Three web ACLs (CloudFront, ALB, API Gateway),
// each with its own delivery stream; HTTP/2 clients send lower-case header names.
//
// Thread-safety: immutable after construction (see log_format.h).
#pragma once

#include <string>
#include <vector>

#include "ipinsights/simulate/log_format.h"
#include "ipinsights/simulate/population_model.h"

namespace ipinsights::simulate {

class WafFormat : public LogFormat {
 public:
  WafFormat(const PopulationModel& population, uint64_t seed, std::string prefix, bool gzip);

  size_t partition_count() const override { return acls_.size(); }
  void Classify(uint32_t entity, Rng& rng, SimulatedEvent& event) const override;
  int window_min_seconds() const override { return 300; }
  int window_max_seconds() const override { return 300; }
  size_t max_records_per_object() const override { return 4000; }  // ~5 MB buffer
  bool compressed() const override { return gzip_; }
  std::string ObjectKey(const SimulatedEvent* events, size_t count, Rng& rng) const override;
  void AppendObject(const SimulatedEvent* events, size_t count, Rng& rng,
                    std::string& out) const override;
  // A known client (its user agent) from a network it does not use.
  std::vector<AttackKind> targeted_attack_kinds() const override {
    return {AttackKind::kWafClientNewNetwork};
  }
  bool Targetable(uint32_t, AttackKind kind) const override {
    return kind == AttackKind::kWafClientNewNetwork;
  }
  std::string_view EntityName(uint32_t entity) const override { return clients_[entity].entity; }

 private:
  struct Acl {
    std::string stream;
    std::string record_head;    // `{"timestamp":` is written first; this follows the number
    std::string source_fields;  // `,"httpSourceName":..,"httpSourceId":..,`
    std::string host;
  };
  struct Client {
    std::string entity;        // user agent without '.' and ','
    std::string agent_json;    // the user agent as a JSON string literal
    std::string headers_head;  // `"headers":[{"name":"host","value":"` ...
    uint8_t acl = 0;
    bool http2 = true;
    bool person = true;
  };

  void AppendRecord(const SimulatedEvent& event, Rng& rng, std::string& out) const;

  const PopulationModel& population_;
  std::string prefix_;
  bool gzip_;
  std::vector<Acl> acls_;
  std::vector<Client> clients_;
};

}  // namespace ipinsights::simulate
