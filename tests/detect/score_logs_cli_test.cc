// `ipinsights score cloudtrail|waf --input`: flags, usage errors and bad input, through the
// binary.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "../testing/command.h"

namespace ipinsights {
namespace {

using testing::CommandResult;
using testing::RunIpinsights;

class ScoreLogsCli : public testing::ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    Run("simulate cloudtrail --out sim --users 60 --days 3 --attacks 30 --seed 5");
    Run("prepare cloudtrail --input sim/AWSLogs --to 2024-03-02 --split-at 2024-03-02 "
        "--output train.csv --validation-output val.csv");
    Run("train --train train.csv --validation val.csv --model-dir model --num-entity-vectors 200 "
        "--vector-dim 16 --epochs 2 --seed 1");
  }
  void Run(const std::string& args) {
    CommandResult run = RunIpinsights(dir_, args + " --quiet");
    ASSERT_EQ(run.exit_code, 0) << args << "\n" << run.err;
  }
  CommandResult Score(const std::string& args) {
    return RunIpinsights(dir_,
                         "score cloudtrail --model model/model.ipinsights --input "
                         "sim/AWSLogs --from 2024-03-03 --to 2024-03-03 " +
                             args);
  }
};

TEST_F(ScoreLogsCli, FormatWithoutFindingsIsAUsageError) {
  CommandResult run = Score("--format asff");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--format asff formats findings: add --findings"), std::string::npos)
      << run.err;
}

TEST_F(ScoreLogsCli, ThresholdAndTargetFprAreAlternatives) {
  CommandResult run = Score("--threshold 0 --target-fpr 0.01");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("alternatives"), std::string::npos) << run.err;
}

TEST_F(ScoreLogsCli, BadWindowNamesTheForm) {
  CommandResult run = Score("--findings --window 1w");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--window \"1w\": expected a duration such as 1d"), std::string::npos)
      << run.err;
}

TEST_F(ScoreLogsCli, PairsAndLogsAreAlternatives) {
  Write("pairs.csv", "a,192.0.2.1\n");
  CommandResult run = Score("--pairs pairs.csv");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("alternatives"), std::string::npos) << run.err;
}

TEST_F(ScoreLogsCli, OneEventLinePerPreparedRowAndTheSummaryCountsThem) {
  Run("prepare cloudtrail --input sim/AWSLogs --from 2024-03-03 --to 2024-03-03 --output day3.csv");
  CommandResult run = Score("--output events.ndjson --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string rows = Read("day3.csv");
  const std::string lines = Read("events.ndjson");
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'),
            std::count(rows.begin(), rows.end(), '\n'));
  EXPECT_NE(run.out.find("\"calibrated\":true"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("\"history\":true"), std::string::npos) << run.out;
}

TEST_F(ScoreLogsCli, AMalformedObjectIsReportedAndTheRestScored) {
  Write("sim/AWSLogs/broken.json", "{\"Records\":[{\"eventTime\":");
  CommandResult run = Score("--output events.ndjson --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("broken.json"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("malformed JSON"), std::string::npos) << run.err;
  EXPECT_FALSE(Read("events.ndjson").empty());
  EXPECT_EQ(Score("--output events.ndjson --strict").exit_code, 1);
}

TEST_F(ScoreLogsCli, AModelWithoutHistoryWarnsOnce) {
  std::filesystem::remove(dir_ / "model/history.ipinsights");
  CommandResult run = Score("--output events.ndjson");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("history.ipinsights beside the model"), std::string::npos) << run.err;
  CommandResult quiet = Score("--output events.ndjson --no-history");
  EXPECT_EQ(quiet.err.find("history"), std::string::npos) << quiet.err;
}

}  // namespace
}  // namespace ipinsights
