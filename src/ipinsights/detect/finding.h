// Finding: flagged events of one (entity, IP) pair within one window, the unit a security
// team acts on (docs/formats/findings.md). FindingAggregator groups ScoredEvents into them.
//
// Grouping: window = floor(event time / window_seconds) (UTC, aligned to the epoch: with
// the default one day, calendar days). An event without a time (has_time false) goes to the
// window of the latest time seen so far in its object: the later of the flagged events'
// times and ScoredEvent::time, which the scorer sets to the latest time of any event of the
// object before it (0, the Unix epoch, when none).
// Severity (SeverityOf) is derived from the reasons and the false-positive rate:
//   HIGH    instance_credentials_outside_instance; or coarse_network_new_for_entity with
//           false_positive_rate <= 0.001
//   MEDIUM  coarse_network_new_for_entity, asn_new_for_entity, or false_positive_rate <= 0.001
//   LOW     everything else
// The finding's id is stable: the same pair and window give the same id in every run,
// so Security Hub updates a finding instead of duplicating it.
//
// Thread-safety: FindingAggregator is used by one thread at a time.
//
//   FindingAggregator aggregator({.window_seconds = 86400});
//   for (const ScoredEvent& event : flagged) aggregator.Add(event);
//   std::vector<Finding> findings = std::move(aggregator).Finish();
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "ipinsights/detect/scored_event.h"

namespace ipinsights {

enum class Severity : uint8_t { kInformational, kLow, kMedium, kHigh, kCritical };
// "INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL" (ASFF's labels).
std::string_view SeverityName(Severity severity);

struct Finding {
  std::string id;  // "ipinsights/<kind>/<window start date>/<16 hex digits of XXH3(entity, ip)>"
  LogKind kind = LogKind::kCloudTrail;
  std::string entity;
  IpAddress ip;
  int64_t window_start = 0;  // Unix seconds, inclusive
  int64_t window_end = 0;    // exclusive
  int64_t first_seen = 0;    // Unix seconds of the first and last flagged event
  int64_t last_seen = 0;
  std::string first_event_time;  // as the records wrote them
  std::string last_event_time;
  uint64_t events = 0;
  std::vector<std::string> sample_event_ids;  // the first max_sample_events, in time order
  std::vector<std::string> activities;        // distinct ScoredEvent::Activity(), first seen first
  bool activities_truncated = false;
  float lowest_score = 0;
  double false_positive_rate = 1;  // at lowest_score
  std::vector<Reason> reasons;     // the lowest-scoring event's; rule reasons of any event first
  Severity severity = Severity::kLow;
  // From the lowest-scoring event.
  std::string account_id;
  std::string region;
  std::string identity_type;
  std::string credential_type;
  std::string user_agent;
  NetworkInfo network;
  // Sample origin (object and record index of the lowest-scoring event).
  std::string object;
  uint64_t record_index = 0;
};

Severity SeverityOf(const Finding& finding);

struct FindingOptions {
  int64_t window_seconds = 86400;
  size_t max_sample_events = 10;
  size_t max_activities = 20;
};

class FindingAggregator {
 public:
  explicit FindingAggregator(const FindingOptions& options = {});
  ~FindingAggregator();
  // Adds one flagged event (anomalous, or carrying a rule reason).
  void Add(const ScoredEvent& event);
  size_t size() const;  // findings so far
  // Findings sorted by severity (highest first), then lowest score, entity, ip, window.
  std::vector<Finding> Finish() &&;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipinsights
