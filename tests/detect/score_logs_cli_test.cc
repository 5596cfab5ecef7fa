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
  // The logs, training set and model of tests/detect/score_world.sh: copied from the world
  // ctest made once for this run, else made here the same way.
  void SetUp() override {
    ScratchTest::SetUp();
    const std::filesystem::path world = IPINSIGHTS_TEST_WORLD;
    if (testing::SharedWorldReady(world, IPINSIGHTS_TEST_WORLD_SCRIPT)) {
      for (const auto& entry : std::filesystem::directory_iterator(world)) {
        if (entry.path().filename() == "complete") continue;
        std::filesystem::copy(entry.path(), dir_ / entry.path().filename(),
                              std::filesystem::copy_options::recursive);
      }
      return;
    }
    testing::CommandResult made =
        testing::RunShell("bash '" IPINSIGHTS_SOURCE_DIR "/tests/detect/score_world.sh' '" +
                          testing::IpinsightsBinary() + "' '" + dir_.string() + "' 2>&1");
    ASSERT_EQ(made.exit_code, 0) << made.out;
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

// train records its history's checksum in the model: another history beside it (here
// prepare's, which lacks the score summaries) is left out with a warning, as a missing one
// is; given with --history it is used, with a warning.
TEST_F(ScoreLogsCli, AHistoryFromAnotherRunIsNotTakenForTheModels) {
  std::filesystem::copy_file(dir_ / "train.csv.history", dir_ / "model/history.ipinsights",
                             std::filesystem::copy_options::overwrite_existing);
  CommandResult beside = Score("--output events.ndjson --json --quiet");
  ASSERT_EQ(beside.exit_code, 0) << beside.err;
  EXPECT_NE(beside.err.find("model/history.ipinsights is not the history trained with "
                            "model/model.ipinsights"),
            std::string::npos)
      << beside.err;
  EXPECT_NE(beside.out.find("\"history\":false"), std::string::npos) << beside.out;
  CommandResult given = Score("--output events.ndjson --json --history train.csv.history");
  ASSERT_EQ(given.exit_code, 0) << given.err;
  EXPECT_NE(given.err.find("train.csv.history is not the history trained with"), std::string::npos)
      << given.err;
  EXPECT_NE(given.out.find("\"history\":true"), std::string::npos) << given.out;
}

}  // namespace
}  // namespace ipinsights

namespace ipinsights {
namespace {

class ScoreFindingsCli : public ScoreLogsCli {};

TEST_F(ScoreFindingsCli, AFailedOutputLeavesTheFindingsUnrecorded) {
  // --events-output names a folder that holds a file: the rename into place fails at the end.
  Write("events-dir/keep", "x");
  CommandResult failed = Score(
      "--findings --threshold 100 --output findings.ndjson "
      "--events-output events-dir --state state");
  EXPECT_EQ(failed.exit_code, 1) << failed.err;
  EXPECT_EQ(Read("state/reported.ndjson"), "");  // nothing recorded as reported
  CommandResult again =
      Score("--findings --threshold 100 --output findings.ndjson --state state --json");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("\"already_reported\":0"), std::string::npos) << again.out;
  EXPECT_FALSE(Read("state/reported.ndjson").empty());
}

TEST_F(ScoreFindingsCli, FindingsPastTheMemoryBudgetSpillToDiskWithTheSameOutput) {
  // --threshold 100 flags every event: a finding per pair of the day, more than 1 MB of them.
  for (const char* format : {"ndjson", "asff --account-id 123456789012"}) {
    SCOPED_TRACE(format);
    const std::string common = std::string("--findings --threshold 100 --json --format ") + format;
    CommandResult in_memory = Score(common + " --output memory.out");
    ASSERT_EQ(in_memory.exit_code, 0) << in_memory.err;
    EXPECT_NE(in_memory.out.find("\"spill_files\":0,"), std::string::npos) << in_memory.out;
    CommandResult spilled = Score(common + " --output spilled.out --findings-memory-mb 1");
    ASSERT_EQ(spilled.exit_code, 0) << spilled.err;
    EXPECT_EQ(spilled.out.find("\"spill_files\":0,"), std::string::npos) << spilled.out;
    EXPECT_NE(spilled.out.find("\"spill_files\":"), std::string::npos) << spilled.out;
    const std::string expected = Read("memory.out");
    EXPECT_GT(std::count(expected.begin(), expected.end(), '\n'), 0);
    if (std::string(format) == "ndjson") {
      EXPECT_GT(std::count(expected.begin(), expected.end(), '\n'), 200);
      EXPECT_EQ(Read("spilled.out"), expected);
    } else {
      // ASFF carries the time of the run (CreatedAt, UpdatedAt): equal apart from those.
      auto without_times = [](std::string text) {
        for (const char* field : {"\"CreatedAt\":\"", "\"UpdatedAt\":\""}) {
          for (size_t at = text.find(field); at != std::string::npos; at = text.find(field, at)) {
            at += std::string(field).size();
            text.replace(at, text.find('"', at) - at, "T");
          }
        }
        return text;
      };
      EXPECT_EQ(without_times(Read("spilled.out")), without_times(expected));
    }
  }
  CommandResult bad = Score("--findings --findings-memory-mb 0");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
}

TEST_F(ScoreFindingsCli, ConfigurationMistakesFailBeforeAnyLogIsRead) {
  CommandResult missing = Score("--findings --suppress no-such-rules.yaml");
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
  EXPECT_NE(missing.err.find("no-such-rules.yaml"), std::string::npos) << missing.err;
  EXPECT_EQ(missing.err.find("score cloudtrail:"), std::string::npos) << missing.err;  // no scan
  // No credentials for Security Hub: refused on a quiet day too (a threshold nothing is under).
  CommandResult no_credentials = testing::RunIpinsights(
      dir_,
      "score cloudtrail --model model/model.ipinsights --input sim/AWSLogs --from 2024-03-03 "
      "--to 2024-03-03 --findings --to-security-hub --threshold -1000 --region us-east-1",
      "",
      "env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE "
      "AWS_EC2_METADATA_DISABLED=true AWS_SHARED_CREDENTIALS_FILE=/nonexistent "
      "AWS_CONFIG_FILE=/nonexistent ");
  EXPECT_EQ(no_credentials.exit_code, 1) << no_credentials.err;
  EXPECT_NE(no_credentials.err.find("credentials"), std::string::npos) << no_credentials.err;
}

// The simulated trail spans three accounts: their keys say so before any log is read.
TEST_F(ScoreFindingsCli, AsffOfATrailOfSeveralAccountsNeedsTheImportingAccountBeforeTheScan) {
  auto asff = [&](const std::string& more) {
    return testing::RunIpinsights(
        dir_,
        "score cloudtrail --model model/model.ipinsights --input sim/AWSLogs --from 2024-03-03 "
        "--to 2024-03-03 --findings --format asff --output findings.json" +
            more,
        "", "env -u AWS_ACCOUNT_ID ");
  };
  CommandResult run = asff("");
  EXPECT_EQ(run.exit_code, 2) << run.err;
  // "The logs to read are": the check of the listing, before any log is read (after the
  // scan the message would say "the findings are").
  EXPECT_NE(run.err.find("the logs to read are in several AWS accounts ("), std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("--account-id"), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "findings.json"));
  CommandResult named = asff(" --account-id 123456789012");
  EXPECT_EQ(named.exit_code, 0) << named.err;
  EXPECT_NE(Read("findings.json").find("\"AwsAccountId\""), std::string::npos);
}

TEST_F(ScoreFindingsCli, AsffOfWafLogsNeedsTheImportingAccount) {
  CommandResult run = testing::RunIpinsights(
      dir_, "score waf --model model/model.ipinsights --input sim --findings --format asff", "",
      "env -u AWS_ACCOUNT_ID ");
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("--account-id"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace ipinsights
