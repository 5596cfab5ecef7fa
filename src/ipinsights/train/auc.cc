#include "ipinsights/train/auc.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace ipinsights {

double AreaUnderRoc(const std::vector<float>& positives, const std::vector<float>& negatives) {
  if (positives.empty() || negatives.empty()) return 0.5;
  std::vector<std::pair<float, bool>> all;
  all.reserve(positives.size() + negatives.size());
  for (float s : positives) all.emplace_back(s, true);
  for (float s : negatives) all.emplace_back(s, false);
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  // Sum of the (1-based, tie-averaged) ranks of the positives.
  double rank_sum = 0;
  size_t i = 0;
  while (i < all.size()) {
    size_t j = i;
    uint64_t positives_here = 0;
    while (j < all.size() && all[j].first == all[i].first) {
      positives_here += all[j].second ? 1 : 0;
      ++j;
    }
    const double average_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    rank_sum += average_rank * static_cast<double>(positives_here);
    i = j;
  }
  const double p = static_cast<double>(positives.size());
  const double n = static_cast<double>(negatives.size());
  return (rank_sum - p * (p + 1) / 2.0) / (p * n);
}

}  // namespace ipinsights
