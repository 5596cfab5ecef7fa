// ScoredEvent and Reason: one log event after scoring, as the findings side sees it (the
// flagged ones only: `score` writes every event's JSON line straight from the log reader's
// views, and copies an event into a ScoredEvent only when it is anomalous).
//
// Reason codes are stable names (docs/formats/findings.md); scripts and suppressions match
// them. Each reason has a sentence for a person and the figures behind it as a JSON object.
//
//   entity_unseen                          the entity is not in the training history
//   ip_new_for_entity                      the address is not among the entity's addresses
//   fine_network_new_for_entity            its /24 (IPv6 /48) is new for the entity
//   coarse_network_new_for_entity          its /16 (IPv6 /32) is new for the entity
//   network_new_across_entities            no entity was seen on its /24 (/48)
//   network_rare_across_entities           few entities were seen on it (facts: entities)
//   nearest_known_network                  the entity's known network sharing the longest
//                                          prefix with the address, and its share of the
//                                          entity's events
//   score_below_threshold                  the model's score is under the threshold (facts:
//                                          score, threshold, false_positive_rate)
//   score_below_entity_history             lower than the entity's own training pairs score
//                                          (facts: score, entity_min, entity_p05)
//   instance_credentials_outside_instance  an EC2 instance-role session (session name = the
//                                          instance id) used from an address other than its
//                                          instance's: stolen instance credentials
//   asn_new_for_entity                     (with --asn-db) the address's ASN is not among
//                                          those of the entity's known networks
//   address_owner                          (with --asn-db / --aws-ip-ranges) ASN, AS
//                                          organisation, country, inside AWS or not
//
// Thread-safety: value types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/detect/network_info.h"
#include "ipinsights/pairs/entity.h"  // LogKind
#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {

struct Reason {
  std::string code;          // a stable name from the list above
  std::string message;       // one sentence for a person
  std::string facts = "{}";  // a JSON object: the figures behind the sentence
};

// "long_term" for AKIA access keys, "temporary" for ASIA, "" otherwise.
std::string_view CredentialTypeOf(std::string_view access_key_id);

struct ScoredEvent {
  LogKind kind = LogKind::kCloudTrail;
  std::string entity;
  IpAddress ip;
  float score = 0;
  double false_positive_rate = 1;  // how often a normal pair scores this low
  bool anomalous = false;
  bool has_time = false;
  // Unix seconds; without a time of its own, the latest time of its object's earlier events.
  int64_t time = 0;

  // The record's fields (logs/log_reader.h EventFields), owned.
  std::string object;
  uint64_t record_index = 0;
  std::string event_time;
  std::string event_name;
  std::string event_source;
  std::string aws_region;
  std::string account_id;  // recipientAccountId
  std::string event_id;    // CloudTrail eventID, WAF httpRequest.requestId
  std::string user_agent;
  std::string identity_type;
  std::string access_key_id;
  std::string credential_type;  // CredentialTypeOf(access_key_id)
  std::string uri;
  std::string http_method;
  std::string action;   // WAF action
  std::string country;  // WAF httpRequest.country

  NetworkInfo network;  // empty without --asn-db / --aws-ip-ranges
  std::vector<Reason> reasons;
  // What a finding lists as "distinct API calls or URIs": CloudTrail
  // "eventSource:eventName" (e.g. "s3.amazonaws.com:GetObject"), WAF "METHOD uri".
  std::string Activity() const;
};

}  // namespace ipinsights
