// What the simulator needs from a log dialect (CloudTrail, WAF): how events spread over
// delivery partitions and files, what kind of record each event becomes, the object keys,
// and the bytes of each object. The Simulator (simulator.h) does everything else:
// sampling, windows, sorting, compression, writing, labels.
//
// Thread-safety: implementations are immutable after construction; every method is const
// and may run on many threads at once (each call gets its own Rng).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/pairs/ip_address.h"
#include "ipinsights/simulate/random.h"

namespace ipinsights::simulate {

// What `prepare` makes of a record, by construction.
enum class EventKind : uint8_t {
  kPair,         // an (entity, ip) pair
  kAwsService,   // CloudTrail userIdentity.type AWSService: skipped as aws_service
  kAwsInternal,  // sourceIPAddress "AWS Internal": skipped as not_an_ip
  kServiceHost,  // sourceIPAddress a service host name: skipped as not_an_ip
  kNoEntity,     // no principalId (SAMLUser / IdentityCenterUser): skipped as no_entity
};

// What a row of labels.csv is: its `kind` column (docs/formats/labels-csv.md).
enum class AttackKind : uint8_t {
  kNormal,                 // label 0
  kRandomIp,               // the entity of a drawn normal pair, an attack-distribution address
  kInstanceCredentials,    // CloudTrail: an EC2 instance-role session used from outside
  kLongTermKeyNewNetwork,  // CloudTrail: an IAM user's AKIA key from a network not its own
  kWafClientNewNetwork,    // WAF: a client from a network not its own
};

// The `kind` column's value: "normal", "random_ip", "instance_credentials",
// "long_term_key_new_network", "waf_client_new_network".
constexpr std::string_view AttackKindName(AttackKind kind) {
  switch (kind) {
    case AttackKind::kNormal:
      return "normal";
    case AttackKind::kRandomIp:
      return "random_ip";
    case AttackKind::kInstanceCredentials:
      return "instance_credentials";
    case AttackKind::kLongTermKeyNewNetwork:
      return "long_term_key_new_network";
    case AttackKind::kWafClientNewNetwork:
      return "waf_client_new_network";
  }
  return "normal";
}

struct SimulatedEvent {
  int64_t time_ms = 0;
  uint32_t entity = 0;
  uint32_t sequence = 0;  // position in the day's generation order (ties in time)
  uint16_t partition = 0;
  EventKind kind = EventKind::kPair;
  uint8_t label = 0;  // 1 = injected anomaly
  AttackKind attack = AttackKind::kNormal;
  IpAddress ip;
};

// One delivered log object, as digests need it.
struct DeliveredObject {
  uint16_t partition = 0;
  std::string key;  // relative to the output folder
  int64_t first_ms = 0;
  int64_t last_ms = 0;
  std::string sha256_hex;  // of the bytes as stored
};

class LogFormat {
 public:
  virtual ~LogFormat() = default;

  // Delivery partitions: CloudTrail (account, region); WAF delivery streams.
  virtual size_t partition_count() const = 0;
  // Fills event.partition and event.kind for one event of `entity`.
  virtual void Classify(uint32_t entity, Rng& rng, SimulatedEvent& event) const = 0;
  // Seconds between file deliveries in one partition: uniform in [min, max].
  virtual int window_min_seconds() const = 0;
  virtual int window_max_seconds() const = 0;
  // A window with more records is split into several objects.
  virtual size_t max_records_per_object() const = 0;
  virtual bool compressed() const = 0;

  // Key (relative path) of an object holding `events` (time-ordered, same partition).
  virtual std::string ObjectKey(const SimulatedEvent* events, size_t count, Rng& rng) const = 0;
  // Appends the object's uncompressed bytes.
  virtual void AppendObject(const SimulatedEvent* events, size_t count, Rng& rng,
                            std::string& out) const = 0;
  // Integrity digests over one day's delivered objects: (key, uncompressed bytes) pairs.
  virtual std::vector<std::pair<std::string, std::string>> Digests(
      const std::vector<DeliveredObject>& objects, int64_t day_start_ms, Rng& rng) const {
    return {};
  }

  // The attack kinds this dialect injects besides kRandomIp, in the order --attacks is split.
  virtual std::vector<AttackKind> targeted_attack_kinds() const { return {}; }
  // True when `entity` is the kind of identity a `kind` attack uses (a targeted kind).
  virtual bool Targetable(uint32_t entity, AttackKind kind) const { return false; }

  // The entity of a kPair event as `prepare` extracts it by default.
  virtual std::string_view EntityName(uint32_t entity) const = 0;
};

}  // namespace ipinsights::simulate
