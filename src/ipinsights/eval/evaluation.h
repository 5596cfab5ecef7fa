// Evaluation: how well a model separates normal pairs from anomalous ones, the work behind
// `evaluate` (and the figures `demo` prints). Scores every pair in parallel, then derives
// the figures from LabeledScores (see labeled_scores.h for the exact definitions):
//   auc; per threshold recall / precision / false_positive_rate; recommended_threshold =
//   the largest threshold whose false-positive rate is <= target_fpr; and recall at a few
//   fixed false-positive rates (the operating point chosen on these same pairs, as the
//   quality targets of issue 3 are stated: "recall at 3% false positives").
// With labels that carry oracle_score, the same figures for the oracle come beside; with
// labels that carry `kind`, the figures per attack kind. The figures the HTML report plots
// (score histograms, the ROC curve on a log false-positive axis, training curves from
// metrics.json) are computed here too and printed by EvaluationJson, so the page
// (report_html.h) never shows a number the JSON lacks.
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
  std::vector<double> fixed_fprs = {0.001, 0.01, 0.03, 0.05};
  size_t histogram_bins = 50;
  // The ROC curve is kept at up to two points (first and last) per bin of log10(FPR) over
  // [roc_min_fpr, 1]: enough to draw it on a log axis, a few hundred points in the JSON.
  double roc_min_fpr = 1e-4;
  size_t roc_bins_per_decade = 50;
};

struct RecallAtFpr {
  double target_fpr = 0;
  double threshold = 0;  // RecommendedThreshold(target_fpr)
  double recall = 0;
  double false_positive_rate = 0;  // actually reached (<= target_fpr)
  double precision = 0;            // NaN when nothing is flagged
  uint64_t flagged_anomalous = 0;
  uint64_t flagged_normal = 0;  // = false_positive_rate x normal: the "alerts per day"
};

// One attack kind (labels' `kind` column) against all the normal pairs.
struct KindFigures {
  std::string kind;
  uint64_t anomalous = 0;
  double auc = 0;
  double recall = 0;                  // at recommended_threshold
  std::vector<double> recall_at_fpr;  // at each RecallAtFpr's threshold, in its order
};

struct SeparationFigures {
  uint64_t normal = 0;
  uint64_t anomalous = 0;
  double auc = 0;
  std::vector<ThresholdMetrics> at_thresholds;
  double target_fpr = 0;
  double recommended_threshold = 0;
  std::vector<RecallAtFpr> recall_at_fpr;
  ThresholdMetrics at_recommended;   // AtThreshold(recommended_threshold)
  ScoreHistogram histogram;          // histogram_bins bins, 0.5%-99.5% quantiles
  std::vector<RocPoint> roc;         // thinned for the log axis (EvaluationOptions)
  std::vector<KindFigures> by_kind;  // empty unless the labels carry `kind`
};

SeparationFigures ComputeFigures(const LabeledScores& scores, const EvaluationOptions& options);

// The ROC points drawn on a log FPR axis over [min_fpr, 1]: for every bin of log10(FPR)
// (bins_per_decade per decade) the first and last point in it; the points below min_fpr
// (FPR 0 included) count as one bin. Always keeps (0,0) and (1,1).
std::vector<RocPoint> RocForLogAxis(const LabeledScores& scores, double min_fpr,
                                    size_t bins_per_decade);

// Loss and validation AUC per epoch, as train wrote them to metrics.json.
struct TrainingEpoch {
  uint64_t epoch = 0;  // 1-based
  double loss = 0;
  double validation_auc = 0;  // NaN when training had no validation set
};

struct TrainingCurves {
  std::string metrics;  // the metrics.json location
  std::vector<TrainingEpoch> epochs;
};

struct EvaluationResult {
  std::string source;  // what was evaluated against, for the printout
  SeparationFigures model;
  std::optional<SeparationFigures> oracle;
  // Kept for reports (histograms, ROC curves).
  std::optional<LabeledScores> model_scores;
  std::optional<LabeledScores> oracle_scores;
  std::string model_file;  // the model evaluated, where known (for the report's heading)
  // Training curves (AttachTrainingCurves); when absent, training_note says why.
  std::optional<TrainingCurves> training;
  std::string training_note;
};

// Reads metrics.json beside `model_location` (same folder or prefix) into result->training
// and sets result->model_file. When there is none, leaves training empty and sets
// training_note ("no metrics.json beside the model"). Throws Error naming the file when it
// exists but is not what train writes.
void AttachTrainingCurves(EvaluationResult* result, const std::string& model_location);

// Parses metrics.json text (`name` for messages). Throws Error.
TrainingCurves ParseTrainingCurves(std::string_view text, const std::string& name);

// scores[i] = model.Score(entities[i], ips[i]), computed on `threads` threads (0 = all).
std::vector<float> ScoreAll(const Model& model, const std::vector<std::string_view>& entities,
                            const std::vector<IpAddress>& ips, size_t threads);

// Against a labels file. Throws Error when a class is missing. With `kind`, the figures of
// every kind of the anomalous rows (in order of first appearance) go in by_kind.
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

// One JSON object: {"source":..,"model_file":.. (when known),"normal":..,"anomalous":..,
// "auc":..,"threshold":..,"recall":..,"precision":..,"false_positive_rate":.. (those four for
// the first threshold),"thresholds":[{...} per threshold],"target_fpr":..,
// "recommended_threshold":..,"at_recommended":{"threshold","recall","precision",
// "false_positive_rate","flagged_anomalous","flagged_normal","alerts_per_day"},
// "recall_at_fpr":[{"target_fpr","threshold","recall","false_positive_rate","precision",
// "flagged_anomalous","flagged_normal","alerts_per_day"}],
// "histogram":{"low","high","bin_width","normal":[counts],"anomalous":[counts]},
// "roc":{"false_positive_rate":[..],"true_positive_rate":[..],"threshold":[..]},
// "by_kind":[{"kind","anomalous","auc","recall","recall_at_fpr":[..]}] (with kinds),
// "oracle":{the same figures} or absent,
// "training":{"metrics":..,"epochs":[{"epoch","loss","validation_auc"}]} or null with
// "training_note":".."}. alerts_per_day = false_positive_rate x normal (the normal events
// of the evaluated day) = flagged_normal. NaN (precision with nothing flagged) and
// infinities are null.
std::string EvaluationJson(const EvaluationResult& result);

}  // namespace ipinsights
