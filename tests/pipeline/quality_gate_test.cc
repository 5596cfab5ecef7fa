#include "ipinsights/pipeline/quality_gate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "ipinsights/pipeline/run_record.h"

namespace ipinsights {
namespace {

using ::testing::HasSubstr;

TEST(QualityGateTest, FloorAndDrop) {
  QualityGate gate;
  gate.min_auc = 0.8;
  gate.max_auc_drop = 0.02;
  EXPECT_TRUE(DecideGate(gate, 0.85, std::nullopt).passed);
  EXPECT_FALSE(DecideGate(gate, 0.79, std::nullopt).passed);
  EXPECT_THAT(DecideGate(gate, 0.79, std::nullopt).reason, HasSubstr("below the floor"));
  EXPECT_TRUE(DecideGate(gate, 0.90, 0.91).passed);   // within the drop allowed
  EXPECT_TRUE(DecideGate(gate, 0.95, 0.91).passed);   // better
  EXPECT_FALSE(DecideGate(gate, 0.88, 0.91).passed);  // 0.03 worse
  EXPECT_TRUE(DecideGate(gate, 0.89, 0.91).passed);   // exactly max_auc_drop worse
  EXPECT_THAT(DecideGate(gate, 0.88, 0.91).reason, HasSubstr("below the current model's 0.9100"));
  EXPECT_FALSE(DecideGate(gate, std::nan(""), std::nullopt).passed);
  // A current model whose AUC could not be measured does not block.
  EXPECT_TRUE(DecideGate(gate, 0.85, std::nan("")).passed);
}

TEST(RunRecordTest, FiguresAreReadBack) {
  const std::string figures =
      R"({"passed": true, "reason": "ok", "auc": 0.93, "rows": 12, "none": null})";
  EXPECT_EQ(FigureBool(figures, "passed"), true);
  EXPECT_EQ(FigureText(figures, "reason"), "ok");
  EXPECT_DOUBLE_EQ(*FigureNumber(figures, "auc"), 0.93);
  EXPECT_DOUBLE_EQ(*FigureNumber(figures, "rows"), 12);
  EXPECT_FALSE(FigureNumber(figures, "none").has_value());
  EXPECT_FALSE(FigureNumber(figures, "missing").has_value());
  EXPECT_FALSE(FigureText("not json", "reason").has_value());
}

}  // namespace
}  // namespace ipinsights
