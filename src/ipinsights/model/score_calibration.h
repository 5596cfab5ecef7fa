// ScoreCalibration: how normal pairs score under a model, kept in the model file so a
// score means something to a person: `threshold` is the score below which `target_fpr` of
// normal validation pairs fall, and FalsePositiveRateAt(s) says how often a normal pair
// scores s or lower. `train` builds it from the validation channel's pairs (source
// "validation"), or, without one, from a sample of the training pairs (source "training":
// those scored higher than unseen normal pairs do, so the rates are understated; train warns).
//
// The curve keeps at most kCalibrationPoints (score, rate) points, spaced evenly in log(rank)
// so the low tail, where thresholds live, is exact to a few percent of the rate.
//
// Thread-safety: a value type; const methods are pure.
//
//   ScoreCalibration calibration = CalibrateScores(validation_scores, 0.01, "validation");
//   double fpr = calibration.FalsePositiveRateAt(-2.5f);
//   float t = calibration.ThresholdAt(0.001);
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ipinsights {

inline constexpr size_t kCalibrationPoints = 512;

struct CalibrationPoint {
  float score = 0;
  double rate = 0;  // share of normal pairs scoring <= score
};

struct ScoreCalibration {
  double target_fpr = 0.01;
  float threshold = 0;                  // ThresholdAt(target_fpr)
  std::string source;                   // "validation" or "training"
  uint64_t pairs = 0;                   // normal pairs scored
  std::vector<CalibrationPoint> curve;  // ascending score and rate

  // Share of normal pairs scoring <= score (interpolated in log rate between points;
  // 1 / (pairs + 1) below the lowest, 1 at or above the highest).
  double FalsePositiveRateAt(float score) const;
  // The score below which `rate` of normal pairs fall (the inverse of the above).
  float ThresholdAt(double rate) const;
};

// From the scores of normal pairs, in any order (non-finite ones dropped). Throws
// UsageError when target_fpr is not in (0, 1) and Error when no finite score is left.
ScoreCalibration CalibrateScores(std::vector<float> normal_scores, double target_fpr,
                                 std::string source);

// The calibration as a JSON object (the model file's "calibration" header key), and back.
// ParseCalibrationJson throws Error(`where`: reason) on a bad object.
std::string CalibrationJson(const ScoreCalibration& calibration);
ScoreCalibration ParseCalibrationJson(std::string_view json, const std::string& where);

}  // namespace ipinsights
