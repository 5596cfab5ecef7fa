#include "ipinsights/detect/finding.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/detect/finding_formats.h"

namespace ipinsights {
namespace {

int64_t At(const char* timestamp) { return *ParseTimestamp(timestamp); }

ScoredEvent Event(const std::string& entity, const char* ip, const char* timestamp, float score,
                  const std::string& event_id = "") {
  ScoredEvent event;
  event.entity = entity;
  event.ip = *IpAddress::Parse(ip);
  event.score = score;
  event.false_positive_rate = 0.01;
  event.anomalous = true;
  event.has_time = true;
  event.time = At(timestamp);
  event.event_time = timestamp;
  event.event_id = event_id;
  event.event_source = "s3.amazonaws.com";
  event.event_name = "GetObject";
  event.object = "logs/a.json.gz";
  return event;
}

Reason MakeReason(const std::string& code) { return Reason{code, code + " happened", "{}"}; }

TEST(CredentialTypeOf, TellsLongTermFromTemporaryKeys) {
  EXPECT_EQ(CredentialTypeOf("AKIAIOSFODNN7EXAMPLE"), "long_term");
  EXPECT_EQ(CredentialTypeOf("ASIAIOSFODNN7EXAMPLE"), "temporary");
  EXPECT_EQ(CredentialTypeOf("AROAEXAMPLE"), "");
  EXPECT_EQ(CredentialTypeOf(""), "");
}

TEST(ScoredEvent, ActivityIsSourceAndNameOrMethodAndUri) {
  ScoredEvent cloudtrail = Event("e", "1.2.3.4", "2026-12-01T00:00:00Z", 0.1f);
  EXPECT_EQ(cloudtrail.Activity(), "s3.amazonaws.com:GetObject");
  ScoredEvent waf;
  waf.kind = LogKind::kWaf;
  waf.http_method = "POST";
  waf.uri = "/login";
  EXPECT_EQ(waf.Activity(), "POST /login");
}

TEST(SeverityOf, FollowsTheDocumentedRules) {
  Finding finding;
  finding.false_positive_rate = 0.05;
  EXPECT_EQ(SeverityOf(finding), Severity::kLow);
  finding.false_positive_rate = 0.001;
  EXPECT_EQ(SeverityOf(finding), Severity::kMedium);
  finding.false_positive_rate = 0.05;
  finding.reasons = {MakeReason("asn_new_for_entity")};
  EXPECT_EQ(SeverityOf(finding), Severity::kMedium);
  finding.reasons = {MakeReason("coarse_network_new_for_entity")};
  EXPECT_EQ(SeverityOf(finding), Severity::kMedium);
  finding.false_positive_rate = 0.0005;
  EXPECT_EQ(SeverityOf(finding), Severity::kHigh);
  finding.false_positive_rate = 0.5;
  finding.reasons = {MakeReason("instance_credentials_outside_instance")};
  EXPECT_EQ(SeverityOf(finding), Severity::kHigh);
  EXPECT_EQ(SeverityName(Severity::kHigh), "HIGH");
  EXPECT_EQ(SeverityName(Severity::kInformational), "INFORMATIONAL");
}

TEST(FindingAggregator, GroupsOnePairPerWindow) {
  FindingAggregator aggregator;
  aggregator.Add(Event("alice", "203.0.113.7", "2026-12-01T01:00:00Z", 0.2f));
  aggregator.Add(Event("alice", "203.0.113.7", "2026-12-01T23:59:59Z", 0.3f));
  aggregator.Add(Event("alice", "203.0.113.7", "2026-12-02T00:00:00Z", 0.3f));  // next day
  aggregator.Add(Event("alice", "203.0.113.8", "2026-12-01T02:00:00Z", 0.3f));  // other IP
  aggregator.Add(Event("bob", "203.0.113.7", "2026-12-01T02:00:00Z", 0.3f));    // other entity
  EXPECT_EQ(aggregator.size(), 4u);
  std::vector<Finding> findings = std::move(aggregator).Finish().ReadAll();
  ASSERT_EQ(findings.size(), 4u);
  const Finding& first = findings[0];  // the lowest score sorts first at equal severity
  EXPECT_EQ(first.entity, "alice");
  EXPECT_EQ(first.ip.ToString(), "203.0.113.7");
  EXPECT_EQ(first.events, 2u);
  EXPECT_EQ(first.window_start, At("2026-12-01T00:00:00Z"));
  EXPECT_EQ(first.window_end, At("2026-12-02T00:00:00Z"));
  EXPECT_EQ(first.first_seen, At("2026-12-01T01:00:00Z"));
  EXPECT_EQ(first.last_seen, At("2026-12-01T23:59:59Z"));
  EXPECT_EQ(first.first_event_time, "2026-12-01T01:00:00Z");
  EXPECT_EQ(first.last_event_time, "2026-12-01T23:59:59Z");
}

TEST(FindingAggregator, IdsAreStableAcrossRunsAndDistinctPerWindow) {
  auto id_of = [](const char* ip, const char* time, int64_t window) {
    FindingAggregator aggregator({.window_seconds = window});
    aggregator.Add(Event("alice", ip, time, 0.2f));
    return std::move(aggregator).Finish().ReadAll().at(0).id;
  };
  const std::string id = id_of("203.0.113.7", "2026-12-01T05:00:00Z", 86400);
  EXPECT_EQ(id, id_of("203.0.113.7", "2026-12-01T22:00:00Z", 86400));
  EXPECT_EQ(id.rfind("ipinsights/cloudtrail/2026-12-01/", 0), 0u) << id;
  EXPECT_EQ(id.size(), std::string("ipinsights/cloudtrail/2026-12-01/").size() + 16);
  EXPECT_NE(id, id_of("203.0.113.8", "2026-12-01T05:00:00Z", 86400));
  EXPECT_NE(id, id_of("203.0.113.7", "2026-12-02T05:00:00Z", 86400));
  // Hourly windows of one day get ids of their own.
  EXPECT_NE(id_of("203.0.113.7", "2026-12-01T05:00:00Z", 3600),
            id_of("203.0.113.7", "2026-12-01T06:00:00Z", 3600));
}

TEST(FindingAggregator, EventWithoutTimeJoinsItsObjectsLatestWindow) {
  FindingAggregator aggregator;
  aggregator.Add(Event("alice", "203.0.113.7", "2026-12-03T10:00:00Z", 0.2f));
  ScoredEvent untimed = Event("alice", "203.0.113.7", "2026-12-03T10:00:00Z", 0.1f);
  untimed.has_time = false;
  aggregator.Add(untimed);
  ScoredEvent elsewhere = untimed;
  elsewhere.object = "logs/other.json.gz";
  elsewhere.time = 0;  // the scorer saw no time in its object before it either
  aggregator.Add(elsewhere);
  std::vector<Finding> findings = std::move(aggregator).Finish().ReadAll();
  ASSERT_EQ(findings.size(), 2u);
  for (const Finding& finding : findings) {
    if (finding.window_start == 0) {
      EXPECT_EQ(finding.events, 1u);  // no time in its object: the epoch's window
    } else {
      EXPECT_EQ(finding.window_start, At("2026-12-03T00:00:00Z"));
      EXPECT_EQ(finding.events, 2u);
    }
  }
}

TEST(FindingAggregator, SampleEventIdsAreTheEarliestCapped) {
  FindingAggregator aggregator({.max_sample_events = 3});
  const char* times[] = {"2026-12-01T05:00:00Z", "2026-12-01T01:00:00Z", "2026-12-01T04:00:00Z",
                         "2026-12-01T02:00:00Z", "2026-12-01T03:00:00Z"};
  for (int i = 0; i < 5; ++i) {
    aggregator.Add(Event("alice", "203.0.113.7", times[i], 0.2f, "id" + std::to_string(i)));
  }
  Finding finding = std::move(aggregator).Finish().ReadAll().at(0);
  EXPECT_EQ(finding.events, 5u);
  EXPECT_EQ(finding.sample_event_ids, (std::vector<std::string>{"id1", "id3", "id4"}));
}

TEST(FindingAggregator, ActivitiesAreDistinctAndCappedWithTruncatedFlag) {
  FindingAggregator aggregator({.max_activities = 2});
  for (const char* name : {"GetObject", "GetObject", "PutObject"}) {
    ScoredEvent event = Event("alice", "203.0.113.7", "2026-12-01T05:00:00Z", 0.2f);
    event.event_name = name;
    aggregator.Add(event);
  }
  Finding finding = std::move(aggregator).Finish().ReadAll().at(0);
  EXPECT_EQ(finding.activities,
            (std::vector<std::string>{"s3.amazonaws.com:GetObject", "s3.amazonaws.com:PutObject"}));
  EXPECT_FALSE(finding.activities_truncated);

  FindingAggregator more({.max_activities = 2});
  for (const char* name : {"GetObject", "PutObject", "DeleteObject"}) {
    ScoredEvent event = Event("alice", "203.0.113.7", "2026-12-01T05:00:00Z", 0.2f);
    event.event_name = name;
    more.Add(event);
  }
  Finding truncated = std::move(more).Finish().ReadAll().at(0);
  EXPECT_EQ(truncated.activities.size(), 2u);
  EXPECT_TRUE(truncated.activities_truncated);
}

TEST(FindingAggregator, LowestScoringEventGivesScoreReasonsAndFields) {
  FindingAggregator aggregator;
  ScoredEvent high = Event("alice", "203.0.113.7", "2026-12-01T05:00:00Z", 0.4f);
  high.reasons = {MakeReason("ip_new_for_entity")};
  high.aws_region = "eu-west-1";
  ScoredEvent low = Event("alice", "203.0.113.7", "2026-12-01T06:00:00Z", 0.1f);
  low.false_positive_rate = 0.0004;
  low.reasons = {MakeReason("coarse_network_new_for_entity"), MakeReason("score_below_threshold")};
  low.aws_region = "us-west-2";
  low.account_id = "123456789012";
  low.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  low.record_index = 17;
  aggregator.Add(high);
  aggregator.Add(low);
  Finding finding = std::move(aggregator).Finish().ReadAll().at(0);
  EXPECT_FLOAT_EQ(finding.lowest_score, 0.1f);
  EXPECT_DOUBLE_EQ(finding.false_positive_rate, 0.0004);
  ASSERT_EQ(finding.reasons.size(), 2u);
  EXPECT_EQ(finding.reasons[0].code, "coarse_network_new_for_entity");
  EXPECT_EQ(finding.region, "us-west-2");
  EXPECT_EQ(finding.account_id, "123456789012");
  EXPECT_EQ(finding.credential_type, "long_term");
  EXPECT_EQ(finding.record_index, 17u);
  EXPECT_EQ(finding.severity, Severity::kHigh);
}

TEST(FindingAggregator, RuleReasonKeptWhicheverEventCarriedIt) {
  FindingAggregator aggregator;
  ScoredEvent stolen = Event("AROAEXAMPLE:i-0abc", "203.0.113.7", "2026-12-01T05:00:00Z", 0.9f);
  stolen.reasons = {MakeReason("instance_credentials_outside_instance")};
  ScoredEvent low = Event("AROAEXAMPLE:i-0abc", "203.0.113.7", "2026-12-01T06:00:00Z", 0.1f);
  low.false_positive_rate = 0.5;
  low.reasons = {MakeReason("ip_new_for_entity")};
  aggregator.Add(stolen);
  aggregator.Add(low);
  Finding finding = std::move(aggregator).Finish().ReadAll().at(0);
  ASSERT_EQ(finding.reasons.size(), 2u);
  EXPECT_EQ(finding.reasons[0].code, "instance_credentials_outside_instance");
  EXPECT_EQ(finding.reasons[1].code, "ip_new_for_entity");
  EXPECT_EQ(finding.severity, Severity::kHigh);
}

TEST(FindingAggregator, SortsBySeverityThenLowestScore) {
  FindingAggregator aggregator;
  ScoredEvent low = Event("a", "203.0.113.1", "2026-12-01T05:00:00Z", 0.05f);
  ScoredEvent stolen = Event("b", "203.0.113.2", "2026-12-01T05:00:00Z", 0.9f);
  stolen.reasons = {MakeReason("instance_credentials_outside_instance")};
  ScoredEvent lower = Event("c", "203.0.113.3", "2026-12-01T05:00:00Z", 0.01f);
  aggregator.Add(low);
  aggregator.Add(stolen);
  aggregator.Add(lower);
  std::vector<Finding> findings = std::move(aggregator).Finish().ReadAll();
  ASSERT_EQ(findings.size(), 3u);
  EXPECT_EQ(findings[0].entity, "b");
  EXPECT_EQ(findings[1].entity, "c");
  EXPECT_EQ(findings[2].entity, "a");
}

TEST(FindingAggregator, MemoryPerFindingIsBounded) {
  FindingAggregator aggregator({.max_sample_events = 5, .max_activities = 4});
  for (int i = 0; i < 10000; ++i) {
    ScoredEvent event =
        Event("alice", "203.0.113.7", "2026-12-01T05:00:00Z", 0.2f, "event-" + std::to_string(i));
    event.event_name = "Call" + std::to_string(i);
    event.reasons = {MakeReason("ip_new_for_entity"),
                     MakeReason("instance_credentials_outside_instance")};
    aggregator.Add(event);
  }
  Finding finding = std::move(aggregator).Finish().ReadAll().at(0);
  EXPECT_EQ(finding.events, 10000u);
  EXPECT_EQ(finding.sample_event_ids.size(), 5u);
  EXPECT_EQ(finding.activities.size(), 4u);
  EXPECT_TRUE(finding.activities_truncated);
  EXPECT_EQ(finding.reasons.size(), 2u);
}

}  // namespace
}  // namespace ipinsights

namespace ipinsights {
namespace {

// A day of flagged events made to exercise every way two parts of one finding combine:
// repeated pairs far apart in arrival order, equal times and scores (ties), events without
// a time, several objects, many activities, rule reasons on some events only.
std::vector<ScoredEvent> ManyFlaggedEvents(size_t count, uint64_t seed) {
  std::vector<ScoredEvent> events;
  uint64_t state = seed;
  auto next = [&](uint64_t bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % bound;
  };
  for (size_t i = 0; i < count; ++i) {
    const std::string entity = "entity-" + std::to_string(next(40));
    const std::string ip = "203.0.113." + std::to_string(next(6));
    const std::string time = fmt::format("2026-12-0{}T{:02}:{:02}:00Z", 1 + next(2), next(24), 0);
    ScoredEvent event = Event(entity, ip.c_str(), time.c_str(), static_cast<float>(next(8)) / 8,
                              "id-" + std::to_string(i));
    event.object = "logs/" + std::to_string(next(3)) + ".json.gz";
    event.record_index = i;
    event.event_name = "Call" + std::to_string(next(30));
    event.has_time = next(10) != 0;
    if (!event.has_time) event.time = next(2) ? At("2026-12-01T12:00:00Z") : 0;
    event.reasons = {MakeReason("ip_new_for_entity")};
    if (next(7) == 0) event.reasons.push_back(MakeReason("instance_credentials_outside_instance"));
    if (next(5) == 0) event.reasons.push_back(MakeReason("coarse_network_new_for_entity"));
    event.false_positive_rate = static_cast<double>(next(5)) / 1000;
    event.account_id = std::to_string(next(3));
    if (next(3) == 0) {  // enrichment, so that every field goes through the spill files
      event.network = NetworkInfo{.asn = static_cast<uint32_t>(64496 + next(4)),
                                  .as_org = "Example Org",
                                  .country = "NL",
                                  .in_aws = next(2) == 1,
                                  .aws_prefix = "52.94.76.0/22",
                                  .aws_service = "EC2",
                                  .aws_region = "eu-west-1"};
    }
    event.user_agent = "agent/" + std::to_string(next(3));
    event.identity_type = next(2) ? "IAMUser" : "AssumedRole";
    events.push_back(std::move(event));
  }
  return events;
}

std::vector<std::string> Lines(std::vector<Finding> findings) {
  std::vector<std::string> lines;
  for (const Finding& finding : findings) {
    lines.push_back(FindingJson(finding) + " object=" + finding.object +
                    " record=" + std::to_string(finding.record_index));
  }
  return lines;
}

TEST(FindingAggregator, SpillingToDiskGivesTheSameFindingsInTheSameOrder) {
  const std::vector<ScoredEvent> events = ManyFlaggedEvents(5000, 7);
  const FindingOptions options{.max_sample_events = 3, .max_activities = 5};
  FindingAggregator in_memory(options);
  for (const ScoredEvent& event : events) in_memory.Add(event);
  EXPECT_EQ(in_memory.spill_files(), 0u);
  FindingStream memory_stream = std::move(in_memory).Finish();
  EXPECT_EQ(memory_stream.spill_files(), 0u);
  const std::vector<std::string> expected = Lines(std::move(memory_stream).ReadAll());
  ASSERT_GT(expected.size(), 300u);

  // 64 KB: a few dozen findings per spill file; 1 byte: a spill file per event.
  for (size_t budget : {size_t{64} << 10, size_t{1}}) {
    SCOPED_TRACE(budget);
    FindingOptions small = options;
    small.memory_budget = budget;
    small.spill_folder = testing::TempDir();
    FindingAggregator aggregator(small);
    for (const ScoredEvent& event : events) aggregator.Add(event);
    EXPECT_GT(aggregator.spill_files(), 10u);
    // Spill files are merged 16 at a time as they gather: few stay open (5,000 written).
    const auto open_files = std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                          std::filesystem::directory_iterator());
    EXPECT_LT(open_files, 100);
    FindingStream stream = std::move(aggregator).Finish();
    EXPECT_EQ(stream.size(), expected.size());
    EXPECT_GT(stream.spill_files(), 1u);  // sorted for output in parts too
    std::vector<Finding> first;
    Finding finding;
    while (stream.Next(&finding)) first.push_back(finding);
    EXPECT_EQ(Lines(first), expected);
    stream.Rewind();  // a second read (delivery's account pass) sees the same
    EXPECT_EQ(Lines(std::move(stream).ReadAll()), expected);
  }
}

TEST(FindingAggregator, SpillFilesLeaveNothingInTheirFolder) {
  const std::string folder = testing::TempDir() + "/spill-" + std::to_string(::getpid());
  std::filesystem::create_directories(folder);
  {
    FindingAggregator aggregator({.memory_budget = 1, .spill_folder = folder});
    for (const ScoredEvent& event : ManyFlaggedEvents(50, 3)) aggregator.Add(event);
    EXPECT_GT(aggregator.spill_files(), 0u);
    EXPECT_TRUE(std::filesystem::is_empty(folder));  // unlinked while open
    EXPECT_EQ(std::move(aggregator).Finish().ReadAll().size() > 0, true);
  }
  std::filesystem::remove_all(folder);
}

TEST(FindingAggregator, SpillFolderThatCannotBeWrittenIsAnErrorNamingIt) {
  FindingAggregator aggregator({.memory_budget = 1, .spill_folder = "/nonexistent/spill"});
  try {
    aggregator.Add(Event("alice", "203.0.113.7", "2026-12-01T05:00:00Z", 0.2f));
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent/spill"), std::string::npos)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("TMPDIR"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace ipinsights
