// The walk of logs/log_listing.h over an in-memory bucket (no server): what it lists and
// how many listings it needs.
#include "ipinsights/logs/log_listing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

namespace ipinsights {
namespace {

Date D(const char* text) { return *ParseDate(text); }

// An in-memory bucket answering ListUnder the way S3Storage does (keys as locations),
// counting the listings.
class FakeBucket {
 public:
  void Add(const std::string& key) { keys_.insert(key); }

  Listing List(const std::string& prefix, ListDepth depth) {
    const bool delimited = depth == ListDepth::kOneLevel;
    ++calls_;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      listed_.push_back(prefix + (delimited ? " /" : ""));
    }
    Listing page;
    std::set<std::string> commons;
    for (auto it = keys_.lower_bound(prefix); it != keys_.end() && it->rfind(prefix, 0) == 0;
         ++it) {
      size_t slash = delimited ? it->find('/', prefix.size()) : std::string::npos;
      if (slash != std::string::npos) {
        commons.insert(it->substr(0, slash + 1));
      } else {
        page.objects.push_back(ObjectInfo{*it, 1});
      }
    }
    page.folders.assign(commons.begin(), commons.end());
    return page;
  }
  FolderLister Lister() {
    return [this](const std::string& prefix, ListDepth depth) { return List(prefix, depth); };
  }
  int calls() const { return calls_; }
  std::vector<std::string> listed() const { return listed_; }

 private:
  std::set<std::string> keys_;
  std::atomic<int> calls_{0};
  std::mutex mutex_;
  std::vector<std::string> listed_;
};

std::vector<std::string> Keys(const DayListing& listing) {
  std::vector<std::string> keys;
  for (const auto& object : listing.objects) keys.push_back(object.location);
  return keys;
}

// Accounts x regions x days, plus digests and insights.
void AddCloudTrail(FakeBucket* bucket, const std::string& root) {
  for (std::string account : {"111111111111", "222222222222"}) {
    for (std::string region : {"us-east-1", "eu-west-1", "ap-south-1"}) {
      for (int day = 1; day <= 20; ++day) {
        std::string dd = (day < 10 ? "0" : "") + std::to_string(day);
        std::string base = root + account + "/CloudTrail/" + region + "/2024/05/" + dd + "/";
        bucket->Add(base + account + "_CloudTrail_" + region + "_202405" + dd + "T0000Z_a.json.gz");
        bucket->Add(base + account + "_CloudTrail_" + region + "_202405" + dd + "T0005Z_b.json.gz");
        bucket->Add(root + account + "/CloudTrail-Digest/" + region + "/2024/05/" + dd +
                    "/digest.json.gz");
      }
    }
  }
}

TEST(LogListing, CloudTrailListsOnlyTheDaysAskedFor) {
  FakeBucket bucket;
  AddCloudTrail(&bucket, "AWSLogs/");
  DayRange options{D("2024-05-03"), D("2024-05-04")};
  DayListing listing = ListByDays("AWSLogs/", options, bucket.Lister(), 4);
  // 2 accounts x 3 regions x 2 days x 2 files.
  EXPECT_EQ(listing.objects.size(), 24u);
  const std::vector<std::string> keys = Keys(listing);
  for (const auto& key : keys) {
    EXPECT_TRUE(key.find("/2024/05/03/") != std::string::npos ||
                key.find("/2024/05/04/") != std::string::npos)
        << key;
    EXPECT_EQ(key.find("Digest"), std::string::npos) << key;
  }
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  // Walk: AWSLogs/, 2 accounts, 2 CloudTrail/ folders, 6 regions (delimited) = 11;
  // days: 6 regions x 2 days = 12. The digest folders are never opened.
  EXPECT_EQ(bucket.calls(), 11 + 12);
  for (const auto& listed : bucket.listed()) EXPECT_EQ(listed.find("Digest"), std::string::npos);
}

TEST(LogListing, OrganisationTrailAccountsAreDiscovered) {
  FakeBucket bucket;
  AddCloudTrail(&bucket, "AWSLogs/o-abc123def4/");
  DayListing listing =
      ListByDays("AWSLogs/", {D("2024-05-20"), D("2024-05-20")}, bucket.Lister(), 2);
  EXPECT_EQ(listing.objects.size(), 12u);
  EXPECT_EQ(bucket.calls(), 12 + 6);  // one more level (the org id) than above
}

TEST(LogListing, FirehoseHoursUnderTheDayAreIncluded) {
  FakeBucket bucket;
  for (int day = 1; day <= 3; ++day) {
    for (int hour = 0; hour < 24; hour += 6) {
      bucket.Add("waf/2024/06/0" + std::to_string(day) + "/" + (hour < 10 ? "0" : "") +
                 std::to_string(hour) + "/aws-waf-logs-x-1-2024-06-0" + std::to_string(day) +
                 ".gz");
    }
  }
  bucket.Add("waf/README.txt");  // no date: kept
  DayListing listing = ListByDays("waf/", {D("2024-06-02"), std::nullopt}, bucket.Lister(), 2);
  EXPECT_EQ(listing.objects.size(), 1u + 8u);
  EXPECT_EQ(listing.objects.front().location, "waf/2024/06/02/00/aws-waf-logs-x-1-2024-06-02.gz");
  EXPECT_EQ(listing.objects.back().location, "waf/README.txt");
  // "waf/" delimited, then 2024-06-02 .. 2024-12-31 is > 62 days: by month, 7 months.
  EXPECT_EQ(bucket.calls(), 1 + 7);
}

TEST(LogListing, EmptyPrefixIsReported) {
  FakeBucket bucket;
  bucket.Add("other/2024/01/01/x");
  DayListing listing = ListByDays("AWSLogs/", {D("2024-01-01"), D("2024-01-01")}, bucket.Lister());
  EXPECT_TRUE(listing.location_empty);
  EXPECT_TRUE(listing.objects.empty());
}

TEST(LogListing, DatePrefixesForShortRangesAreDays) {
  auto prefixes = DatePrefixes("r/", {2023, 2024}, {D("2023-12-31"), D("2024-01-02")});
  EXPECT_EQ(prefixes,
            (std::vector<std::string>{"r/2023/12/31/", "r/2024/01/01/", "r/2024/01/02/"}));
}

TEST(LogListing, DatePrefixesSkipYearsThatAreAbsent) {
  auto prefixes = DatePrefixes("r/", {2024}, {D("2023-12-31"), D("2024-01-01")});
  EXPECT_EQ(prefixes, (std::vector<std::string>{"r/2024/01/01/"}));
}

TEST(LogListing, DatePrefixesForLongRangesAreMonthsAndYears) {
  auto prefixes = DatePrefixes("r/", {2022, 2023, 2024}, {D("2022-11-15"), D("2024-02-01")});
  EXPECT_EQ(prefixes, (std::vector<std::string>{"r/2022/11/", "r/2022/12/", "r/2023/", "r/2024/01/",
                                                "r/2024/02/"}));
}

TEST(LogListing, OpenEndedRangeStopsAtTheYearsPresent) {
  auto prefixes = DatePrefixes("r/", {2024}, {std::nullopt, D("2024-01-01")});
  EXPECT_EQ(prefixes, (std::vector<std::string>{"r/2024/01/01/"}));
}

TEST(LogListing, DigestKeysAreRecognised) {
  EXPECT_TRUE(IsDigestKey("AWSLogs/1/CloudTrail-Digest/us-east-1/2024/01/01/x"));
  EXPECT_TRUE(
      IsDigestKey("s3://b/x/111_CloudTrail-Digest_us-east-1_t_us-east-1_20240101T000000Z.json.gz"));
  EXPECT_FALSE(IsDigestKey("AWSLogs/1/CloudTrail/us-east-1/2024/01/01/x"));
}

TEST(CloudTrailAccountInKey, TheTwelveDigitFolderBeforeCloudTrail) {
  EXPECT_EQ(CloudTrailAccountInKey("s3://b/AWSLogs/123456789012/CloudTrail/us-east-1/2024/01/01/"
                                   "123456789012_CloudTrail_us-east-1_x.json.gz"),
            "123456789012");
  EXPECT_EQ(CloudTrailAccountInKey("logs/AWSLogs/o-abc123/210987654321/CloudTrail/eu-west-1/x"),
            "210987654321");
  EXPECT_EQ(CloudTrailAccountInKey("123456789012/CloudTrail/x"), "123456789012");
  EXPECT_EQ(CloudTrailAccountInKey("AWSLogs/1/CloudTrail/us-east-1/x"), "");
  EXPECT_EQ(CloudTrailAccountInKey("AWSLogs/x123456789012/CloudTrail/us-east-1/x"), "");
  EXPECT_EQ(CloudTrailAccountInKey("AWSLogs/12345678901a/CloudTrail/us-east-1/x"), "");
  EXPECT_EQ(CloudTrailAccountInKey("AWSLogs/123456789012/CloudTrail-Digest/us-east-1/x"), "");
  EXPECT_EQ(CloudTrailAccountInKey("trail.json.gz"), "");
}

TEST(LogListing, DateInKeyFindsAwsLayoutDates) {
  EXPECT_EQ(DateInKey("AWSLogs/123/CloudTrail/eu-west-1/2024/05/01/a.json.gz"),
            ParseDate("2024-05-01"));
  EXPECT_EQ(DateInKey("s3://b/waf/2024/12/31/23/stream-1"), ParseDate("2024-12-31"));
  EXPECT_FALSE(DateInKey("logs/2024/13/01/x"));
  EXPECT_FALSE(DateInKey("file.json"));
}

TEST(LogListing, ALocationNamingOneObjectIsThatObjectWhateverItsDate) {
  FakeBucket bucket;
  AddCloudTrail(&bucket, "AWSLogs/");
  const std::string key =
      "AWSLogs/111111111111/CloudTrail/us-east-1/2024/05/01/"
      "111111111111_CloudTrail_us-east-1_20240501T0000Z_a.json.gz";
  FolderLister lister = [&](const std::string& location, ListDepth depth) {
    if (location == key) return Listing{{ObjectInfo{key, 1}}, {}};
    return bucket.List(location, depth);
  };
  DayListing listing = ListByDays(key, {D("2024-05-10"), D("2024-05-11")}, lister);
  ASSERT_EQ(listing.objects.size(), 1u);
  EXPECT_EQ(listing.objects[0].location, key);
}

}  // namespace
}  // namespace ipinsights
