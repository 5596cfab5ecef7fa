// ScoreLogs: `score cloudtrail|waf --input SRC...`: reads logs with prepare's reader
// (logs/log_scan.h: same listing, date pruning, entity options and skip reasons), scores
// every pair-yielding record once, and writes one JSON line per scored event, in listing
// order (objects in listing order, records in record order; identical for any thread
// count). Format: docs/formats/findings.md, "Scored events".
//
// An event is flagged when its score is below the threshold (`anomalous`), or when the
// instance rule of event_explainer.h fires. Flagged events carry reasons and are handed,
// as ScoredEvents and in listing order, to `on_flagged` (the findings side).
//
// Work per event: the record's fields are parsed (LogReaderOptions::want_event_fields),
// events are scored in batches per object on the reading workers (Model::ScoreBatch, whose
// last layer is folded once per distinct entity of a batch), and JSON is formatted there
// too; only flagged events are explained and copied. Memory stays bounded as in ScanLogs:
// a window of objects in flight, each object's output flushed past a fixed size.
//
// Thread-safety: one call at a time; `on_flagged` runs on one thread at a time, in order.
//
//   LogScoreOptions options;
//   options.kind = LogKind::kCloudTrail;
//   options.inputs = {"s3://trail/AWSLogs/"};
//   options.model = model.get();
//   options.output = output.get();
//   LogScoreSummary summary = ScoreLogs(options);
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ipinsights/base/bad_record.h"
#include "ipinsights/detect/event_explainer.h"
#include "ipinsights/detect/scored_event.h"
#include "ipinsights/logs/log_listing.h"
#include "ipinsights/logs/skip_reason.h"
#include "ipinsights/model/model.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {

struct LogScoreOptions {
  LogKind kind = LogKind::kCloudTrail;
  std::vector<std::string> inputs;   // files, folders, s3:// prefixes
  std::optional<EntitySpec> entity;  // default: DefaultEntitySpec(kind)
  DayRange days;
  bool ipv4_only = false;
  bool keep_corrupt = false;
  uint64_t max_decompressed_bytes = 0;
  size_t threads = 0;  // 0: all cores
  // Outputs the listing must not read back (the caller's --output and similar).
  std::vector<std::string> exclude;

  const Model* model = nullptr;                   // required
  float threshold = 0;                            // anomalous: score < threshold
  const ScoreCalibration* calibration = nullptr;  // false_positive_rate_at_score; may be null
  const EventExplainer* explainer = nullptr;      // reasons and the instance rule; may be null

  WritableFile* output = nullptr;  // scored events as NDJSON; nullptr: none written
  bool only_flagged = false;       // write only flagged events
  std::function<void(ScoredEvent&& event)> on_flagged;  // may be empty

  BadRecordReporter* bad_records = nullptr;
  // Called once with (0, total stored bytes), then as objects are read.
  std::function<void(uint64_t newly_read, uint64_t total)> progress;
  // Called with the objects to read, once listed and before any is read (may throw: the
  // run then stops before the scan). May be empty.
  std::function<void(const std::vector<ObjectInfo>& objects)> on_listed;
};

struct LogScoreSummary {
  uint64_t files = 0;
  uint64_t digest_files = 0;
  uint64_t stored_bytes = 0;
  uint64_t json_bytes = 0;
  uint64_t records = 0;
  uint64_t scored = 0;        // pair-yielding records
  uint64_t anomalous = 0;     // score below the threshold
  uint64_t rule_flagged = 0;  // flagged by the instance rule (anomalous or not)
  uint64_t flagged = 0;       // anomalous or rule-flagged
  uint64_t written = 0;       // lines written
  SkipCounts skipped;
  std::vector<std::string> warnings;
  uint64_t problem_count = 0;
  double seconds = 0;
  size_t threads = 0;
  std::string json_kernel;
};

// Throws UsageError for bad options, Error for unreadable inputs or a failed output, and
// what `bad_records` throws (strict).
LogScoreSummary ScoreLogs(const LogScoreOptions& options);

}  // namespace ipinsights
