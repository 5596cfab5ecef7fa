#include "ipinsights/eval/labeled_scores.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ipinsights/base/error.h"

namespace ipinsights {
namespace {

void SortChecked(std::vector<float>* scores, const char* what) {
  for (float s : *scores) {
    if (std::isnan(s)) throw Error(std::string("evaluation: a ") + what + " pair has a NaN score");
  }
  std::sort(scores->begin(), scores->end());
}

// Number of elements of the ascending `sorted` strictly below `threshold`.
uint64_t CountBelow(const std::vector<float>& sorted, double threshold) {
  return static_cast<uint64_t>(
      std::lower_bound(sorted.begin(), sorted.end(), threshold,
                       [](float s, double t) { return static_cast<double>(s) < t; }) -
      sorted.begin());
}

}  // namespace

LabeledScores::LabeledScores(std::vector<float> normal, std::vector<float> anomalous)
    : normal_(std::move(normal)), anomalous_(std::move(anomalous)) {
  if (normal_.empty() || anomalous_.empty()) {
    throw Error("evaluation needs both normal and anomalous pairs (got " +
                std::to_string(normal_.size()) + " normal, " + std::to_string(anomalous_.size()) +
                " anomalous)");
  }
  SortChecked(&normal_, "normal");
  SortChecked(&anomalous_, "anomalous");
}

double LabeledScores::Auc() const {
  // Walk both sorted lists by groups of equal score. Each normal pair wins against every
  // anomalous pair strictly below it and half-wins against each tie; counting in halves
  // keeps the sum an exact integer (at most 2 * 2^32 * 2^32 fits for realistic sizes; use
  // long double beyond).
  long double twice_wins = 0;
  size_t i = 0, j = 0;  // i: normal, j: anomalous
  const size_t n = normal_.size(), a = anomalous_.size();
  while (i < n) {
    float value = normal_[i];
    size_t group_end = i;
    while (group_end < n && normal_[group_end] == value) ++group_end;
    while (j < a && anomalous_[j] < value) ++j;
    size_t ties_end = j;
    while (ties_end < a && anomalous_[ties_end] == value) ++ties_end;
    uint64_t normals_in_group = group_end - i;
    twice_wins += static_cast<long double>(normals_in_group) *
                  static_cast<long double>(2 * j + (ties_end - j));
    i = group_end;
  }
  return static_cast<double>(twice_wins /
                             (2.0L * static_cast<long double>(n) * static_cast<long double>(a)));
}

ThresholdMetrics LabeledScores::AtThreshold(double threshold) const {
  ThresholdMetrics m;
  m.threshold = threshold;
  m.flagged_anomalous = CountBelow(anomalous_, threshold);
  m.flagged_normal = CountBelow(normal_, threshold);
  m.recall = static_cast<double>(m.flagged_anomalous) / static_cast<double>(anomalous_.size());
  m.false_positive_rate =
      static_cast<double>(m.flagged_normal) / static_cast<double>(normal_.size());
  uint64_t flagged = m.flagged_anomalous + m.flagged_normal;
  m.precision = flagged == 0
                    ? std::numeric_limits<double>::quiet_NaN()
                    : static_cast<double>(m.flagged_anomalous) / static_cast<double>(flagged);
  return m;
}

double LabeledScores::RecommendedThreshold(double target_fpr) const {
  IPI_CHECK(target_fpr >= 0 && target_fpr <= 1);
  const size_t n = normal_.size();
  // k = floor(target_fpr * n), the most normal pairs we may flag. The product can round
  // below an exact integer (0.29 * 100 = 28.999...), so step up while (k+1)/n still
  // fits: a correctly rounded division equals the literal target when the ratio is exact.
  size_t k = static_cast<size_t>(std::floor(target_fpr * static_cast<double>(n)));
  while (k < n && static_cast<double>(k + 1) / static_cast<double>(n) <= target_fpr) ++k;
  while (k > 0 && static_cast<double>(k) / static_cast<double>(n) > target_fpr) --k;
  if (k >= n) return std::numeric_limits<double>::infinity();
  return normal_[k];
}

std::vector<RocPoint> LabeledScores::RocCurve(size_t max_points) const {
  // Thresholds at every distinct score, plus one above everything: flagging "< t".
  std::vector<RocPoint> points;
  const double n = static_cast<double>(normal_.size());
  const double a = static_cast<double>(anomalous_.size());
  size_t i = 0, j = 0;
  points.push_back({-std::numeric_limits<double>::infinity(), 0.0, 0.0});
  while (i < normal_.size() || j < anomalous_.size()) {
    float next;
    if (j >= anomalous_.size() || (i < normal_.size() && normal_[i] < anomalous_[j])) {
      next = normal_[i];
    } else {
      next = anomalous_[j];
    }
    while (i < normal_.size() && normal_[i] == next) ++i;
    while (j < anomalous_.size() && anomalous_[j] == next) ++j;
    // Threshold just above `next`: everything up to and including it is flagged.
    double threshold =
        std::nextafter(static_cast<double>(next), std::numeric_limits<double>::infinity());
    points.push_back({threshold, static_cast<double>(i) / n, static_cast<double>(j) / a});
  }
  if (max_points < 2) max_points = 2;
  if (points.size() <= max_points) return points;
  std::vector<RocPoint> thinned;
  thinned.reserve(max_points);
  for (size_t p = 0; p < max_points; ++p) {
    size_t index = p * (points.size() - 1) / (max_points - 1);
    thinned.push_back(points[index]);
  }
  return thinned;
}

float LabeledScores::NormalQuantile(double q) const {
  IPI_CHECK(q >= 0 && q <= 1);
  return normal_[static_cast<size_t>(q * static_cast<double>(normal_.size() - 1))];
}

float LabeledScores::AnomalousQuantile(double q) const {
  IPI_CHECK(q >= 0 && q <= 1);
  return anomalous_[static_cast<size_t>(q * static_cast<double>(anomalous_.size() - 1))];
}

ScoreHistogram LabeledScores::Histogram(size_t bins) const {
  IPI_CHECK(bins > 0);
  double low = std::numeric_limits<double>::infinity();
  double high = -low;
  for (const auto* scores : {&normal_, &anomalous_}) {
    for (float s : *scores) {
      if (!std::isfinite(s)) continue;
      low = std::min(low, static_cast<double>(s));
      high = std::max(high, static_cast<double>(s));
    }
  }
  if (!std::isfinite(low)) low = high = 0;
  if (high <= low) high = low + 1;
  return Histogram(bins, low, high);
}

ScoreHistogram LabeledScores::Histogram(size_t bins, double low, double high) const {
  IPI_CHECK(bins > 0 && std::isfinite(low) && std::isfinite(high) && low < high);
  ScoreHistogram h;
  h.low = low;
  h.high = high;
  h.normal.assign(bins, 0);
  h.anomalous.assign(bins, 0);
  const double width = (high - low) / static_cast<double>(bins);
  auto bin_of = [&](float s) -> size_t {
    double x = (static_cast<double>(s) - low) / width;
    if (!(x > 0)) return 0;  // also -inf
    if (x >= static_cast<double>(bins)) return bins - 1;
    return static_cast<size_t>(x);
  };
  for (float s : normal_) ++h.normal[bin_of(s)];
  for (float s : anomalous_) ++h.anomalous[bin_of(s)];
  return h;
}

}  // namespace ipinsights
