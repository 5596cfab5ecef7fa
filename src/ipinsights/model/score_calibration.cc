#include "ipinsights/model/score_calibration.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>

#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"

namespace ipinsights {
namespace {

// Linear interpolation between a and b at t in [0, 1].
double Lerp(double a, double b, double t) { return a + t * (b - a); }

}  // namespace

double ScoreCalibration::FalsePositiveRateAt(float score) const {
  if (curve.empty() || std::isnan(score)) return 0;
  // Below every normal pair seen: the rate is under 1 in `pairs`, not zero; say the most
  // that can be said without claiming more.
  if (score < curve.front().score) return 1.0 / static_cast<double>(pairs + 1);
  if (score >= curve.back().score) return 1;
  // The first point scoring above `score`; the one before it scores <= score.
  const auto above =
      std::upper_bound(curve.begin(), curve.end(), score,
                       [](float s, const CalibrationPoint& point) { return s < point.score; });
  const CalibrationPoint& lo = *(above - 1);
  const CalibrationPoint& hi = *above;
  const double t =
      (static_cast<double>(score) - lo.score) / (static_cast<double>(hi.score) - lo.score);
  // In log rate: the points are evenly spaced in log(rank), so the low tail stays exact.
  return std::exp(Lerp(std::log(lo.rate), std::log(hi.rate), t));
}

float ScoreCalibration::ThresholdAt(double rate) const {
  if (curve.empty()) return 0;
  if (!(rate > curve.front().rate)) return curve.front().score;
  if (rate >= curve.back().rate) return curve.back().score;
  const auto above =
      std::upper_bound(curve.begin(), curve.end(), rate,
                       [](double r, const CalibrationPoint& point) { return r < point.rate; });
  const CalibrationPoint& lo = *(above - 1);
  const CalibrationPoint& hi = *above;
  const double t = (std::log(rate) - std::log(lo.rate)) / (std::log(hi.rate) - std::log(lo.rate));
  return static_cast<float>(Lerp(lo.score, hi.score, t));
}

ScoreCalibration CalibrateScores(std::vector<float> normal_scores, double target_fpr,
                                 std::string source) {
  if (!(target_fpr > 0 && target_fpr < 1)) {
    throw UsageError(fmt::format("target false-positive rate {} is not in (0, 1)", target_fpr));
  }
  normal_scores.erase(std::remove_if(normal_scores.begin(), normal_scores.end(),
                                     [](float s) { return !std::isfinite(s); }),
                      normal_scores.end());
  if (normal_scores.empty()) throw Error("calibration: no finite score to calibrate on");
  std::sort(normal_scores.begin(), normal_scores.end());
  const size_t n = normal_scores.size();

  ScoreCalibration calibration;
  calibration.target_fpr = target_fpr;
  calibration.source = std::move(source);
  calibration.pairs = n;
  // Ranks 1..n at kCalibrationPoints steps evenly spaced in log(rank); each point's rate is
  // the share scoring <= its score (ties counted whole), so equal scores make one point.
  const double log_n = std::log(static_cast<double>(n));
  for (size_t i = 0; i < kCalibrationPoints; ++i) {
    const double position =
        kCalibrationPoints == 1 ? 1 : static_cast<double>(i) / (kCalibrationPoints - 1);
    size_t rank = static_cast<size_t>(std::llround(std::exp(position * log_n)));
    rank = std::clamp<size_t>(rank, 1, n);
    const float score = normal_scores[rank - 1];
    if (!calibration.curve.empty() && calibration.curve.back().score == score) continue;
    const size_t at_or_below =
        static_cast<size_t>(std::upper_bound(normal_scores.begin(), normal_scores.end(), score) -
                            normal_scores.begin());
    calibration.curve.push_back({score, static_cast<double>(at_or_below) / n});
  }
  if (calibration.curve.back().score != normal_scores.back()) {
    calibration.curve.push_back({normal_scores.back(), 1.0});
  }
  calibration.threshold = calibration.ThresholdAt(target_fpr);
  return calibration;
}

std::string CalibrationJson(const ScoreCalibration& calibration) {
  std::string out =
      fmt::format("{{\"target_fpr\": {}, \"threshold\": {}, \"source\": ", calibration.target_fpr,
                  calibration.threshold);
  AppendJsonString(&out, calibration.source);
  out += fmt::format(", \"pairs\": {}, \"curve\": [", calibration.pairs);
  for (size_t i = 0; i < calibration.curve.size(); ++i) {
    // fmt's shortest round-trip form: the curve reads back bit for bit.
    out += fmt::format("{}[{}, {}]", i ? ", " : "", calibration.curve[i].score,
                       calibration.curve[i].rate);
  }
  return out + "]}";
}

ScoreCalibration ParseCalibrationJson(std::string_view json, const std::string& where) {
  ScoreCalibration calibration;
  bool have_target = false, have_threshold = false, have_curve = false;
  try {
    simdjson::padded_string padded(json);
    simdjson::ondemand::parser parser;
    simdjson::ondemand::document doc = parser.iterate(padded);
    for (auto field : doc.get_object()) {
      const std::string_view key = field.unescaped_key();
      simdjson::ondemand::value value = field.value();
      if (key == "target_fpr") {
        calibration.target_fpr = value.get_double();
        have_target = true;
      } else if (key == "threshold") {
        calibration.threshold = static_cast<float>(value.get_double());
        have_threshold = true;
      } else if (key == "source") {
        calibration.source = std::string(std::string_view(value.get_string()));
      } else if (key == "pairs") {
        calibration.pairs = value.get_uint64();
      } else if (key == "curve") {
        for (auto point : value.get_array()) {
          if (calibration.curve.size() == kCalibrationPoints) {
            throw Error(fmt::format("{}: calibration curve of more than {} points", where,
                                    kCalibrationPoints));
          }
          CalibrationPoint p;
          size_t items = 0;
          for (auto item : point.get_array()) {
            const double number = item.get_double();
            if (items == 0) p.score = static_cast<float>(number);
            if (items == 1) p.rate = number;
            ++items;
          }
          if (items != 2)
            throw Error(fmt::format("{}: calibration point of {} numbers", where, items));
          calibration.curve.push_back(p);
        }
        have_curve = true;
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    throw Error(fmt::format("{}: calibration is not valid JSON ({})", where, e.what()));
  }
  if (!have_target || !have_threshold || !have_curve) {
    throw Error(fmt::format("{}: calibration lacks target_fpr, threshold or curve", where));
  }
  if (!(calibration.target_fpr > 0 && calibration.target_fpr < 1)) {
    throw Error(fmt::format("{}: calibration target_fpr {} is not in (0, 1)", where,
                            calibration.target_fpr));
  }
  if (!std::isfinite(calibration.threshold)) {
    throw Error(fmt::format("{}: calibration threshold is not finite", where));
  }
  if (calibration.curve.empty()) throw Error(fmt::format("{}: calibration curve is empty", where));
  for (size_t i = 0; i < calibration.curve.size(); ++i) {
    const CalibrationPoint& p = calibration.curve[i];
    if (!std::isfinite(p.score) || !(p.rate > 0 && p.rate <= 1)) {
      throw Error(fmt::format("{}: calibration point {} ({}, {}) is out of range", where, i,
                              p.score, p.rate));
    }
    if (i > 0 &&
        !(calibration.curve[i - 1].score < p.score && calibration.curve[i - 1].rate < p.rate)) {
      throw Error(fmt::format("{}: calibration curve is not ascending at point {}", where, i));
    }
  }
  return calibration;
}

}  // namespace ipinsights
