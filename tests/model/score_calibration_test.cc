#include "ipinsights/model/score_calibration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "ipinsights/base/error.h"

namespace ipinsights {
namespace {

using ::testing::HasSubstr;

// n scores spread evenly over (0, 1]: exactly `rate` of them lie at or below `rate`.
std::vector<float> UniformScores(size_t n) {
  std::vector<float> scores;
  for (size_t i = 1; i <= n; ++i) scores.push_back(static_cast<float>(i) / n);
  std::shuffle(scores.begin(), scores.end(), std::mt19937(7));
  return scores;
}

TEST(ScoreCalibration, UniformScoresGiveTheirRatesWithinOnePercent) {
  const ScoreCalibration calibration = CalibrateScores(UniformScores(200000), 0.01, "validation");
  EXPECT_LE(calibration.curve.size(), kCalibrationPoints);
  EXPECT_EQ(calibration.pairs, 200000u);
  EXPECT_EQ(calibration.source, "validation");
  for (double rate : {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5}) {
    EXPECT_NEAR(calibration.FalsePositiveRateAt(static_cast<float>(rate)), rate, 0.01 * rate)
        << rate;
    EXPECT_NEAR(calibration.ThresholdAt(rate), rate, 0.01 * rate) << rate;
  }
  EXPECT_NEAR(calibration.threshold, 0.01, 0.0001);
}

TEST(ScoreCalibration, RatesBelowTheLowestAreUnderOneInPairsAndOneAboveTheHighest) {
  const ScoreCalibration calibration = CalibrateScores({1, 2, 3, 4}, 0.25, "training");
  // Below every normal pair: under 1 in 4, not zero.
  EXPECT_EQ(calibration.FalsePositiveRateAt(0.5f), 1.0 / 5);
  EXPECT_EQ(calibration.FalsePositiveRateAt(1), 0.25);
  EXPECT_EQ(calibration.FalsePositiveRateAt(2), 0.5);
  EXPECT_EQ(calibration.FalsePositiveRateAt(4), 1);
  EXPECT_EQ(calibration.FalsePositiveRateAt(40), 1);
  EXPECT_EQ(calibration.threshold, 1);
  EXPECT_EQ(calibration.ThresholdAt(0.5), 2);
}

TEST(ScoreCalibration, TiesCountWhole) {
  const ScoreCalibration calibration = CalibrateScores({5, 5, 5, 7}, 0.5, "validation");
  ASSERT_EQ(calibration.curve.size(), 2u);
  EXPECT_EQ(calibration.curve[0].score, 5);
  EXPECT_EQ(calibration.curve[0].rate, 0.75);
  EXPECT_EQ(calibration.FalsePositiveRateAt(5), 0.75);
}

TEST(ScoreCalibration, DropsNonFiniteScores) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const ScoreCalibration calibration = CalibrateScores({nan, 1, inf, 2, -inf}, 0.5, "validation");
  EXPECT_EQ(calibration.pairs, 2u);
  EXPECT_EQ(calibration.FalsePositiveRateAt(1), 0.5);
}

TEST(ScoreCalibration, RejectsTargetOutsideTheRange) {
  EXPECT_THROW(CalibrateScores({1, 2}, 0, "validation"), UsageError);
  EXPECT_THROW(CalibrateScores({1, 2}, 1, "validation"), UsageError);
  try {
    CalibrateScores({std::numeric_limits<float>::quiet_NaN()}, 0.01, "validation");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("no finite score"));
  }
}

TEST(ScoreCalibration, JsonRoundTripsExactly) {
  std::vector<float> scores;
  std::mt19937 random(3);
  std::normal_distribution<float> normal(2.0f, 1.5f);
  for (int i = 0; i < 50000; ++i) scores.push_back(normal(random));
  const ScoreCalibration calibration = CalibrateScores(scores, 0.01, "training");
  const ScoreCalibration again = ParseCalibrationJson(CalibrationJson(calibration), "model");
  EXPECT_EQ(again.target_fpr, calibration.target_fpr);
  EXPECT_EQ(again.threshold, calibration.threshold);
  EXPECT_EQ(again.source, "training");
  EXPECT_EQ(again.pairs, 50000u);
  ASSERT_EQ(again.curve.size(), calibration.curve.size());
  for (size_t i = 0; i < again.curve.size(); ++i) {
    EXPECT_EQ(again.curve[i].score, calibration.curve[i].score);
    EXPECT_EQ(again.curve[i].rate, calibration.curve[i].rate);
  }
}

TEST(ScoreCalibration, ParseRejectsBadObjects) {
  auto error = [](const std::string& json) -> std::string {
    try {
      ParseCalibrationJson(json, "m.ipinsights");
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  const std::string good_tail =
      R"(, "source": "validation", "pairs": 2, "curve": [[1, 0.5], [2, 1]]})";
  EXPECT_EQ(error(R"({"target_fpr": 0.01, "threshold": 1)" + good_tail), "no error");
  EXPECT_THAT(error(R"({"target_fpr": 2, "threshold": 1)" + good_tail),
              HasSubstr("m.ipinsights: calibration target_fpr 2 is not in (0, 1)"));
  EXPECT_THAT(error(R"({"target_fpr": 0.01, "threshold": 1e999)" + good_tail),
              HasSubstr("m.ipinsights: calibration"));
  EXPECT_THAT(error(R"({"target_fpr": 0.01, "threshold": 1, "curve": [[2, 0.5], [1, 1]]})"),
              HasSubstr("not ascending at point 1"));
  EXPECT_THAT(error(R"({"target_fpr": 0.01, "threshold": 1, "curve": [[1, 0.5, 3]]})"),
              HasSubstr("calibration point of 3 numbers"));
  EXPECT_THAT(error(R"({"target_fpr": 0.01, "curve": []})"), HasSubstr("lacks"));
  EXPECT_THAT(error(R"({"target_fpr": 0.01, "threshold": 1, "curve": [[1, 0]]})"),
              HasSubstr("out of range"));
  EXPECT_THAT(error("[1, 2]"), HasSubstr("not valid JSON"));
}

}  // namespace
}  // namespace ipinsights
