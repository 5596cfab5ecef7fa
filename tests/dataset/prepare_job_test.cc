// RunPrepareJob called directly (no binary): the library entry point `prepare`, `demo` and
// `pipeline` share.
#include "ipinsights/dataset/prepare_job.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "../logs/log_test_util.h"
#include "../testing/scratch_test.h"
#include "ipinsights/base/error.h"

namespace ipinsights {
namespace {

namespace fs = std::filesystem;

class PrepareJobTest : public testing::ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    // Two days of CloudTrail (one gzip'd), a digest, and a broken file.
    Day("2024-05-01", {"A1", "A2", "A3"}, true);
    Day("2024-05-02", {"B1", "B2"}, false);
    Write("logs/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/d.json.gz",
          testing::Gzip("{}"));
    Write("logs/broken.json", "{\"Records\":[{\"a\":1}");
  }
  void Day(const std::string& day, const std::vector<std::string>& principals, bool gzip) {
    std::string text = "{\"Records\":[";
    for (size_t i = 0; i < principals.size(); ++i) {
      if (i) text += ",";
      text += testing::IamUserRecord(principals[i], "198.51.100." + std::to_string(i + 1),
                                     day + "T10:00:00Z");
    }
    text += "]}";
    std::string ymd = day.substr(0, 4) + "/" + day.substr(5, 2) + "/" + day.substr(8, 2);
    Write("logs/AWSLogs/111122223333/CloudTrail/us-east-1/" + ymd + "/" + day + ".json.gz",
          gzip ? testing::Gzip(text) : text);
  }
  PrepareOptions Options() {
    PrepareOptions options;
    options.inputs = {(dir_ / "logs").string()};
    options.output = (dir_ / "train.csv").string();
    options.threads = 2;
    return options;
  }
};

TEST_F(PrepareJobTest, WritesTheRowsAndSumsUpWhatItRead) {
  PrepareOptions options = Options();
  BadRecordLog bad_records;
  options.bad_records = &bad_records;
  std::atomic<uint64_t> read{0}, total{0};
  std::atomic<int> calls{0};
  options.progress = [&](uint64_t newly_read, uint64_t all) {
    read += newly_read;
    total = all;
    ++calls;
  };
  PrepareSummary summary = RunPrepareJob(options);
  EXPECT_EQ(
      Read("train.csv"),
      "A1,198.51.100.1\nA2,198.51.100.2\nA3,198.51.100.3\nB1,198.51.100.1\nB2,198.51.100.2\n");
  EXPECT_EQ(summary.files, 4u);
  EXPECT_EQ(summary.digest_files, 1u);
  // 5 pairs, the broken file's one record (no identity: skipped) and its malformed rest.
  EXPECT_EQ(summary.records, 7u);
  EXPECT_EQ(summary.pairs_written, 5u);
  EXPECT_EQ(summary.validation_pairs_written, 0u);
  EXPECT_EQ(summary.skipped[SkipReason::kMalformed], 1u);
  EXPECT_EQ(summary.skipped[SkipReason::kDigest], 1u);
  EXPECT_EQ(summary.threads, 2u);
  EXPECT_FALSE(summary.json_kernel.empty());
  EXPECT_GT(summary.json_bytes, summary.stored_bytes);  // one file is gzip'd
  ASSERT_EQ(bad_records.count(), 1u);
  EXPECT_EQ(bad_records.messages()[0],
            (dir_ / "logs/broken.json").string() +
                ": byte 19: malformed JSON (unexpected end of input inside an object or array)");
  // Every listed byte is counted once against the listing's total (the digest's too,
  // though it is not read: stored_bytes leaves it out).
  EXPECT_GE(calls.load(), 2);
  EXPECT_EQ(read.load(), total.load());
  EXPECT_EQ(
      read.load(),
      summary.stored_bytes +
          fs::file_size(
              dir_ / "logs/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/d.json.gz"));
}

TEST_F(PrepareJobTest, SplitsAtADateAndPrunesByDays) {
  PrepareOptions options = Options();
  options.split = Split::AtDate(*ParseDate("2024-05-02"));
  options.validation_output = (dir_ / "validation.csv").string();
  options.days.from = ParseDate("2024-05-01");
  options.days.to = ParseDate("2024-05-02");
  PrepareSummary summary = RunPrepareJob(options);
  EXPECT_EQ(Read("train.csv"), "A1,198.51.100.1\nA2,198.51.100.2\nA3,198.51.100.3\n");
  EXPECT_EQ(Read("validation.csv"), "B1,198.51.100.1\nB2,198.51.100.2\n");
  EXPECT_EQ(summary.pairs_written, 3u);
  EXPECT_EQ(summary.validation_pairs_written, 2u);
  // The pruned walk never opens the digest folder; the undated broken file is kept.
  EXPECT_EQ(summary.files, 3u);
  EXPECT_EQ(summary.digest_files, 0u);
}

TEST_F(PrepareJobTest, AStrictReporterMakesTheFirstMalformedFileFatal) {
  PrepareOptions options = Options();
  BadRecordLog strict(BadRecordLog::kDefaultCap, /*strict=*/true);
  options.bad_records = &strict;
  try {
    RunPrepareJob(options);
    FAIL() << "no Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("broken.json: byte 19: malformed JSON"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(dir_ / "train.csv"));
}

TEST_F(PrepareJobTest, InconsistentOptionsAreUsageErrors) {
  PrepareOptions options = Options();
  options.split = Split::ByFraction(0.1);
  EXPECT_THROW(RunPrepareJob(options), UsageError);  // no validation output
  options.validation_output = options.output;
  EXPECT_THROW(RunPrepareJob(options), UsageError);  // the same as the output
  options = Options();
  options.days = {ParseDate("2024-05-02"), ParseDate("2024-05-01")};
  EXPECT_THROW(RunPrepareJob(options), UsageError);
}

}  // namespace
}  // namespace ipinsights
