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
// Memory: the aggregator keeps findings in memory up to FindingOptions::memory_budget, then
// writes them, sorted by (kind, entity, ip, window), to a spill file in spill_folder and
// starts over (detect/finding_run.h). Finish merges the files, combining the parts of one
// finding exactly as if it had stayed in memory, and sorts the findings for output the same
// way: a budget's worth at a time, merged as they are read. So a day with millions of
// findings needs the budget, a read buffer per spill file, and disk for the findings.
// The latest time per object (for events without a time) stays in memory: one entry per
// object read.
//
// Thread-safety: FindingAggregator and FindingStream are used by one thread at a time.
//
//   FindingAggregator aggregator({.window_seconds = 86400});
//   for (const ScoredEvent& event : flagged) aggregator.Add(event);
//   FindingStream findings = std::move(aggregator).Finish();
//   Finding finding;
//   while (findings.Next(&finding)) ...
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
  // Bytes of findings kept in memory before spilling to disk (about 6 KB per finding with
  // the reasons of the history and an ASN database: some 40,000 findings).
  size_t memory_budget = size_t{256} << 20;
  std::string spill_folder = {};  // "" = $TMPDIR, else /tmp
};

// The findings of a run in output order: severity (highest first), then lowest score,
// entity, ip, window, kind. Read from memory or merged from spill files as it goes.
class FindingStream {
 public:
  ~FindingStream();
  FindingStream(FindingStream&&) noexcept;
  FindingStream& operator=(FindingStream&&) noexcept;

  // The next finding; false after the last. Throws Error when a spill file cannot be read.
  bool Next(Finding* finding);
  // Reads from the first finding again.
  void Rewind();
  uint64_t size() const;       // findings in all
  size_t spill_files() const;  // 0 when every finding fit in the budget
  // Every finding in a vector (tests, small runs): memory for all of them.
  std::vector<Finding> ReadAll() &&;

 private:
  friend class FindingAggregator;
  struct Impl;
  explicit FindingStream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class FindingAggregator {
 public:
  explicit FindingAggregator(const FindingOptions& options = {});
  ~FindingAggregator();
  // Adds one flagged event (anomalous, or carrying a rule reason).
  // Throws Error when the table had to spill and the spill file cannot be written.
  void Add(const ScoredEvent& event);
  size_t size() const;         // findings in memory now (spilled ones not counted)
  size_t spill_files() const;  // written so far
  // Throws Error when a spill file cannot be written or read.
  FindingStream Finish() &&;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipinsights
