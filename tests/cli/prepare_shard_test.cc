// `prepare --shard I/N` (issue 13): N shards of one run write part-I-of-N files whose
// concatenation in index order is the unsharded output byte for byte, and whose summaries'
// counters sum to the unsharded summary; the shard also comes from AWS Batch's and
// Kubernetes' environment variables; `train --train FOLDER` reads the parts as one channel.
// The same against moto_server (s3:// inputs and outputs) where it is installed.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "../storage/s3_test_support.h"
#include "../testing/command.h"
#include "../testing/scratch_test.h"
#include "ipinsights/dataset/shard.h"
#include "ipinsights/storage/aws_credentials.h"
#include "ipinsights/storage/local_storage.h"
#include "ipinsights/storage/s3_storage.h"

namespace ipinsights {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using ::testing::HasSubstr;

// The summary counters that sum over shards (`entities` is distinct per part: it does not).
const std::vector<std::string> kSummedCounters = {"files",       "digest_files",
                                                  "bytes_read",  "compressed_bytes",
                                                  "records",     "pairs_written",
                                                  "aws_service", "not_an_ip",
                                                  "ipv6",        "no_entity",
                                                  "malformed",   "out_of_range",
                                                  "digest",      "validation_pairs_written"};

// The counters of a `prepare --json` summary (those present).
std::map<std::string, uint64_t> Counters(const std::string& json) {
  std::map<std::string, uint64_t> counters;
  for (const std::string& name : kSummedCounters) {
    std::smatch match;
    if (std::regex_search(json, match, std::regex("\"" + name + "\": ([0-9]+)"))) {
      counters[name] = std::stoull(match[1]);
    }
  }
  return counters;
}

// The summary without the fields that time the run or name the shard.
std::string WithoutTimings(const std::string& json) {
  static const std::regex timing(R"re(, "(seconds|json_mb_per_second)": [0-9.]+)re");
  // The history's location names the output, which differs between the runs compared.
  static const std::regex history(R"re("history": \{"location": "[^"]*")re");
  return std::regex_replace(std::regex_replace(json, timing, ""), history,
                            R"("history": {"location": "")");
}

// A model file without what names its history: the value of "history_checksum" blanked and
// the file's own checksum (its last 8 bytes) dropped. train's history from shards is not the
// unsharded one (it counts entities per network over the lists each part kept), so only
// the link to it differs between models trained on parts and on the whole; every weight,
// the calibration and the novelty rates must not.
std::string WithoutHistoryLink(std::string model) {
  const size_t key = model.find("\"history_checksum\": \"");
  if (key != std::string::npos) model.replace(key + 21, 16, 16, '0');
  return model.size() >= 8 ? model.substr(0, model.size() - 8) : model;
}

class PrepareShardTest : public testing::ScratchTest {
 protected:
  // `ipinsights ARGS` in the test's folder; `env` is a shell prefix ("A=1 B=2 ").
  virtual CommandResult Run(const std::string& args, const std::string& env = "") {
    return testing::RunIpinsights(dir_, args, "", env);
  }
  // The bytes of a location this test's runs wrote (local here, S3 in the moto test).
  virtual std::string ReadOutput(const std::string& location) { return Read(location); }

  void Simulate(const std::string& kind = "cloudtrail") {
    CommandResult simulated =
        Run("simulate " + kind + " --out sim --users 150 --days 3 --attacks 20 --quiet");
    ASSERT_EQ(simulated.exit_code, 0) << simulated.err;
  }

  // Runs `prepare ARGS --output OUT [--validation-output VOUT]` unsharded and as N shards
  // (--shard I/N, one thread each), and checks the parts against the unsharded output
  // byte for byte and the summaries' counters against its summary.
  void ExpectShardsEqualOneRun(const std::string& args, const std::string& out,
                               const std::string& validation_out, size_t count) {
    SCOPED_TRACE(args + " N=" + std::to_string(count));
    const std::string single_out = out + "single.csv";
    const std::string single_validation = validation_out + "single.csv";
    std::string single_args = args + " --json --output " + single_out;
    if (!validation_out.empty()) single_args += " --validation-output " + single_validation;
    // The unsharded run, once per arguments.
    auto [cached, first_time] = single_runs_.try_emplace(single_args);
    if (first_time) cached->second = Run(single_args);
    const CommandResult& single = cached->second;
    ASSERT_EQ(single.exit_code, 0) << single.err;
    const std::string prefix = out + "n" + std::to_string(count) + "/";
    const std::string validation_prefix = validation_out + "v" + std::to_string(count) + "/";

    std::string parts, validation_parts;
    std::map<std::string, uint64_t> sums;
    for (size_t i = 0; i < count; ++i) {
      std::string shard_args = args + " --json --threads 1 --shard " + std::to_string(i) + "/" +
                               std::to_string(count) + " --output " + prefix;
      if (!validation_out.empty()) shard_args += " --validation-output " + validation_prefix;
      CommandResult shard = Run(shard_args);
      ASSERT_EQ(shard.exit_code, 0) << shard.err;
      const std::string name = ShardPartName(Shard{i, count});
      const std::string summary = ReadOutput(prefix + name + ".summary.json");
      // The summary file is the object `--json` printed.
      EXPECT_EQ(summary, shard.out);
      EXPECT_THAT(summary,
                  HasSubstr(fmt::format("\"shard\": {{\"index\": {}, \"count\": {}}}", i, count)));
      for (const auto& [counter, value] : Counters(summary)) sums[counter] += value;
      parts += ReadOutput(prefix + name);
      if (!validation_out.empty()) validation_parts += ReadOutput(validation_prefix + name);
    }
    const std::string single_rows = ReadOutput(single_out);
    ASSERT_FALSE(single_rows.empty());
    EXPECT_TRUE(parts == single_rows) << "the parts in order differ from the unsharded output";
    if (!validation_out.empty()) {
      const std::string single_validation_rows = ReadOutput(single_validation);
      ASSERT_FALSE(single_validation_rows.empty());
      EXPECT_TRUE(validation_parts == single_validation_rows)
          << "the validation parts in order differ from the unsharded validation output";
    }
    EXPECT_EQ(sums, Counters(single.out)) << single.out;
  }

  std::map<std::string, CommandResult> single_runs_;
};

TEST_F(PrepareShardTest, PartsConcatenateToTheUnshardedOutputAndSummariesSum) {
  Simulate();
  for (size_t count : {1, 2, 3, 7}) {
    // The default out-of-time split (the last day goes to validation).
    ExpectShardsEqualOneRun("prepare cloudtrail --input sim/AWSLogs --to 2024-03-03", "", "v_",
                            count);
  }
  for (size_t count : {2, 7}) {
    // No day range (the whole listing, digest files counted) and a split by fraction.
    ExpectShardsEqualOneRun("prepare cloudtrail --input sim/AWSLogs --validation-fraction 0.2",
                            "f_", "fv_", count);
  }
}

TEST_F(PrepareShardTest, WafPartsConcatenateToTheUnshardedOutput) {
  Simulate("waf");
  for (size_t count : {1, 3}) {
    ExpectShardsEqualOneRun("prepare waf --input sim/AWSLogs", "", "", count);
  }
}

TEST_F(PrepareShardTest, PartNamesArePaddedToSortInIndexOrder) {
  Simulate();
  CommandResult run =
      Run("prepare cloudtrail --input sim/AWSLogs --quiet --shard 3/12 --output parts");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(fs::exists(Path("parts/part-03-of-12")));
  EXPECT_TRUE(fs::exists(Path("parts/part-03-of-12.summary.json")));
}

TEST_F(PrepareShardTest, TheEnvironmentGivesTheShardAndTheFlagWins) {
  Simulate();
  const std::string prepare = "prepare cloudtrail --input sim/AWSLogs --quiet --output ";
  ASSERT_EQ(Run(prepare + "flag --shard 1/3").exit_code, 0);
  CommandResult batch =
      Run(prepare + "batch", "AWS_BATCH_JOB_ARRAY_INDEX=1 AWS_BATCH_JOB_ARRAY_SIZE=3 ");
  ASSERT_EQ(batch.exit_code, 0) << batch.err;
  CommandResult kubernetes =
      Run(prepare + "k8s", "JOB_COMPLETION_INDEX=1 IPINSIGHTS_SHARD_COUNT=3 ");
  ASSERT_EQ(kubernetes.exit_code, 0) << kubernetes.err;
  const std::string part = Read("flag/part-1-of-3");
  ASSERT_FALSE(part.empty());
  EXPECT_TRUE(Read("batch/part-1-of-3") == part);
  EXPECT_TRUE(Read("k8s/part-1-of-3") == part);

  CommandResult flag_wins =
      Run(prepare + "wins --shard 2/3", "AWS_BATCH_JOB_ARRAY_INDEX=0 AWS_BATCH_JOB_ARRAY_SIZE=5 ");
  ASSERT_EQ(flag_wins.exit_code, 0) << flag_wins.err;
  EXPECT_TRUE(fs::exists(Path("wins/part-2-of-3")));
  EXPECT_FALSE(fs::exists(Path("wins/part-0-of-5")));
}

TEST_F(PrepareShardTest, AHalfSetEnvironmentIsAUsageErrorNamingTheVariables) {
  Simulate();
  const std::string prepare = "prepare cloudtrail --input sim/AWSLogs --quiet --output out";
  CommandResult batch = Run(prepare, "AWS_BATCH_JOB_ARRAY_INDEX=1 ");
  EXPECT_EQ(batch.exit_code, 2);
  EXPECT_THAT(batch.err, HasSubstr("AWS_BATCH_JOB_ARRAY_INDEX is set but AWS_BATCH_JOB_ARRAY_SIZE "
                                   "is not"));
  CommandResult kubernetes = Run(prepare, "JOB_COMPLETION_INDEX=0 ");
  EXPECT_EQ(kubernetes.exit_code, 2);
  EXPECT_THAT(kubernetes.err,
              HasSubstr("JOB_COMPLETION_INDEX is set but IPINSIGHTS_SHARD_COUNT is not"));
  CommandResult beyond = Run(prepare, "JOB_COMPLETION_INDEX=4 IPINSIGHTS_SHARD_COUNT=4 ");
  EXPECT_EQ(beyond.exit_code, 2);
  EXPECT_THAT(beyond.err, HasSubstr("JOB_COMPLETION_INDEX=\"4\": expected a 0-based shard index "
                                    "below IPINSIGHTS_SHARD_COUNT=4"));
  EXPECT_FALSE(fs::exists(Path("out")));
}

TEST_F(PrepareShardTest, BadShardValuesAreUsageErrors) {
  Simulate();
  const std::string prepare = "prepare cloudtrail --input sim/AWSLogs --output out --shard ";
  const std::map<std::string, std::string> expected = {
      {"3/3", "--shard \"3/3\": the index is 0-based and must be below the count (0..2)"},
      {"a/2",
       "--shard \"a/2\": expected I/N, the 0-based shard index I below the number of "
       "shards N (e.g. 0/4)"},
      {"0/0", "--shard \"0/0\": the number of shards must be from 1 to 100000"},
      {"-1/2", "--shard \"-1/2\": expected I/N"},
  };
  for (const auto& [value, message] : expected) {
    CommandResult run = Run(prepare + "'" + value + "'");
    EXPECT_EQ(run.exit_code, 2) << value;
    EXPECT_THAT(run.err, HasSubstr(message)) << value;
  }
  CommandResult to_stdout = Run("prepare cloudtrail --input sim/AWSLogs --output - --shard 0/2");
  EXPECT_EQ(to_stdout.exit_code, 2);
  EXPECT_THAT(to_stdout.err, HasSubstr("must be a folder or s3:// prefix"));
}

TEST_F(PrepareShardTest, ARerunOfOneShardGivesTheSameBytes) {
  Simulate();
  const std::string prepare =
      "prepare cloudtrail --input sim/AWSLogs --to 2024-03-03 --quiet --shard 1/3 --output out "
      "--validation-output vout";
  // A shard killed part way (SIGKILL: no clean-up runs) leaves at most its writers' hidden
  // temp files, never a part.
  testing::CommandResult killed = testing::RunShell(
      "cd '" + dir_.string() + "' && { '" + testing::IpinsightsBinary() + "' " + prepare +
      " --threads 1 & pid=$!; sleep 0.05; kill -9 $pid; wait $pid; } 2>/dev/null; echo killed");
  ASSERT_EQ(killed.out, "killed\n");
  if (!fs::exists(Path("out/part-1-of-3.summary.json"))) {
    EXPECT_FALSE(fs::exists(Path("out/part-1-of-3"))) << "the kill left a part without summary";
  }
  ASSERT_EQ(Run(prepare + " --threads 1").exit_code, 0);
  const std::string part = Read("out/part-1-of-3");
  const std::string validation_part = Read("vout/part-1-of-3");
  ASSERT_FALSE(part.empty());
  // Run again (with another thread count) it writes the same bytes over the first run's;
  // a leftover temp file is not read.
  Write("out/.part-1-of-3.ipinsights-tmp-killed", "half a part");
  ASSERT_EQ(Run(prepare + " --threads 2").exit_code, 0);
  EXPECT_TRUE(Read("out/part-1-of-3") == part);
  EXPECT_TRUE(Read("vout/part-1-of-3") == validation_part);
  // And the same bytes as a shard that was never killed.
  ASSERT_EQ(Run("prepare cloudtrail --input sim/AWSLogs --to 2024-03-03 --quiet --shard 1/3 "
                "--output clean --validation-output vclean")
                .exit_code,
            0);
  EXPECT_TRUE(Read("clean/part-1-of-3") == part);
}

TEST_F(PrepareShardTest, AnEmptyShardWritesAnEmptyPartAndIsNoError) {
  Simulate();
  // Two log objects for seven shards: five shards get nothing.
  std::vector<std::string> objects;
  for (const auto& entry : fs::recursive_directory_iterator(Path("sim/AWSLogs"))) {
    if (entry.is_regular_file() && entry.path().string().find("Digest") == std::string::npos) {
      objects.push_back(entry.path().string());
    }
  }
  std::sort(objects.begin(), objects.end());
  ASSERT_GE(objects.size(), 2u);
  fs::create_directories(Path("two"));
  fs::copy_file(objects[0], Path("two/a.json.gz"));
  fs::copy_file(objects[1], Path("two/b.json.gz"));
  size_t empty = 0;
  std::string parts;
  for (size_t i = 0; i < 7; ++i) {
    CommandResult run = Run("prepare cloudtrail --input two --json --output out --shard " +
                            std::to_string(i) + "/7");
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const std::string part = Read("out/part-" + std::to_string(i) + "-of-7");
    EXPECT_TRUE(fs::exists(Path("out/part-" + std::to_string(i) + "-of-7.summary.json")));
    if (part.empty()) {
      ++empty;
      EXPECT_THAT(run.out, HasSubstr("\"files\": 0,"));
    }
    parts += part;
  }
  EXPECT_EQ(empty, 5u);
  ASSERT_EQ(Run("prepare cloudtrail --input two --quiet --output one.csv").exit_code, 0);
  EXPECT_TRUE(parts == Read("one.csv"));
  // One shard of one is the whole run: its emptiness is still an error.
  CommandResult whole =
      Run("prepare cloudtrail --input two --from 2030-01-01 --output none --shard 0/1");
  EXPECT_EQ(whole.exit_code, 1);
  EXPECT_THAT(whole.err, HasSubstr("--allow-empty"));
}

TEST_F(PrepareShardTest, OtherShardsPartsInAnInputFolderAreNotRead) {
  Simulate();
  // The parts go under the input folder: a shard run after another must not read its part.
  const std::string prepare = "prepare cloudtrail --input sim --quiet --output sim/parts --shard ";
  ASSERT_EQ(Run(prepare + "0/2").exit_code, 0);
  ASSERT_EQ(Run(prepare + "1/2").exit_code, 0);
  const std::string second = Read("sim/parts/part-1-of-2");
  ASSERT_EQ(Run(prepare + "0/2").exit_code, 0);
  ASSERT_EQ(Run(prepare + "1/2").exit_code, 0);
  EXPECT_TRUE(Read("sim/parts/part-1-of-2") == second);
}

TEST_F(PrepareShardTest, TrainingOnThePartsFolderGivesTheSameModelBitForBit) {
  Simulate();
  ASSERT_EQ(Run("prepare cloudtrail --input sim/AWSLogs --quiet --output single.csv").exit_code, 0);
  // 12 shards: part-02-of-12 is padded, and the reader orders by index whatever the padding.
  for (size_t i = 0; i < 12; ++i) {
    ASSERT_EQ(Run("prepare cloudtrail --input sim/AWSLogs --quiet --output parts --shard " +
                  std::to_string(i) + "/12")
                  .exit_code,
              0);
  }
  fs::rename(Path("parts/part-02-of-12"), Path("parts/part-2-of-12"));
  const std::string train = " --epochs 2 --vector-dim 16 --threads 2 --seed 5 --quiet";
  CommandResult single = Run("train --train single.csv --model-dir m_single" + train);
  ASSERT_EQ(single.exit_code, 0) << single.err;
  CommandResult parts = Run("train --train parts --model-dir m_parts" + train);
  ASSERT_EQ(parts.exit_code, 0) << parts.err;
  const std::string model = WithoutHistoryLink(Read("m_single/model.ipinsights"));
  ASSERT_NE(model.find("history_checksum"), std::string::npos);
  EXPECT_TRUE(WithoutHistoryLink(Read("m_parts/model.ipinsights")) == model) << "the models differ";

  fs::remove(Path("parts/part-07-of-12"));
  CommandResult missing = Run("train --train parts --model-dir m_missing" + train);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("part-07-of-12 is missing (12 parts expected)"));
}

// The same against moto_server: logs in a bucket, parts under s3:// prefixes. One server
// and one upload of the simulated logs serve the whole suite (uploads to moto are slow).
class PrepareShardS3Test : public PrepareShardTest {
 protected:
  static void SetUpTestSuite() {
    if (!s3test::OnPath("moto_server")) return;
    auto server = s3test::StartServer({"moto_server", "-H", "127.0.0.1"}, {}, "-p");
    if (!server) return;
    moto_ = new s3test::LocalServer(std::move(*server));
    S3Config config;
    config.endpoint = moto_->url();
    config.region = "us-east-1";
    config.credentials = std::make_shared<StaticCredentialsProvider>(
        AwsCredentials{"AKIAIPINSIGHTSTEST01", "secret", "", std::nullopt, "test keys"});
    s3_ = new S3Storage(config);
    s3_->client().CreateBucket("trail");
    s3_->client().CreateBucket("out");
    // The simulated logs, uploaded under the same keys, a few at a time.
    const fs::path sim =
        fs::temp_directory_path() / ("ipinsights_shard_s3_" + std::to_string(::getpid()));
    testing::CommandResult simulated = testing::RunIpinsights(
        fs::temp_directory_path(),
        "simulate cloudtrail --out '" + sim.string() + "' --users 30 --days 3 --attacks 5 --quiet");
    if (simulated.exit_code == 0) {
      // The smallest of the trail's three accounts (327 of its 1,868 objects): every request
      // to moto costs milliseconds, and sharding does not depend on how many accounts there are.
      LocalStorage local;
      std::vector<ObjectInfo> objects;
      for (const auto& entry : fs::directory_iterator(sim / "AWSLogs")) {
        std::vector<ObjectInfo> listed = local.List(entry.path().string());
        if (objects.empty() || listed.size() < objects.size()) objects = std::move(listed);
      }
      s3test::UploadObjects(objects, sim.string(), *s3_, "s3://trail/");
      uploaded_ = true;
    }
    std::error_code ignored;
    fs::remove_all(sim, ignored);
  }
  static void TearDownTestSuite() {
    delete s3_;
    delete moto_;
    s3_ = nullptr;
    moto_ = nullptr;
  }

  void SetUp() override {
    PrepareShardTest::SetUp();
    if (!s3test::OnPath("moto_server")) {
      GTEST_SKIP() << "moto_server is not on PATH (pip install 'moto[server]')";
    }
    if (moto_ == nullptr) GTEST_SKIP() << "moto_server did not start";
    ASSERT_TRUE(uploaded_) << "the simulated logs were not uploaded";
    // Each test its own output prefix.
    out_ = "s3://out/" +
           std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "/";
  }

  CommandResult Run(const std::string& args, const std::string& env = "") override {
    return testing::RunIpinsights(dir_, args + " --endpoint-url " + moto_->url(), "",
                                  env +
                                      "AWS_ACCESS_KEY_ID=AKIAIPINSIGHTSTEST01 "
                                      "AWS_SECRET_ACCESS_KEY=secret AWS_REGION=us-east-1 "
                                      "AWS_EC2_METADATA_DISABLED=true ");
  }
  std::string ReadOutput(const std::string& location) override {
    std::string bytes;
    s3_->ReadAll(location, &bytes);
    return bytes;
  }

  static inline s3test::LocalServer* moto_ = nullptr;
  static inline S3Storage* s3_ = nullptr;
  static inline bool uploaded_ = false;
  std::string out_;
};

TEST_F(PrepareShardS3Test, PartsConcatenateToTheUnshardedOutputAndSummariesSum) {
  // One part and a prime count; the local test covers 2 and 3 (each run lists and reads the
  // bucket through moto, seconds under ASan).
  for (size_t count : {1, 7}) {
    ExpectShardsEqualOneRun(
        "prepare cloudtrail --input s3://trail/AWSLogs --from 2024-03-02 --to 2024-03-03",
        out_ + "train/", out_ + "validation/", count);
  }
}

TEST_F(PrepareShardS3Test, TheEnvironmentFormsWriteTheSamePart) {
  const std::string prepare = "prepare cloudtrail --input s3://trail/AWSLogs --quiet --output ";
  ASSERT_EQ(Run(prepare + out_ + "flag --shard 2/3").exit_code, 0);
  ASSERT_EQ(
      Run(prepare + out_ + "batch/", "AWS_BATCH_JOB_ARRAY_INDEX=2 AWS_BATCH_JOB_ARRAY_SIZE=3 ")
          .exit_code,
      0);
  ASSERT_EQ(
      Run(prepare + out_ + "k8s", "JOB_COMPLETION_INDEX=2 IPINSIGHTS_SHARD_COUNT=3 ").exit_code, 0);
  const std::string part = ReadOutput(out_ + "flag/part-2-of-3");
  ASSERT_FALSE(part.empty());
  EXPECT_TRUE(ReadOutput(out_ + "batch/part-2-of-3") == part);
  EXPECT_TRUE(ReadOutput(out_ + "k8s/part-2-of-3") == part);
  EXPECT_EQ(WithoutTimings(ReadOutput(out_ + "k8s/part-2-of-3.summary.json")),
            WithoutTimings(ReadOutput(out_ + "flag/part-2-of-3.summary.json")));
}

TEST_F(PrepareShardS3Test, TrainingOnThePartsPrefixGivesTheSameModelBitForBit) {
  const std::string prepare = "prepare cloudtrail --input s3://trail/AWSLogs --quiet --output ";
  ASSERT_EQ(Run(prepare + out_ + "single.csv").exit_code, 0);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(Run(prepare + out_ + "parts/ --shard " + std::to_string(i) + "/3").exit_code, 0);
  }
  const std::string train = " --epochs 1 --vector-dim 16 --threads 2 --seed 5 --quiet";
  ASSERT_EQ(Run("train --train " + out_ + "single.csv --model-dir m_single" + train).exit_code, 0);
  CommandResult parts = Run("train --train " + out_ + "parts/ --model-dir m_parts" + train);
  ASSERT_EQ(parts.exit_code, 0) << parts.err;
  const std::string model = WithoutHistoryLink(Read("m_single/model.ipinsights"));
  ASSERT_NE(model.find("history_checksum"), std::string::npos);
  EXPECT_TRUE(WithoutHistoryLink(Read("m_parts/model.ipinsights")) == model) << "the models differ";
}

}  // namespace
}  // namespace ipinsights
