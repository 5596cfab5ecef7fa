// RunPrepareJob: the whole `prepare` job: list the log objects of the inputs (pruned to the
// days asked for), read them in parallel, write one `entity,ip` CSV row per event to the
// training output (and, with a split, the validation output), in listing order, and sum up
// what was read and skipped. The CLI, `demo` and `pipeline` call it; it prints nothing.
// Output format: docs/formats/training-csv.md.
//
// Malformed files and records go to `bad_records` in listing order (see logs/log_scan.h);
// a strict BadRecordLog makes the first one fatal. Both outputs appear whole or not at all:
// they are synced before either is renamed into place, the training file last, so a
// failure leaves an earlier training file untouched.
//
// Every row written to the training output (not the validation output's) also goes into an
// EntityHistory (history/entity_history.h) with its day, written beside it as
// HistoryLocationFor(output) (DEST.history; with a shard part-I-of-N.history; none for
// stdout or without write_history), synced and renamed with the other outputs, before the
// training file. Format: docs/formats/history.md.
//
// With a shard (dataset/shard.h) the job reads only the shard's range of the object list and
// `output` / `validation_output` are folders or S3 prefixes: it writes DEST/part-I-of-N (and
// DEST2/part-I-of-N), then DEST/part-I-of-N.summary.json (PrepareSummaryJson), last, so a
// summary says its parts are complete. The parts concatenated in index order are the output
// of the same run without a shard, byte for byte, and the summaries' counters sum to its
// summary (except `entities`, distinct per part). An empty shard is not an error.
//
// Thread-safety: one job at a time per output; `progress` and `bad_records` are called from
// worker threads (bad_records serialised).
//
//   PrepareOptions options;
//   options.kind = LogKind::kCloudTrail;
//   options.inputs = {"s3://trail-bucket/AWSLogs/"};
//   options.output = "train.csv";
//   options.days.to = ParseDate("2024-05-31");
//   BadRecordLog bad_records;
//   options.bad_records = &bad_records;
//   PrepareSummary summary = RunPrepareJob(options);
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ipinsights/base/bad_record.h"
#include "ipinsights/dataset/shard.h"
#include "ipinsights/dataset/split.h"
#include "ipinsights/logs/log_listing.h"
#include "ipinsights/logs/skip_reason.h"
#include "ipinsights/pairs/entity.h"

namespace ipinsights {

struct PrepareOptions {
  LogKind kind = LogKind::kCloudTrail;
  std::vector<std::string> inputs;  // files, folders (walked recursively), s3:// or "-"
  std::string output;               // training CSV: a file, s3://bucket/key or "-"
  std::string validation_output;    // with a split, and only then
  // This run is one shard of N: `output` and `validation_output` are folders or S3 prefixes
  // that receive part-I-of-N and part-I-of-N.summary.json. With N > 1 an empty result (the
  // shard's or one side of the split) is not an error: only the whole run can judge that.
  std::optional<Shard> shard;
  std::optional<EntitySpec> entity;  // default: DefaultEntitySpec(kind)
  // Only logs of these days: prunes what is listed (logs/log_listing.h) and filters records
  // by their own event time.
  DayRange days;
  // Split::None() with a validation output: out-of-time at the last day of `days` (its
  // events go to validation), which needs days.to.
  Split split = Split::None();
  bool ipv4_only = false;
  // Keep the pairs of a gzip object whose CRC32 / length check fails (else dropped).
  bool keep_corrupt = false;
  // Decompressed bytes one gzip object may yield (0: no cap); the rest is malformed.
  uint64_t max_decompressed_bytes = 0;
  size_t threads = 0;  // 0: all cores
  // Whether a run that writes no pair succeeds. By default it throws Error saying what was
  // read and skipped (no log files for the dates; records of the other kind), before any
  // output is renamed into place.
  bool allow_empty = false;
  // Write the entity history beside the training output (`prepare --no-history`: false).
  // It makes the reader parse every record's event time.
  bool write_history = true;
  // Where malformed files and records go, in listing order; nullptr: counted only.
  BadRecordReporter* bad_records = nullptr;
  // Called once the inputs are listed (newly_read 0, total = their stored bytes), then as
  // objects are read (stored bytes since the last call). From worker threads, possibly at
  // once. May be empty.
  std::function<void(uint64_t newly_read, uint64_t total)> progress;
};

struct PrepareSummary {
  uint64_t files = 0;                     // objects listed, digest objects included
  uint64_t digest_files = 0;              // CloudTrail digest objects skipped
  uint64_t stored_bytes = 0;              // bytes read from storage, as stored (compressed)
  uint64_t json_bytes = 0;                // decompressed JSON parsed
  uint64_t records = 0;                   // = pairs + validation pairs + skipped - skipped.digest
  uint64_t pairs_written = 0;             // rows in the training output
  uint64_t validation_pairs_written = 0;  // rows in the validation output
  uint64_t entities = 0;                  // distinct entities in both outputs
  SkipCounts skipped;
  std::vector<std::string> warnings;  // not errors: an implausible compression ratio
  double seconds = 0;                 // reading and writing (after the listing)
  size_t threads = 0;                 // worker threads used
  std::string json_kernel;            // "haswell" or "fallback"
  // Where the rows went: `output` and `validation_output`, or with a shard the part files.
  std::string output_location;
  std::string validation_location;    // empty without a split
  std::string history_location;       // the history written; empty when none
  uint64_t history_entities = 0;      // entities in it
  uint64_t history_bytes = 0;         // its size
  std::optional<Shard> shard;         // as asked for
  std::string summary_location;       // with a shard: the summary file written
  std::vector<std::string> problems;  // the first BadRecordLog::kDefaultCap bad records
  uint64_t problem_count = 0;         // every bad record reported
};

// Throws UsageError for inconsistent options (the messages name the CLI's flags), Error for
// unreadable inputs, unwritable outputs or what `bad_records` throws.
PrepareSummary RunPrepareJob(const PrepareOptions& options);

// The summary as one line of JSON (`prepare --json`, and a shard's summary file), ending in
// '\n'. Format: docs/formats/training-csv.md.
std::string PrepareSummaryJson(const PrepareSummary& summary);

}  // namespace ipinsights
