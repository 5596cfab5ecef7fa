// `ipinsights train` end to end through the binary: flags, errors and exit codes, outputs,
// SageMaker container mode.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "../testing/command.h"
#include "../testing/scratch_test.h"
#include "ipinsights/storage/storage.h"
#include "synthetic_pairs.h"

namespace ipinsights {
namespace {

using ::testing::HasSubstr;

using RunResult = testing::CommandResult;

// `ipinsights ARGUMENTS` with `environment` set; its stdout and stderr together in .out.
RunResult RunBinary(const std::string& arguments, const std::string& environment = "") {
  return testing::RunShell(environment + " '" + testing::IpinsightsBinary() + "' " + arguments +
                           " 2>&1");
}

class TrainCommandTest : public testing::ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    const auto population = testing::MakePopulation(200, 15, 3);
    WriteWholeObject(Path("train.csv"), testing::ToCsv(population.train) + "bad,row,here\n");
    WriteWholeObject(Path("validation.csv"), testing::ToCsv(population.test_normal));
  }
  std::string Small() {
    return " --num-entity-vectors 400 --vector-dim 16 --epochs 2 --mini-batch-size 100"
           " --learning-rate 0.01 --ip-hash-buckets 4096 --threads 2";
  }
};

TEST_F(TrainCommandTest, TrainsAndWritesModelMetricsAndSageMakerLogLines) {
  const RunResult r = RunBinary("train --train " + Path("train.csv") + " --validation " +
                                Path("validation.csv") + " --model-dir " + Path("out") + Small());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("Epoch[0] Train-binary_classification_accuracy="));
  EXPECT_THAT(
      r.out,
      HasSubstr("#quality_metric: host=algo-1, epoch=1, validation discriminator_auc <score>="));
  EXPECT_THAT(r.out, HasSubstr(":3001: expected 2 fields (entity,ip), got 3"));
  EXPECT_TRUE(std::filesystem::exists(Path("out/model.ipinsights")));
  EXPECT_THAT(ReadWholeObject(Path("out/metrics.json")), HasSubstr("\"epoch\": 2"));
}

TEST_F(TrainCommandTest, JsonSummaryOnStdoutAndQuietStderr) {
  const RunResult r = RunBinary("train --quiet --json --train " + Path("train.csv") +
                                " --model-dir " + Path("out") + Small());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("{\"model\": ", 0), 0u) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\"training_rows\": 3000, \"bad_rows\": 1"));
}

TEST_F(TrainCommandTest, OutOfRangeHyperparameterIsAUsageError) {
  const RunResult r = RunBinary("train --train " + Path("train.csv") + " --model-dir " +
                                Path("out") + " --vector-dim 2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("vector_dim: 2 is out of range (range 4..4096)"));
  const RunResult sum =
      RunBinary("train --train " + Path("train.csv") + " --model-dir " + Path("out") +
                " --random-negative-sampling-rate 0 --shuffled-negative-sampling-rate 0");
  EXPECT_EQ(sum.exit_code, 2);
  EXPECT_THAT(sum.out, HasSubstr("range 1..500"));
}

TEST_F(TrainCommandTest, HyperparametersFileOfStrings) {
  WriteWholeObject(Path("hp.json"), R"({"num_entity_vectors": "400", "vector_dim": "16",
      "epochs": "1", "mini_batch_size": "100", "learning_rate": "0.01", "ip_hash_buckets": "4096"})");
  const RunResult r = RunBinary("train --quiet --train " + Path("train.csv") + " --model-dir " +
                                Path("out") + " --hyperparameters " + Path("hp.json"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(ReadWholeObject(Path("out/metrics.json")), HasSubstr("\"vector_dim\": \"16\""));
  WriteWholeObject(Path("bad.json"), R"({"epochs": "zero"})");
  const RunResult bad = RunBinary("train --train " + Path("train.csv") + " --model-dir " +
                                  Path("out") + " --hyperparameters " + Path("bad.json"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.out, HasSubstr("bad.json: epochs: \"zero\" is not an integer"));
}

TEST_F(TrainCommandTest, MissingTrainOutsideAContainerIsAUsageError) {
  const RunResult r = RunBinary("train --model-dir " + Path("out"), "SM_ROOT=" + Path("no-sm"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("--train is required"));
}

TEST_F(TrainCommandTest, SageMakerContainerMode) {
  const std::string root = Path("ml");
  std::filesystem::create_directories(root + "/input/config");
  std::filesystem::create_directories(root + "/input/data/train");
  std::filesystem::create_directories(root + "/input/data/validation");
  std::filesystem::copy_file(Path("train.csv"), root + "/input/data/train/train.csv");
  std::filesystem::copy_file(Path("validation.csv"), root + "/input/data/validation/v.csv");
  WriteWholeObject(root + "/input/config/hyperparameters.json",
                   R"({"num_entity_vectors": "400", "vector_dim": "16", "epochs": "1",
                       "mini_batch_size": "100", "learning_rate": "0.01"})");
  const RunResult r = RunBinary("train", "SM_ROOT=" + root);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("validation discriminator_auc <score>="));
  EXPECT_TRUE(std::filesystem::exists(root + "/model/model.ipinsights"));
  EXPECT_TRUE(std::filesystem::exists(root + "/model/metrics.json"));
  // A failure is written where SageMaker looks for it.
  WriteWholeObject(root + "/input/config/hyperparameters.json", R"({"vector_dim": "4097"})");
  const RunResult failed = RunBinary("train", "SM_ROOT=" + root);
  EXPECT_EQ(failed.exit_code, 2);
  EXPECT_THAT(ReadWholeObject(root + "/output/failure"), HasSubstr("vector_dim"));
}

// Interrupted writers leave temp files beside their destination; a folder input must not
// read them (nor other dot-files) as training rows.
TEST_F(TrainCommandTest, TrainFolderSkipsOrphanTempFilesAndDotFiles) {
  const std::string data = Path("data");
  std::filesystem::create_directories(data);
  std::filesystem::copy_file(Path("train.csv"), data + "/train.csv");
  std::filesystem::copy_file(Path("train.csv"), data + "/.train.csv.ipinsights-tmp-Xy12Zw");
  std::filesystem::copy_file(Path("train.csv"), data + "/train.csv.tmp.4242.0");
  WriteWholeObject(data + "/.DS_Store", "junk,1.2.3.4\n");
  const RunResult r =
      RunBinary("train --quiet --json --train " + data + " --model-dir " + Path("out") + Small());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\"training_rows\": 3000, \"bad_rows\": 1"));
}

// model.ipinsights and metrics.json are replaced as one unit: when metrics.json cannot be
// written, the earlier model stays.
TEST_F(TrainCommandTest, ModelIsNotReplacedWhenMetricsCannotBeWritten) {
  ASSERT_EQ(RunBinary("train --quiet --train " + Path("train.csv") + " --model-dir " + Path("out") +
                      Small())
                .exit_code,
            0);
  const std::string model = ReadWholeObject(Path("out/model.ipinsights"));
  const std::string history = ReadWholeObject(Path("out/history.ipinsights"));
  std::filesystem::remove(Path("out/metrics.json"));
  std::filesystem::create_directories(Path("out/metrics.json/x"));  // cannot be replaced
  const RunResult r = RunBinary("train --quiet --train " + Path("train.csv") + " --model-dir " +
                                Path("out") + Small() + " --seed 5");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("metrics.json"));
  EXPECT_EQ(ReadWholeObject(Path("out/model.ipinsights")), model);
  EXPECT_EQ(ReadWholeObject(Path("out/history.ipinsights")), history);
  size_t entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(Path("out"))) {
    (void)entry;
    ++entries;
  }
  // model.ipinsights, history.ipinsights and the metrics.json folder.
  EXPECT_EQ(entries, 3u) << "a temp file was left behind";
}

TEST_F(TrainCommandTest, InitModelShapeMismatchIsAnError) {
  ASSERT_EQ(RunBinary("train --quiet --train " + Path("train.csv") + " --model-dir " + Path("out") +
                      Small())
                .exit_code,
            0);
  const RunResult r =
      RunBinary("train --quiet --train " + Path("train.csv") + " --model-dir " + Path("out2") +
                " --init-model " + Path("out/model.ipinsights") + " --vector-dim 32");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("shape mismatch: vector_dim is 16 in the model but 32"));
  const RunResult ok =
      RunBinary("train --quiet --train " + Path("train.csv") + " --model-dir " + Path("out2") +
                " --init-model " + Path("out/model.ipinsights") + " --epochs 1");
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
}

}  // namespace
}  // namespace ipinsights
