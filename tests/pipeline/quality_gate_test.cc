#include "ipinsights/pipeline/quality_gate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace ipinsights {
namespace {

using ::testing::HasSubstr;

QualityGate Gate() {
  QualityGate gate;
  gate.min_auc = 0.8;
  gate.max_auc_drop = 0.02;
  return gate;
}

TEST(QualityGateTest, WithoutACurrentModelOnlyTheFloorCounts) {
  EXPECT_TRUE(DecideGate(Gate(), 0.85, std::nullopt).passed);
  EXPECT_FALSE(DecideGate(Gate(), 0.79, std::nullopt).passed);
  EXPECT_THAT(DecideGate(Gate(), 0.79, std::nullopt).reason, HasSubstr("below the floor"));
}

TEST(QualityGateTest, ACandidateMayFallAtMostMaxAucDropBelowTheCurrentModel) {
  EXPECT_TRUE(DecideGate(Gate(), 0.95, 0.91).passed);  // better
  EXPECT_TRUE(DecideGate(Gate(), 0.90, 0.91).passed);  // within the drop allowed
  EXPECT_TRUE(DecideGate(Gate(), 0.89, 0.91).passed);  // exactly max_auc_drop worse
  EXPECT_FALSE(DecideGate(Gate(), 0.88, 0.91).passed);
  EXPECT_THAT(DecideGate(Gate(), 0.88, 0.91).reason, HasSubstr("below the current model's 0.9100"));
  EXPECT_FALSE(DecideGate(Gate(), 0.85, 0.99).passed);  // above the floor is not enough
}

TEST(QualityGateTest, AnUnmeasurableAucNeverPassesAndNeverBlocks) {
  EXPECT_FALSE(DecideGate(Gate(), std::nan(""), std::nullopt).passed);
  EXPECT_TRUE(DecideGate(Gate(), 0.85, std::nan("")).passed);
}

}  // namespace
}  // namespace ipinsights
