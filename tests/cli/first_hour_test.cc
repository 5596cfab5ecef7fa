// The newcomer study's failed steps (issue 12), each as a test: what a command says when it
// is given the wrong file, an out-of-range value, or data its hyperparameters do not fit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../testing/command.h"

namespace ipinsights {
namespace {

using testing::CommandResult;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunIpinsights;

class FirstHour : public testing::ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    Ok("simulate cloudtrail --out sim --users 200 --days 3 --attacks 100 --quiet");
    Ok("prepare cloudtrail --input sim/AWSLogs --to 2024-03-02 --output train.csv --quiet");
  }
  CommandResult Ok(const std::string& args) {
    CommandResult run = RunIpinsights(dir_, args);
    EXPECT_EQ(run.exit_code, 0) << args << "\n" << run.err;
    return run;
  }
  std::string AnyLogFile() {
    CommandResult find = testing::RunShell("find '" + Path("sim/AWSLogs") +
                                           "' -path '*CloudTrail/*' -name '*.json.gz' | head -1");
    return find.out.substr(0, find.out.find('\n'));
  }
};

TEST_F(FirstHour, CloudTrailGivenToTrainSaysToPrepareItFirst) {
  CommandResult run = RunIpinsights(dir_, "train --train " + AnyLogFile() + " --model-dir m");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.err, HasSubstr("no valid training rows"));
  EXPECT_THAT(run.err, HasSubstr("It holds JSON logs (CloudTrail or WAF), not entity,ip CSV: run "
                                 "`ipinsights prepare cloudtrail --input "));
}

TEST_F(FirstHour, SageMakerDefaultsOnSmallDataWarnWhatToChange) {
  CommandResult run = RunIpinsights(dir_, "train --train train.csv --model-dir m --epochs 2");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err, HasSubstr("num_entity_vectors is 100000 for "));
  EXPECT_THAT(run.err, HasSubstr("the model looks underfit"));
  EXPECT_THAT(run.err, HasSubstr("samples/s (rows and their negatives; "));

  // With a validation channel, as the recipe has it: without one the threshold is calibrated
  // on training pairs, and train warns about that too.
  Ok("prepare cloudtrail --input sim/AWSLogs --to 2024-03-02 --validation-fraction 0.2 "
     "--output fit.csv --validation-output fit-val.csv --quiet");
  CommandResult fitted = RunIpinsights(
      dir_,
      "train --train fit.csv --validation fit-val.csv --model-dir m2 --num-entity-vectors 400 "
      "--vector-dim 32 --epochs 5 --learning-rate 0.01 --mini-batch-size 500 --json");
  ASSERT_EQ(fitted.exit_code, 0) << fitted.err;
  EXPECT_THAT(fitted.err, Not(HasSubstr("warning")));
  EXPECT_THAT(fitted.out, HasSubstr("\"rows_per_second\": "));
  EXPECT_THAT(fitted.out, HasSubstr("\"hyperparameters\": {\"num_entity_vectors\": \"400\""));
}

TEST_F(FirstHour, ScoreOnAFileWithNoPairFailsAndQuietIsQuiet) {
  Ok("train --train train.csv --model-dir m --num-entity-vectors 400 --vector-dim 16 --epochs 1 "
     "--quiet");
  CommandResult labels = RunIpinsights(
      dir_, "score --model m/model.ipinsights --pairs sim/labels.csv --output s.ndjson");
  EXPECT_EQ(labels.exit_code, 1);
  EXPECT_THAT(labels.err, HasSubstr("score: no pair scored: all "));
  EXPECT_THAT(labels.err, HasSubstr("run `ipinsights prepare cloudtrail|waf` first"));
  EXPECT_EQ(Read("s.ndjson"), "");

  CommandResult allowed =
      RunIpinsights(dir_,
                    "score --model m/model.ipinsights --pairs sim/labels.csv --output s.ndjson "
                    "--allow-empty --quiet");
  EXPECT_EQ(allowed.exit_code, 0);
  EXPECT_EQ(allowed.err, "") << "--quiet prints no warnings";
}

TEST_F(FirstHour, ATerminalSeesOneEpochNumberingAndLogsKeepSageMakersLines) {
  const std::string args =
      "train --train train.csv --model-dir m --num-entity-vectors 400 "
      "--vector-dim 16 --epochs 2 --learning-rate 0.01";
  // A log (not a terminal): SageMaker's lines, for the scrapers that read them.
  CommandResult logged = RunIpinsights(dir_, args);
  ASSERT_EQ(logged.exit_code, 0) << logged.err;
  EXPECT_THAT(logged.err, HasSubstr("Epoch[0] Train-binary_classification_accuracy="));
  if (testing::RunShell("command -v script >/dev/null").exit_code != 0) {
    GTEST_SKIP() << "util-linux's script (a pseudo-terminal) is not installed";
  }
  // A terminal: one line per epoch, numbered from 1 like the bar and metrics.json.
  CommandResult terminal =
      testing::RunShell("cd '" + dir_.string() + "' && script -qec \"'" +
                        testing::IpinsightsBinary() + "' " + args + "\" /dev/null");
  ASSERT_EQ(terminal.exit_code, 0) << terminal.out;
  EXPECT_THAT(terminal.out, HasSubstr("epoch 1/2: loss "));
  EXPECT_THAT(terminal.out, HasSubstr("epoch 2/2: loss "));
  EXPECT_THAT(terminal.out, Not(HasSubstr("Epoch[")));
  EXPECT_THAT(terminal.out, Not(HasSubstr("#quality_metric")));
}

TEST_F(FirstHour, TargetFprIsAFractionWithAHint) {
  Ok("train --train train.csv --model-dir m --num-entity-vectors 400 --vector-dim 16 --epochs 1 "
     "--quiet");
  CommandResult percent = RunIpinsights(
      dir_, "evaluate --model m/model.ipinsights --labels sim/labels.csv --target-fpr 1");
  EXPECT_EQ(percent.exit_code, 2);
  EXPECT_THAT(percent.err, HasSubstr("must be a fraction in (0, 0.5]; 0.01 means 1%"));
  EXPECT_EQ(RunIpinsights(dir_,
                          "evaluate --model m/model.ipinsights --labels sim/labels.csv "
                          "--target-fpr 0")
                .exit_code,
            2);
}

}  // namespace
}  // namespace ipinsights
