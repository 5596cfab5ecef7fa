#include "ipinsights/train/training_history.h"

#include <algorithm>
#include <utility>

#include "ipinsights/dataset/channel_listing.h"
#include "ipinsights/storage/storage.h"
#include "ipinsights/train/row_scores.h"

namespace ipinsights {
namespace {

// The score below which `share` of the weight lies: the first score whose cumulative weight
// reaches share * total. `scored` is sorted by score.
float WeightedQuantile(const std::vector<std::pair<float, uint64_t>>& scored, uint64_t total,
                       double share) {
  const double target = share * static_cast<double>(total);
  uint64_t cumulative = 0;
  for (const auto& [score, weight] : scored) {
    cumulative += weight;
    if (static_cast<double>(cumulative) >= target) return score;
  }
  return scored.back().first;
}

}  // namespace

std::vector<std::string> HistoriesBeside(const std::string& channel, std::string* missing) {
  if (channel == "-") {
    *missing = channel;
    return {};
  }
  std::vector<std::string> found;
  for (const ObjectInfo& object : ListChannel(channel)) {
    const std::string location = HistoryLocationFor(object.location);
    if (!OpenStorage(location).Exists(location)) {
      *missing = object.location;
      return {};
    }
    found.push_back(location);
  }
  return found;
}

void FillScoreSummaries(const Model::Impl& model, std::vector<TrainingRow>* training_rows,
                        EntityHistory* history, size_t threads) {
  // Every training event scored, the rows grouped by entity hash in place: 4 bytes per row
  // beside them (the scores), not a copy.
  std::vector<TrainingRow>& rows = *training_rows;
  std::sort(rows.begin(), rows.end(), [](const TrainingRow& a, const TrainingRow& b) {
    return a.entity_hash < b.entity_hash;
  });
  std::vector<float> scores(rows.size());
  ScoreRows(model, rows.data(), rows.size(), threads, RowScore::kScore, scores.data());

  // An entity without training rows (a history from other rows than these) falls back to
  // its kept addresses, each weighted by its events.
  std::vector<EntityRecord>& records = history->mutable_records();
  std::vector<std::pair<size_t, size_t>> ranges(records.size());
  std::vector<TrainingRow> fallback_rows;
  for (size_t r = 0; r < records.size(); ++r) {
    const uint64_t entity_hash = model.EntityHash(records[r].entity);
    const auto [begin, end] = std::equal_range(
        rows.begin(), rows.end(), TrainingRow{entity_hash, IpAddress()},
        [](const TrainingRow& a, const TrainingRow& b) { return a.entity_hash < b.entity_hash; });
    ranges[r] = {static_cast<size_t>(begin - rows.begin()),
                 static_cast<size_t>(end - rows.begin())};
    if (begin == end) {
      for (const AddressCount& address : records[r].addresses) {
        fallback_rows.push_back(TrainingRow{entity_hash, address.ip});
      }
    }
  }
  const std::vector<float> fallback_scores = ScoreRows(model, fallback_rows, threads);
  size_t next = 0;
  std::vector<std::pair<float, uint64_t>> scored;
  for (size_t r = 0; r < records.size(); ++r) {
    EntityRecord& record = records[r];
    scored.clear();
    uint64_t total = 0;
    const auto [begin, end] = ranges[r];
    if (begin < end) {
      for (size_t i = begin; i < end; ++i) scored.emplace_back(scores[i], 1);
      total = end - begin;
    } else {
      for (const AddressCount& address : record.addresses) {
        scored.emplace_back(fallback_scores[next++], address.events);
        total += address.events;
      }
    }
    if (scored.empty()) continue;
    std::sort(scored.begin(), scored.end());
    record.score_min = scored.front().first;
    record.score_p05 = WeightedQuantile(scored, total, 0.05);
    record.score_p50 = WeightedQuantile(scored, total, 0.5);
  }
}

}  // namespace ipinsights
