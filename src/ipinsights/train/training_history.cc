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

void FillScoreSummaries(const Model::Impl& model, EntityHistory* history, size_t threads) {
  std::vector<EntityRecord>& records = history->mutable_records();
  std::vector<TrainingRow> rows;
  for (const EntityRecord& record : records) {
    const uint64_t entity_hash = model.EntityHash(record.entity);
    for (const AddressCount& address : record.addresses) {
      rows.push_back(TrainingRow{entity_hash, address.ip});
    }
  }
  const std::vector<float> scores = ScoreRows(model, rows, threads);
  size_t next = 0;
  std::vector<std::pair<float, uint64_t>> scored;
  for (EntityRecord& record : records) {
    scored.clear();
    uint64_t total = 0;
    for (const AddressCount& address : record.addresses) {
      scored.emplace_back(scores[next++], address.events);
      total += address.events;
    }
    if (scored.empty()) continue;
    std::sort(scored.begin(), scored.end());
    record.score_min = scored.front().first;
    record.score_p05 = WeightedQuantile(scored, total, 0.05);
    record.score_p50 = WeightedQuantile(scored, total, 0.5);
  }
}

}  // namespace ipinsights
