// The entity history `prepare` writes beside its training output (RunPrepareJob).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "../logs/log_test_util.h"
#include "../testing/scratch_test.h"
#include "ipinsights/base/civil_time.h"
#include "ipinsights/dataset/prepare_job.h"
#include "ipinsights/dataset/shard.h"
#include "ipinsights/history/entity_history.h"

namespace ipinsights {
namespace {

namespace fs = std::filesystem;

int32_t Day(const char* date) { return static_cast<int32_t>(DaysFromCivil(*ParseDate(date))); }

class PrepareHistoryTest : public testing::ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    // A1 on three days from two /24s, B1 on one day; several objects per day.
    DayFile("2024-05-01", "a", {{"A1", "198.51.100.1"}, {"B1", "203.0.113.9"}});
    DayFile("2024-05-02", "a", {{"A1", "198.51.100.1"}, {"A1", "198.51.7.1"}});
    DayFile("2024-05-03", "a", {{"A1", "2001:db8:5::1"}});
    DayFile("2024-05-03", "b", {{"C1", "192.0.2.1"}});
  }
  void DayFile(const std::string& day, const std::string& name,
               const std::vector<std::pair<std::string, std::string>>& events) {
    std::string text = "{\"Records\":[";
    for (size_t i = 0; i < events.size(); ++i) {
      if (i) text += ",";
      text += testing::IamUserRecord(events[i].first, events[i].second, day + "T10:00:00Z");
    }
    text += "]}";
    const std::string ymd = day.substr(0, 4) + "/" + day.substr(5, 2) + "/" + day.substr(8, 2);
    Write("logs/AWSLogs/111122223333/CloudTrail/us-east-1/" + ymd + "/" + name + ".json.gz",
          testing::Gzip(text));
  }
  PrepareOptions Options() {
    PrepareOptions options;
    options.inputs = {Path("logs")};
    options.output = Path("train.csv");
    options.threads = 2;
    return options;
  }
};

TEST_F(PrepareHistoryTest, WritesTheHistoryOfTheTrainingRowsBesideThem) {
  const PrepareSummary summary = RunPrepareJob(Options());
  EXPECT_EQ(summary.history_location, Path("train.csv.history"));
  EXPECT_EQ(summary.history_entities, 3u);
  EXPECT_EQ(summary.history_bytes, fs::file_size(Path("train.csv.history")));
  EXPECT_THAT(PrepareSummaryJson(summary),
              ::testing::HasSubstr("\"history\": {\"location\": \"" + Path("train.csv.history") +
                                   "\", \"entities\": 3, \"bytes\": "));
  const EntityHistory history = ReadHistoryFile(Path("train.csv.history"));
  EXPECT_EQ(history.events(), summary.pairs_written);
  EXPECT_EQ(history.first_day(), Day("2024-05-01"));
  EXPECT_EQ(history.last_day(), Day("2024-05-03"));
  const EntityRecord* a1 = history.Find("A1");
  ASSERT_NE(a1, nullptr);
  EXPECT_EQ(a1->events, 4u);
  EXPECT_EQ(a1->first_day, Day("2024-05-01"));
  EXPECT_EQ(a1->last_day, Day("2024-05-03"));
  EXPECT_EQ(a1->addresses[0].ip, *IpAddress::Parse("198.51.100.1"));
  EXPECT_EQ(a1->addresses[0].events, 2u);
  const NetworkUse* v6 = a1->FindNetwork(*IpAddress::Parse("2001:db8:5::99"), NetworkLevel::kFine);
  ASSERT_NE(v6, nullptr);
  EXPECT_EQ(v6->first_day, Day("2024-05-03"));
  EXPECT_EQ(history.EntitiesOnNetwork(*IpAddress::Parse("198.51.0.0"), NetworkLevel::kCoarse), 1u);
  EXPECT_EQ(history.Find("B1")->last_day, Day("2024-05-01"));
}

TEST_F(PrepareHistoryTest, TheSameBytesForAnyThreadCount) {
  PrepareOptions options = Options();
  options.threads = 1;
  RunPrepareJob(options);
  const std::string one = Read("train.csv.history");
  options.threads = 4;
  RunPrepareJob(options);
  EXPECT_EQ(Read("train.csv.history"), one);
}

TEST_F(PrepareHistoryTest, ValidationRowsStayOut) {
  PrepareOptions options = Options();
  options.validation_output = Path("val.csv");
  options.split = Split::AtDate(*ParseDate("2024-05-03"));
  const PrepareSummary summary = RunPrepareJob(options);
  EXPECT_EQ(summary.validation_pairs_written, 2u);
  EXPECT_FALSE(fs::exists(Path("val.csv.history")));
  const EntityHistory history = ReadHistoryFile(Path("train.csv.history"));
  EXPECT_EQ(history.events(), summary.pairs_written);
  EXPECT_EQ(history.Find("C1"), nullptr);
  EXPECT_EQ(history.Find("A1")->last_day, Day("2024-05-02"));
}

TEST_F(PrepareHistoryTest, NoHistoryWritesNone) {
  PrepareOptions options = Options();
  options.write_history = false;
  const PrepareSummary summary = RunPrepareJob(options);
  EXPECT_TRUE(summary.history_location.empty());
  EXPECT_FALSE(fs::exists(Path("train.csv.history")));
  EXPECT_THAT(PrepareSummaryJson(summary), ::testing::Not(::testing::HasSubstr("history")));
}

TEST_F(PrepareHistoryTest, ShardsWriteOneHistoryPerPartThatMergeToTheWhole) {
  const EntityHistory whole = [&] {
    RunPrepareJob(Options());
    return ReadHistoryFile(Path("train.csv.history"));
  }();
  HistoryBuilder merged;
  for (size_t i = 0; i < 3; ++i) {
    PrepareOptions options = Options();
    options.output = Path("parts");
    options.shard = Shard{i, 3};
    const PrepareSummary summary = RunPrepareJob(options);
    const std::string part = Path("parts/" + ShardPartName(Shard{i, 3}));
    EXPECT_EQ(summary.history_location, part + ".history");
    merged.Merge(ReadHistoryFile(part + ".history"));
  }
  const EntityHistory history = std::move(merged).Finish();
  ASSERT_EQ(history.entities(), whole.entities());
  EXPECT_EQ(history.events(), whole.events());
  for (const EntityRecord& record : whole.records()) {
    const EntityRecord* other = history.Find(record.entity);
    ASSERT_NE(other, nullptr);
    EXPECT_EQ(other->events, record.events);
    EXPECT_EQ(other->first_day, record.first_day);
    EXPECT_EQ(other->last_day, record.last_day);
    EXPECT_EQ(other->fine.size(), record.fine.size());
  }
  // A second sharded run reading the folder its parts are in ignores them and their
  // histories.
  PrepareOptions again = Options();
  again.inputs = {Path("logs"), Path("parts")};
  again.output = Path("parts");
  again.shard = Shard{0, 1};
  EXPECT_EQ(RunPrepareJob(again).skipped[SkipReason::kMalformed], 0u);
}

TEST_F(PrepareHistoryTest, DroppedCorruptObjectsAreNotInTheHistory) {
  std::string bytes = testing::Gzip(
      "{\"Records\":[" + testing::IamUserRecord("D1", "10.9.9.9", "2024-05-02T01:00:00Z") + "]}");
  bytes[bytes.size() - 8] ^= 1;  // the CRC32
  Write("logs/AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/02/corrupt.json.gz", bytes);
  PrepareOptions options = Options();
  options.threads = 1;
  const PrepareSummary summary = RunPrepareJob(options);
  EXPECT_EQ(summary.pairs_written, 6u);
  const EntityHistory history = ReadHistoryFile(Path("train.csv.history"));
  EXPECT_EQ(history.Find("D1"), nullptr);
  EXPECT_EQ(history.events(), 6u);

  options.keep_corrupt = true;
  RunPrepareJob(options);
  EXPECT_NE(ReadHistoryFile(Path("train.csv.history")).Find("D1"), nullptr);
}

TEST_F(PrepareHistoryTest, AHistoryAmongTheInputsIsNotReadAsLogs) {
  PrepareOptions options = Options();
  options.output = Path("logs/train.csv");
  const PrepareSummary first = RunPrepareJob(options);
  ASSERT_TRUE(fs::exists(Path("logs/train.csv.history")));
  const PrepareSummary second = RunPrepareJob(options);
  EXPECT_EQ(second.files, first.files);
  EXPECT_EQ(second.skipped[SkipReason::kMalformed], 0u);
}

TEST_F(PrepareHistoryTest, StdoutGetsNoHistory) {
  PrepareOptions options = Options();
  options.output = "-";
  ::testing::internal::CaptureStdout();
  const PrepareSummary summary = RunPrepareJob(options);
  ::testing::internal::GetCapturedStdout();
  EXPECT_TRUE(summary.history_location.empty());
}

}  // namespace
}  // namespace ipinsights
