// ScorePairs: the `score --pairs` pipeline. Reads `entity,ip` CSV, scores every good row,
// and writes one NDJSON line per row, in input order:
//   {"entity":"alice","ip":"192.0.2.7","score":3.25,"anomalous":false}
// `anomalous` is score < threshold; with only_anomalies the other rows are not written.
// The IP is written in canonical form (IpAddress::Format).
//
// One reader thread cuts the input into chunks of whole records; `threads` workers parse,
// score and format chunks in parallel; the calling thread writes finished chunks in order
// and reports bad rows (1-based line numbers) in order. Memory stays bounded: at most
// 2 * threads + 2 chunks are in flight.
//
// Thread-safety: `scorer` is called concurrently from the workers; ScorePairs itself may
// run on any thread.
//
//   ScorePairsSummary s = ScorePairs(OpenStorage(src).OpenSequential(src), out.get(),
//       [&](const std::string_view* e, const IpAddress* ip, size_t n, float* scores) {
//         model.ScoreBatch(e, ip, n, scores);
//       }, options, [&](const BadRow& b) { Report(FormatBadRow(src, b)); }, nullptr);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "ipinsights/base/progress.h"
#include "ipinsights/eval/pair_csv.h"
#include "ipinsights/pairs/ip_address.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {

// scores[i] for (entities[i], ips[i]), i < n.
using BatchScorer = std::function<void(const std::string_view* entities, const IpAddress* ips,
                                       size_t n, float* scores)>;

struct ScorePairsOptions {
  double threshold = 0;
  bool only_anomalies = false;
  size_t threads = 0;             // workers; 0 = every core
  size_t chunk_bytes = 1 << 20;   // input bytes per chunk
};

struct ScorePairsSummary {
  uint64_t bytes_read = 0;
  uint64_t lines = 0;
  uint64_t scored = 0;     // good rows
  uint64_t anomalous = 0;  // good rows below the threshold
  uint64_t written = 0;    // NDJSON lines written
  uint64_t bad_rows = 0;
};

// Throws Error when reading or writing fails (the output is then not closed). Bad rows
// never throw. `progress` (may be null) receives input bytes as chunks are written.
ScorePairsSummary ScorePairs(std::unique_ptr<SequentialReader> input, WritableFile* output,
                             const BatchScorer& scorer, const ScorePairsOptions& options,
                             const std::function<void(const BadRow&)>& on_bad_row,
                             Progress* progress);

}  // namespace ipinsights
