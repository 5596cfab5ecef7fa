#include "ipinsights/detect/finding_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "../storage/s3_test_support.h"
#include "../testing/scratch_test.h"
#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

using ::testing::HasSubstr;

constexpr const char* kBucket = "ipinsights-finding-state";
const ::testing::Environment* const kStopMoto =
    ::testing::AddGlobalTestEnvironment(new s3test::StopProcessMoto(kBucket));

int64_t Day(const char* date) { return DaysFromCivil(*ParseDate(date)) * 86400; }

Finding MakeFinding(const std::string& entity, const char* ip, int64_t start, int64_t length) {
  Finding finding;
  finding.entity = entity;
  finding.ip = *IpAddress::Parse(ip);
  finding.window_start = start;
  finding.window_end = start + length;
  finding.id = "ipinsights/cloudtrail/" + entity + "/" + std::to_string(start);
  return finding;
}

class FindingStateTest : public testing::ScratchTest {};

TEST_F(FindingStateTest, MissingStateIsEmpty) {
  FindingState state = FindingState::Load(Path("state"));
  EXPECT_EQ(state.entries(), 0u);
  uint64_t already = 7;
  std::vector<Finding> fresh =
      state.Unreported({MakeFinding("a", "203.0.113.1", Day("2026-12-01"), 86400)}, &already);
  EXPECT_EQ(fresh.size(), 1u);
  EXPECT_EQ(already, 0u);
}

TEST_F(FindingStateTest, ReportedPairIsNotReportedAgainInAnOverlappingWindow) {
  {
    FindingState state = FindingState::Load(Path("state"));
    state.Record({MakeFinding("alice", "203.0.113.1", Day("2026-12-01"), 86400)},
                 Day("2026-12-02"));
    state.Save();
  }
  FindingState state = FindingState::Load(Path("state"));
  EXPECT_EQ(state.entries(), 1u);
  uint64_t already = 0;
  std::vector<Finding> fresh = state.Unreported(
      {
          MakeFinding("alice", "203.0.113.1", Day("2026-12-01"), 86400),  // same window
          // A later run with hourly windows inside the reported day.
          MakeFinding("alice", "203.0.113.1", Day("2026-12-01") + 5 * 3600, 3600),
          MakeFinding("alice", "203.0.113.2", Day("2026-12-01"), 86400),  // other IP
          MakeFinding("bob", "203.0.113.1", Day("2026-12-01"), 86400),    // other entity
      },
      &already);
  EXPECT_EQ(already, 2u);
  ASSERT_EQ(fresh.size(), 2u);
  EXPECT_EQ(fresh[0].ip.ToString(), "203.0.113.2");
  EXPECT_EQ(fresh[1].entity, "bob");
}

TEST_F(FindingStateTest, ReportedPairIsReportedAgainInTheNextWindow) {
  FindingState state = FindingState::Load(Path("state"));
  state.Record({MakeFinding("alice", "203.0.113.1", Day("2026-12-01"), 86400)}, Day("2026-12-02"));
  uint64_t already = 0;
  std::vector<Finding> fresh =
      state.Unreported({MakeFinding("alice", "203.0.113.1", Day("2026-12-02"), 86400)}, &already);
  EXPECT_EQ(fresh.size(), 1u);
  EXPECT_EQ(already, 0u);
}

TEST_F(FindingStateTest, OtherKindIsAnotherPair) {
  FindingState state = FindingState::Load(Path("state"));
  state.Record({MakeFinding("curl/8", "203.0.113.1", Day("2026-12-01"), 86400)}, Day("2026-12-02"));
  Finding waf = MakeFinding("curl/8", "203.0.113.1", Day("2026-12-01"), 86400);
  waf.kind = LogKind::kWaf;
  EXPECT_EQ(state.Unreported({waf}, nullptr).size(), 1u);
}

TEST_F(FindingStateTest, SaveWritesDocumentedLines) {
  FindingState state = FindingState::Load(Path("state"));
  state.Record({MakeFinding("alice", "203.0.113.1", Day("2026-12-01"), 86400)},
               Day("2026-12-02") + 60);
  state.Save();
  EXPECT_EQ(Read("state/reported.ndjson"),
            "{\"type\":\"ipinsights.reported/1\",\"kind\":\"cloudtrail\",\"entity\":\"alice\","
            "\"ip\":\"203.0.113.1\",\"window_start\":\"2026-12-01T00:00:00Z\",\"window_end\":"
            "\"2026-12-02T00:00:00Z\",\"id\":\"ipinsights/cloudtrail/alice/" +
                std::to_string(Day("2026-12-01")) +
                "\",\"reported_at\":\"2026-12-02T00:01:00Z\"}\n");
}

TEST_F(FindingStateTest, SavePrunesWindowsOlderThanKeep) {
  FindingState state = FindingState::Load(Path("state"));
  state.Record({MakeFinding("old", "203.0.113.1", Day("2026-10-01"), 86400),
                MakeFinding("recent", "203.0.113.1", Day("2026-11-20"), 86400),
                MakeFinding("new", "203.0.113.1", Day("2026-12-06"), 86400)},
               Day("2026-12-07"));
  state.Save(30 * 86400);
  EXPECT_EQ(state.entries(), 2u);
  FindingState loaded = FindingState::Load(Path("state"));
  EXPECT_EQ(loaded.entries(), 2u);
  EXPECT_EQ(
      loaded.Unreported({MakeFinding("old", "203.0.113.1", Day("2026-10-01"), 86400)}, nullptr)
          .size(),
      1u);
  EXPECT_EQ(
      loaded.Unreported({MakeFinding("recent", "203.0.113.1", Day("2026-11-20"), 86400)}, nullptr)
          .size(),
      0u);
}

TEST_F(FindingStateTest, AGarbledFarFutureWindowNeitherPrunesTheRestNorBreaksLoading) {
  FindingState state = FindingState::Load(Path("state"));
  // A record dated 9999-12-31 (garbled or hostile): its window ends in year 10000.
  state.Record({MakeFinding("recent", "203.0.113.1", Day("2026-11-20"), 86400),
                MakeFinding("garbled", "203.0.113.2", Day("9999-12-31"), 86400)},
               Day("2026-12-07"));
  state.Save(30 * 86400);
  EXPECT_EQ(state.entries(), 2u);
  FindingState loaded = FindingState::Load(Path("state"));  // loads: no year 10000 written
  EXPECT_EQ(loaded.entries(), 2u);
  EXPECT_TRUE(
      loaded.Unreported({MakeFinding("recent", "203.0.113.1", Day("2026-11-20"), 86400)}, nullptr)
          .empty());
}

TEST_F(FindingStateTest, OldLogsReplayedKeepTheirState) {
  // Findings of 2024 reported in 2026: pruning counts from the newest window, not the clock.
  FindingState state = FindingState::Load(Path("state"));
  state.Record({MakeFinding("a", "203.0.113.1", Day("2024-03-04"), 86400)}, Day("2026-12-07"));
  state.Save(30 * 86400);
  EXPECT_EQ(FindingState::Load(Path("state")).entries(), 1u);
}

TEST_F(FindingStateTest, CorruptLineNamesLocationAndLine) {
  FindingState state = FindingState::Load(Path("state"));
  state.Record({MakeFinding("alice", "203.0.113.1", Day("2026-12-01"), 86400)}, Day("2026-12-02"));
  state.Save();
  const std::string good = Read("state/reported.ndjson");
  Write("state/reported.ndjson", good + "\n{\"type\":\"ipinsights.reported/1\",\"kind\":\"x\"\n");
  try {
    FindingState::Load(Path("state"));
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr(Path("state/reported.ndjson") + ":3: not a JSON object"));
  }
  Write("state/reported.ndjson",
        good + std::string(good).replace(good.find("203.0.113.1"), 11, "203.0.113.1/24"));
  try {
    FindingState::Load(Path("state"));
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(),
                HasSubstr(Path("state/reported.ndjson") + ":2: \"ip\" is not an IP address"));
  }
}

TEST_F(FindingStateTest, SaveReplacesTheObjectAtomically) {
  FindingState state = FindingState::Load(Path("state"));
  state.Record({MakeFinding("alice", "203.0.113.1", Day("2026-12-01"), 86400)}, Day("2026-12-02"));
  state.Save();
  const std::string before = Read("state/reported.ndjson");
  struct stat first {};
  ASSERT_EQ(::stat(Path("state/reported.ndjson").c_str(), &first), 0);
  // A reader that opened the old object keeps reading it whole while Save runs.
  std::ifstream reader(Path("state/reported.ndjson"), std::ios::binary);
  state.Record({MakeFinding("bob", "203.0.113.2", Day("2026-12-02"), 86400)}, Day("2026-12-03"));
  state.Save();
  struct stat second {};
  ASSERT_EQ(::stat(Path("state/reported.ndjson").c_str(), &second), 0);
  EXPECT_NE(first.st_ino, second.st_ino) << "rewritten in place, not renamed over";
  std::stringstream old_bytes;
  old_bytes << reader.rdbuf();
  EXPECT_EQ(old_bytes.str(), before);
  // Nothing but the state object is left in the folder.
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(Path("state"))) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"reported.ndjson"});
  EXPECT_EQ(FindingState::Load(Path("state")).entries(), 2u);
}

TEST(FindingStateS3, RoundTripsThroughS3) {
  s3test::LocalServer* moto = s3test::ProcessMoto(kBucket);
  if (moto == nullptr) {
    GTEST_SKIP() << "moto_server is not installed (pip install 'moto[server]'): the s3:// state "
                    "location cannot be tested without an S3 endpoint; local state is tested";
  }
  const std::string location = std::string("s3://") + kBucket + "/state/cloudtrail";
  FindingState state = FindingState::Load(location);
  EXPECT_EQ(state.entries(), 0u);
  state.Record({MakeFinding("alice", "203.0.113.1", Day("2026-12-01"), 86400)}, Day("2026-12-02"));
  state.Save();
  EXPECT_TRUE(OpenStorage(location + "/reported.ndjson").Exists(location + "/reported.ndjson"));
  FindingState loaded = FindingState::Load(location);
  EXPECT_EQ(loaded.entries(), 1u);
  uint64_t already = 0;
  EXPECT_TRUE(
      loaded.Unreported({MakeFinding("alice", "203.0.113.1", Day("2026-12-01"), 86400)}, &already)
          .empty());
  EXPECT_EQ(already, 1u);
  WriteWholeObject(location + "/reported.ndjson", "not json\n");
  try {
    FindingState::Load(location);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr(location + "/reported.ndjson:1: not a JSON object"));
  }
}

}  // namespace
}  // namespace ipinsights
