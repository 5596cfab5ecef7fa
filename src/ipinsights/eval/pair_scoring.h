// ScorePairs: the `score --pairs` pipeline. Reads `entity,ip` CSV, scores every good row,
// and writes one NDJSON line per row, in input order:
//   {"entity":"alice","ip":"192.0.2.7","score":3.25,"anomalous":false}
// `anomalous` is score < threshold; with only_anomalies the other rows are not written.
// The IP is written in canonical form (IpAddress::Format).
//
// One reader thread cuts the input into chunks of whole records; `threads` workers parse,
// score and format chunks in parallel; the calling thread writes finished chunks in order
// and reports bad rows in order to a BadRecordReporter, as BadRecord::AtLine(location,
// 1-based line, reason). Memory stays bounded: at most 2 * threads + 2 chunks are in flight.
// Rows are read by the training CSV's one reader (dataset/csv_chunk_reader.h,
// dataset/pair_csv.h): `score` accepts exactly the rows `train` accepts.
//
// Thread-safety: `scorer` is called concurrently from the workers; ScorePairs itself may
// run on any thread.
//
//   BadRecordLog bad_rows;
//   ScorePairsSummary s = ScorePairs(OpenStorage(src).OpenSequential(src), src, out.get(),
//       [&](const std::string_view* e, const IpAddress* ip, size_t n, float* scores) {
//         model.ScoreBatch(e, ip, n, scores);
//       }, options, &bad_rows, nullptr);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ipinsights/base/bad_record.h"
#include "ipinsights/base/progress.h"
#include "ipinsights/model/score_calibration.h"
#include "ipinsights/pairs/ip_address.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {

// scores[i] for (entities[i], ips[i]), i < n.
using BatchScorer = std::function<void(const std::string_view* entities, const IpAddress* ips,
                                       size_t n, float* scores)>;

struct ScorePairsOptions {
  double threshold = 0;
  // When set, each line also gets "false_positive_rate_at_score" (before "anomalous").
  const ScoreCalibration* calibration = nullptr;
  bool only_anomalies = false;
  size_t threads = 0;            // workers; 0 = every core
  size_t chunk_bytes = 1 << 20;  // input bytes per chunk
};

struct ScorePairsSummary {
  uint64_t bytes_read = 0;
  uint64_t lines = 0;
  uint64_t scored = 0;     // good rows
  uint64_t anomalous = 0;  // good rows below the threshold
  uint64_t written = 0;    // NDJSON lines written
  uint64_t bad_rows = 0;
};

// `location` names the input in bad-row reports; `reporter` (may be null: bad rows are only
// counted) is called on the calling thread, in input order. Throws Error when reading or
// writing fails, or what the reporter throws (a strict BadRecordLog); the output is then
// not closed. `progress` (may be null) receives input bytes as chunks are written.
ScorePairsSummary ScorePairs(std::unique_ptr<SequentialReader> input, const std::string& location,
                             WritableFile* output, const BatchScorer& scorer,
                             const ScorePairsOptions& options, BadRecordReporter* reporter,
                             Progress* progress);

}  // namespace ipinsights
