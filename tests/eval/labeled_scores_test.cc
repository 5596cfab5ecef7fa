#include "ipinsights/eval/labeled_scores.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ipinsights/base/error.h"

namespace ipinsights {
namespace {

TEST(LabeledScores, AucCountsTiesAsHalf) {
  // normal 0.5: beats -1, ties 0.5, loses to 4 -> 1.5; normal 2 and 3: 2 wins each.
  LabeledScores scores({0.5f, 2.0f, 3.0f}, {-1.0f, 0.5f, 4.0f});
  EXPECT_DOUBLE_EQ(scores.Auc(), 5.5 / 9.0);
}

TEST(LabeledScores, AucIsOneForPerfectSeparationAndZeroForInverted) {
  EXPECT_DOUBLE_EQ(LabeledScores({2, 3}, {0, 1}).Auc(), 1.0);
  EXPECT_DOUBLE_EQ(LabeledScores({0, 1}, {2, 3}).Auc(), 0.0);
}

TEST(LabeledScores, AucOfAllEqualScoresIsOneHalf) {
  EXPECT_DOUBLE_EQ(LabeledScores({1, 1}, {1, 1, 1}).Auc(), 0.5);
}

TEST(LabeledScores, AucHandlesInfiniteScores) {
  LabeledScores scores({INFINITY, 1.0f}, {-INFINITY, INFINITY});
  // inf: beats -inf, ties inf -> 1.5; 1: beats -inf -> 1. Total 2.5 / 4.
  EXPECT_DOUBLE_EQ(scores.Auc(), 2.5 / 4.0);
}

TEST(LabeledScores, MissingClassIsAnError) {
  try {
    LabeledScores scores({1.0f, 2.0f}, {});
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "evaluation needs both normal and anomalous pairs (got 2 normal, 0 anomalous)");
  }
  EXPECT_THROW(LabeledScores({}, {1.0f}), Error);
}

TEST(LabeledScores, NanScoreIsAnError) { EXPECT_THROW(LabeledScores({NAN}, {1.0f}), Error); }

class ThresholdTable : public ::testing::Test {
 protected:
  // Flagged means score < threshold.
  LabeledScores scores_{{-2.0f, -0.5f, 0.5f, 1.0f, 3.0f}, {-3.0f, -1.0f, 0.0f, 2.0f}};
};

TEST_F(ThresholdTable, MetricsAtZero) {
  ThresholdMetrics m = scores_.AtThreshold(0.0);
  EXPECT_EQ(m.flagged_anomalous, 2u);  // -3, -1 (0 is not below 0)
  EXPECT_EQ(m.flagged_normal, 2u);     // -2, -0.5
  EXPECT_DOUBLE_EQ(m.recall, 0.5);
  EXPECT_DOUBLE_EQ(m.precision, 0.5);
  EXPECT_DOUBLE_EQ(m.false_positive_rate, 0.4);
}

TEST_F(ThresholdTable, NothingFlaggedHasUndefinedPrecision) {
  ThresholdMetrics m = scores_.AtThreshold(-5.0);
  EXPECT_EQ(m.recall, 0.0);
  EXPECT_EQ(m.false_positive_rate, 0.0);
  EXPECT_TRUE(std::isnan(m.precision));
}

TEST_F(ThresholdTable, EverythingFlagged) {
  ThresholdMetrics m = scores_.AtThreshold(10.0);
  EXPECT_DOUBLE_EQ(m.recall, 1.0);
  EXPECT_DOUBLE_EQ(m.false_positive_rate, 1.0);
  EXPECT_DOUBLE_EQ(m.precision, 4.0 / 9.0);
}

TEST_F(ThresholdTable, RecommendedThresholdIsTheLargestWithinTheTarget) {
  EXPECT_EQ(scores_.RecommendedThreshold(0.2), -0.5);  // flags only -2: FPR 0.2
  EXPECT_EQ(scores_.RecommendedThreshold(0.39), -0.5);
  EXPECT_EQ(scores_.RecommendedThreshold(0.1), -2.0);  // flags nothing normal
  EXPECT_EQ(scores_.RecommendedThreshold(0.0), -2.0);
  EXPECT_EQ(scores_.RecommendedThreshold(0.4), 0.5);
  EXPECT_TRUE(std::isinf(scores_.RecommendedThreshold(1.0)));
  EXPECT_DOUBLE_EQ(scores_.AtThreshold(scores_.RecommendedThreshold(0.2)).false_positive_rate, 0.2);
}

TEST(LabeledScores, RecommendedThresholdWithTiesStaysWithinTheTarget) {
  LabeledScores scores({1, 1, 1, 2}, {0});
  // Any threshold above 1 flags three of four normal pairs (0.75 > 0.5).
  EXPECT_EQ(scores.RecommendedThreshold(0.5), 1.0);
  EXPECT_EQ(scores.AtThreshold(1.0).false_positive_rate, 0.0);
}

TEST(LabeledScores, RecommendedThresholdSurvivesRoundingOfTheTarget) {
  std::vector<float> normal;
  for (int i = 0; i < 100; ++i) normal.push_back(static_cast<float>(i));
  LabeledScores scores(normal, {-1});
  // 0.29 * 100 = 28.999999999999996 in doubles; 29 normal pairs may still be flagged.
  EXPECT_EQ(scores.RecommendedThreshold(0.29), 29.0);
  EXPECT_DOUBLE_EQ(scores.AtThreshold(29.0).false_positive_rate, 0.29);
}

TEST(LabeledScores, RocCurveOnATinyTable) {
  LabeledScores scores({1, 2}, {0, 3});
  std::vector<RocPoint> roc = scores.RocCurve(100);
  ASSERT_EQ(roc.size(), 5u);
  double expected[5][2] = {{0, 0}, {0, 0.5}, {0.5, 0.5}, {1, 0.5}, {1, 1}};
  for (size_t i = 0; i < roc.size(); ++i) {
    EXPECT_DOUBLE_EQ(roc[i].false_positive_rate, expected[i][0]) << i;
    EXPECT_DOUBLE_EQ(roc[i].true_positive_rate, expected[i][1]) << i;
  }
  EXPECT_GT(roc[1].threshold, 0.0);
  EXPECT_LT(roc[1].threshold, 1.0);
}

TEST(LabeledScores, AreaUnderRocCurveEqualsAucWithTies) {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> level(0, 20);
  std::vector<float> normal, anomalous;
  for (int i = 0; i < 500; ++i) normal.push_back(static_cast<float>(level(random)) + 3);
  for (int i = 0; i < 300; ++i) anomalous.push_back(static_cast<float>(level(random)));
  LabeledScores scores(normal, anomalous);
  std::vector<RocPoint> roc = scores.RocCurve(100000);
  double area = 0;
  for (size_t i = 1; i < roc.size(); ++i) {
    // Flagging low scores: x = FPR (normal flagged), y = TPR. AUC as P(normal > anomalous)
    // is the area under TPR over FPR.
    area += (roc[i].false_positive_rate - roc[i - 1].false_positive_rate) *
            (roc[i].true_positive_rate + roc[i - 1].true_positive_rate) / 2;
  }
  EXPECT_NEAR(area, scores.Auc(), 1e-12);
}

TEST(LabeledScores, RocCurveIsThinnedKeepingBothEnds) {
  std::vector<float> normal, anomalous;
  for (int i = 0; i < 1000; ++i) normal.push_back(static_cast<float>(i));
  for (int i = 0; i < 1000; ++i) anomalous.push_back(static_cast<float>(i) - 500.5f);
  std::vector<RocPoint> roc = LabeledScores(normal, anomalous).RocCurve(50);
  ASSERT_EQ(roc.size(), 50u);
  EXPECT_EQ(roc.front().false_positive_rate, 0.0);
  EXPECT_EQ(roc.back().false_positive_rate, 1.0);
  EXPECT_EQ(roc.back().true_positive_rate, 1.0);
}

TEST(LabeledScores, HistogramBinsBothClassesOnOneScale) {
  ScoreHistogram h = LabeledScores({0, 1}, {2, 4, -INFINITY}).Histogram(4);
  EXPECT_EQ(h.low, 0.0);
  EXPECT_EQ(h.high, 4.0);
  EXPECT_EQ(h.normal, (std::vector<uint64_t>{1, 1, 0, 0}));
  EXPECT_EQ(h.anomalous, (std::vector<uint64_t>{1, 0, 1, 1}));  // -inf clamps to bin 0
}

}  // namespace
}  // namespace ipinsights
