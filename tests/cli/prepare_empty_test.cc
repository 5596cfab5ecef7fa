// Nothing done is not success (issue 12): a `prepare` that reads logs but writes no pair
// fails with what it found and what to do, unless --allow-empty; a refused run leaves no
// output behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "../testing/command.h"

namespace ipinsights {
namespace {

using testing::CommandResult;
using ::testing::HasSubstr;
using testing::RunIpinsights;

class PrepareEmpty : public testing::ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    CommandResult simulated = RunIpinsights(
        dir_, "simulate cloudtrail --out sim --users 30 --days 2 --attacks 10 --quiet");
    ASSERT_EQ(simulated.exit_code, 0) << simulated.err;
  }
};

TEST_F(PrepareEmpty, CloudTrailReadAsWafFailsAndSaysWhichCommandToRun) {
  CommandResult run = RunIpinsights(dir_, "prepare waf --input sim/AWSLogs --output out.csv");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.err, HasSubstr("gave no pairs (skipped: not_an_ip "));
  EXPECT_THAT(run.err, HasSubstr("run `ipinsights prepare cloudtrail`"));
  EXPECT_FALSE(std::filesystem::exists(Path("out.csv")));

  CommandResult allowed =
      RunIpinsights(dir_, "prepare waf --input sim/AWSLogs --output out.csv --allow-empty --quiet");
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_EQ(Read("out.csv"), "");
}

TEST_F(PrepareEmpty, DaysOutsideTheDataFailNamingTheDays) {
  CommandResult run =
      RunIpinsights(dir_,
                    "prepare cloudtrail --input sim/AWSLogs --from 2025-01-01 --to 2025-01-02 "
                    "--output out.csv");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.err, HasSubstr("no log files under sim/AWSLogs for 2025-01-01..2025-01-02"));
  EXPECT_THAT(run.err, HasSubstr("--allow-empty"));
}

TEST_F(PrepareEmpty, ValidationOutputAloneSplitsAtTheLastDay) {
  CommandResult run =
      RunIpinsights(dir_,
                    "prepare cloudtrail --input sim/AWSLogs --to 2024-03-02 --output t.csv "
                    "--validation-output v.csv --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  CommandResult day2 =
      RunIpinsights(dir_,
                    "prepare cloudtrail --input sim/AWSLogs --from 2024-03-02 --to 2024-03-02 "
                    "--output day2.csv --quiet");
  ASSERT_EQ(day2.exit_code, 0) << day2.err;
  EXPECT_EQ(Read("v.csv"), Read("day2.csv"));
  EXPECT_THAT(run.out, HasSubstr("\"validation_pairs_written\": "));
  // Distinct entities over both outputs (simulated entities need no CSV quoting).
  std::set<std::string> entities;
  for (const std::string& file : {"t.csv", "v.csv"}) {
    std::istringstream rows(Read(file));
    for (std::string row; std::getline(rows, row);) entities.insert(row.substr(0, row.find(',')));
  }
  EXPECT_THAT(run.out, HasSubstr("\"entities\": " + std::to_string(entities.size()) + ","));

  CommandResult no_day = RunIpinsights(
      dir_, "prepare cloudtrail --input sim/AWSLogs --output t.csv --validation-output v.csv");
  EXPECT_EQ(no_day.exit_code, 2);
  EXPECT_THAT(no_day.err, HasSubstr("--validation-output needs --split-at DATE, or --to DATE"));
}

TEST_F(PrepareEmpty, ASplitThatLeavesOneSideEmptyIsRefused) {
  // --to past the data: the default split's day has no events.
  CommandResult late = RunIpinsights(dir_,
                                     "prepare cloudtrail --input sim/AWSLogs --to 2024-03-10 "
                                     "--output t.csv --validation-output v.csv");
  EXPECT_EQ(late.exit_code, 1);
  EXPECT_THAT(late.err, HasSubstr("left the validation set empty"));
  EXPECT_THAT(late.err, HasSubstr("events from 2024-03-01 to 2024-03-02"));
  EXPECT_FALSE(std::filesystem::exists(Path("t.csv")));
  // One day only: it all goes to validation.
  CommandResult one_day =
      RunIpinsights(dir_,
                    "prepare cloudtrail --input sim/AWSLogs --from 2024-03-02 --to 2024-03-02 "
                    "--output t.csv --validation-output v.csv");
  EXPECT_EQ(one_day.exit_code, 1);
  EXPECT_THAT(one_day.err, HasSubstr("left the training set empty"));
  // The simulation folder itself (labels.csv beside the logs) with days outside the data
  // still says that no log file is in the window.
  CommandResult outside = RunIpinsights(
      dir_, "prepare cloudtrail --input sim --from 2025-01-01 --to 2025-01-02 --output t.csv");
  EXPECT_EQ(outside.exit_code, 1);
  EXPECT_THAT(outside.err, HasSubstr("no log files under sim for 2025-01-01..2025-01-02"));
}

TEST_F(PrepareEmpty, JsonWithRowsOnStdoutGoesToStderrLikeScore) {
  CommandResult run =
      RunIpinsights(dir_, "prepare cloudtrail --input sim/AWSLogs --output - --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.find("{"), std::string::npos) << "rows only on stdout";
  EXPECT_THAT(run.out, HasSubstr(","));
  EXPECT_THAT(run.err, HasSubstr("\"pairs_written\": "));
}

TEST_F(PrepareEmpty, QuietIsQuietEvenWithBadInput) {
  Write("sim/AWSLogs/notes.txt", "not a log\n");
  CommandResult quiet =
      RunIpinsights(dir_, "prepare cloudtrail --input sim/AWSLogs --output t.csv --quiet");
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.err, "");
  CommandResult loud = RunIpinsights(dir_, "prepare cloudtrail --input sim/AWSLogs --output t.csv");
  EXPECT_THAT(loud.err, HasSubstr("notes.txt: byte 0: malformed JSON"));
}

}  // namespace
}  // namespace ipinsights
