#include "ipinsights/pipeline/run_record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../testing/scratch_test.h"
#include "ipinsights/base/error.h"

namespace ipinsights {
namespace {

using ::testing::HasSubstr;

class RunRecordFileTest : public testing::ScratchTest {};

TEST_F(RunRecordFileTest, RoundTripsAndReplacesASteps) {
  const std::string location = Path("runs/2024-03-07/run.json");
  EXPECT_TRUE(ReadRunRecord(location).steps.empty());
  RunRecord record;
  record.Add({"prepare", "2024-03-08T02:00:00Z", 1.5, R"({"pairs": 10})"});
  record.Add({"train", "2024-03-08T02:01:00Z", 60, R"({"loss": 0.1, "name": "a\"b"})"});
  record.Add({"prepare", "2024-03-08T02:02:00Z", 2.5, R"({"pairs": 11})"});
  WriteRunRecord(location, "ct", record);
  const RunRecord back = ReadRunRecord(location);
  ASSERT_EQ(back.steps.size(), 2u);
  EXPECT_EQ(back.steps[0].step, "prepare");
  EXPECT_DOUBLE_EQ(back.steps[0].seconds, 2.5);
  EXPECT_EQ(FigureNumber(back.Find("prepare")->figures_json, "pairs"), 11);
  EXPECT_EQ(FigureText(back.Find("train")->figures_json, "name"), "a\"b");
  EXPECT_EQ(back.Find("gate"), nullptr);
}

TEST_F(RunRecordFileTest, ACorruptRecordIsAnErrorNamingIt) {
  const std::string location = Write("run.json", "{\"steps\": [{\"step\": 3}]}");
  try {
    ReadRunRecord(location);
    FAIL();
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr(location));
  }
  Write("run.json", "garbage");
  EXPECT_THROW(ReadRunRecord(location), Error);
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
