// TrainingSet: training pairs in the compact in-memory form the trainer shuffles and
// reads: 24 bytes per row (the entity's 64-bit hash under the model's seed, and the
// 16-byte address); entity strings are not kept.
//
// Thread-safety: a plain value; LoadTrainingSet is safe to call concurrently.
//
//   TrainingSet set = LoadTrainingSet("train.csv", model.hash_seed(), progress);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ipinsights/dataset/pair_reader.h"
#include "ipinsights/history/entity_history.h"
#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {

class Progress;

struct TrainingRow {
  uint64_t entity_hash;  // Hash64(entity, hash_seed)
  IpAddress ip;
};
static_assert(sizeof(TrainingRow) == 24, "a training row must stay compact");

struct TrainingSet {
  std::vector<TrainingRow> rows;
  PairReadStats stats;  // rows read, bad rows skipped, bytes
};

// Reads every pair at `location` (see PairReader). `progress` (may be null) gets bytes;
// `bad_rows` (may be null) gets every bad row, and may throw to stop the read (strict).
// `history` (may be null) gets every good pair, without a day (`train` builds a history
// from the rows when `prepare` left none beside them).
TrainingSet LoadTrainingSet(const std::string& location, uint64_t hash_seed, Progress* progress,
                            BadRecordReporter* bad_rows = nullptr,
                            HistoryBuilder* history = nullptr);

}  // namespace ipinsights
