#include "ipinsights/train/training_set.h"

#include "ipinsights/base/hash.h"
#include "ipinsights/base/progress.h"

namespace ipinsights {

TrainingSet LoadTrainingSet(const std::string& location, uint64_t hash_seed, Progress* progress,
                            BadRecordReporter* bad_rows, HistoryBuilder* history) {
  TrainingSet set;
  PairReader reader(location, bad_rows);
  std::string_view entity;
  IpAddress ip;
  uint64_t reported_bytes = 0;
  while (reader.Next(&entity, &ip)) {
    set.rows.push_back(TrainingRow{Hash64(entity, hash_seed), ip});
    if (history != nullptr) history->Add(entity, ip, kUnknownDay);
    if (progress != nullptr && (set.rows.size() & 0xffff) == 0) {
      progress->Add(reader.stats().bytes - reported_bytes);
      reported_bytes = reader.stats().bytes;
    }
  }
  if (progress != nullptr) progress->Add(reader.stats().bytes - reported_bytes);
  set.rows.shrink_to_fit();
  set.stats = reader.stats();
  return set;
}

}  // namespace ipinsights
