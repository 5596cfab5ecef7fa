// LabeledScores: the scores of normal and of anomalous pairs, sorted once, and every
// separation figure `evaluate` reports (and the HTML report will plot) derived from them.
//
// Conventions (shared/spec/ALGORITHM.md): a higher score means more normal. A pair is
// flagged anomalous when its score is strictly below the threshold. Anomalies are the
// positive class, so:
//   recall              = flagged anomalies / anomalies
//   precision           = flagged anomalies / flagged pairs (NaN when nothing is flagged)
//   false_positive_rate = flagged normal pairs / normal pairs
//   auc                 = P(normal score > anomalous score) + P(equal) / 2, computed exactly
//                         (Mann-Whitney with average ranks for ties).
// RecommendedThreshold(f) is the largest threshold whose false-positive rate is <= f: with
// normal scores sorted ascending s[0] <= ... <= s[n-1] and k = floor(f * n), it is s[k]
// (flagging only scores strictly below s[k], at most k normal pairs). For k >= n every
// normal pair may be flagged and the result is +infinity.
//
// Thread-safety: immutable after construction; const methods may run concurrently.
//
//   LabeledScores scores(normal, anomalous);       // throws Error if a class is empty
//   double auc = scores.Auc();
//   ThresholdMetrics at0 = scores.AtThreshold(0.0f);
//   float t = scores.RecommendedThreshold(0.01);
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ipinsights {

struct ThresholdMetrics {
  double threshold = 0;
  uint64_t flagged_anomalous = 0;  // true positives
  uint64_t flagged_normal = 0;     // false positives
  double recall = 0;
  double precision = 0;  // NaN when nothing is flagged
  double false_positive_rate = 0;
};

struct RocPoint {
  double threshold = 0;  // pairs with score < threshold are flagged
  double false_positive_rate = 0;
  double true_positive_rate = 0;  // = recall
};

struct ScoreHistogram {
  double low = 0;                   // left edge of the first bin
  double high = 0;                  // right edge of the last bin
  std::vector<uint64_t> normal;     // counts per bin; scores outside [low, high] clamp
  std::vector<uint64_t> anomalous;  // to the first or last bin
};

class LabeledScores {
 public:
  // Throws Error when either class is empty ("needs both normal and anomalous pairs") or a
  // score is NaN. Infinite scores are allowed (an oracle may be certain).
  LabeledScores(std::vector<float> normal, std::vector<float> anomalous);

  size_t normal_count() const { return normal_.size(); }
  size_t anomalous_count() const { return anomalous_.size(); }
  // Ascending.
  const std::vector<float>& normal_scores() const { return normal_; }

  double Auc() const;
  ThresholdMetrics AtThreshold(double threshold) const;
  // target_fpr must be in [0, 1] (IPI_CHECK; the CLI validates user input).
  double RecommendedThreshold(double target_fpr) const;

  // The ROC curve from (0,0) to (1,1), one point per distinct score, thinned to at most
  // max_points points (the first and last always kept). Ordered by threshold ascending.
  std::vector<RocPoint> RocCurve(size_t max_points) const;

  // `bins` equal-width bins spanning the finite scores of both classes.
  ScoreHistogram Histogram(size_t bins) const;
  // `bins` equal-width bins over [low, high] (low < high, both finite); scores outside
  // count in the first or last bin.
  ScoreHistogram Histogram(size_t bins, double low, double high) const;
  // The q-quantile (0 <= q <= 1) of each class's scores: the score at rank floor(q * (n-1)).
  float NormalQuantile(double q) const;
  float AnomalousQuantile(double q) const;

 private:
  std::vector<float> normal_;
  std::vector<float> anomalous_;
};

}  // namespace ipinsights
