// Evaluation: how well a model separates normal pairs from anomalous ones, the work behind
// `evaluate` (and the figures `demo` prints). Scores every pair in parallel, then derives
// the figures from LabeledScores (see labeled_scores.h for the exact definitions):
//   auc; per threshold recall / precision / false_positive_rate; recommended_threshold =
//   the largest threshold whose false-positive rate is <= target_fpr; and recall at a few
//   fixed false-positive rates (the operating point chosen on these same pairs, as the
//   quality targets of issue 3 are stated: "recall at 3% false positives").
// With labels that carry oracle_score, the same figures for the oracle come beside.
//
// Thread-safety: functions are reentrant; the Model is shared read-only.
//
//   EvaluationResult result = EvaluateLabels(*model, ReadLabels(path), {}, 0);
//   std::fputs(EvaluationTable(result).c_str(), stdout);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/dataset/labels_reader.h"
#include "ipinsights/eval/labeled_scores.h"
#include "ipinsights/model/model.h"

namespace ipinsights {

struct EvaluationOptions {
  std::vector<double> thresholds = {0.0};  // at least one
  double target_fpr = 0.01;                // in [0, 1]
  std::vector<double> fixed_fprs = {0.01, 0.03, 0.05};
};

struct RecallAtFpr {
  double target_fpr = 0;
  double threshold = 0;  // RecommendedThreshold(target_fpr)
  double recall = 0;
  double false_positive_rate = 0;  // actually reached (<= target_fpr)
};

struct SeparationFigures {
  uint64_t normal = 0;
  uint64_t anomalous = 0;
  double auc = 0;
  std::vector<ThresholdMetrics> at_thresholds;
  double target_fpr = 0;
  double recommended_threshold = 0;
  std::vector<RecallAtFpr> recall_at_fpr;
};

SeparationFigures ComputeFigures(const LabeledScores& scores, const EvaluationOptions& options);

struct EvaluationResult {
  std::string source;  // what was evaluated against, for the printout
  SeparationFigures model;
  std::optional<SeparationFigures> oracle;
  // Kept for reports (histograms, ROC curves).
  std::optional<LabeledScores> model_scores;
  std::optional<LabeledScores> oracle_scores;
};

// scores[i] = model.Score(entities[i], ips[i]), computed on `threads` threads (0 = all).
std::vector<float> ScoreAll(const Model& model, const std::vector<std::string_view>& entities,
                            const std::vector<IpAddress>& ips, size_t threads);

// Against a labels file. Throws Error when a class is missing.
EvaluationResult EvaluateLabels(const Model& model, const LabeledPairs& labels,
                                const EvaluationOptions& options, size_t threads);

// Normal pairs against generated anomalies.
EvaluationResult EvaluatePairs(const Model& model,
                               const std::vector<std::string_view>& normal_entities,
                               const std::vector<IpAddress>& normal_ips,
                               const std::vector<std::string_view>& anomalous_entities,
                               const std::vector<IpAddress>& anomalous_ips,
                               const EvaluationOptions& options, size_t threads);

// A human-readable table (model and, where present, oracle columns).
std::string EvaluationTable(const EvaluationResult& result);

// One JSON object: {"source":..,"normal":..,"anomalous":..,"auc":..,"threshold":..,
// "recall":..,"precision":..,"false_positive_rate":.. (those four for the first threshold),
// "thresholds":[{...} per threshold],"target_fpr":..,"recommended_threshold":..,
// "recall_at_fpr":[{"target_fpr":..,"threshold":..,"recall":..,"false_positive_rate":..}],
// "oracle":{same figures} or absent}. NaN (precision with nothing flagged) is null.
std::string EvaluationJson(const EvaluationResult& result);

}  // namespace ipinsights
