#include "ipinsights/dataset/shard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "../testing/scratch_test.h"
#include "ipinsights/base/error.h"
#include "ipinsights/dataset/channel_listing.h"

namespace ipinsights {
namespace {

using ::testing::HasSubstr;

std::string UsageMessage(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageError& error) {
    return error.what();
  }
  return "no UsageError";
}

TEST(ParseShard, ReadsIndexAndCount) {
  EXPECT_EQ(ParseShard("0/1"), (Shard{0, 1}));
  EXPECT_EQ(ParseShard("11/12"), (Shard{11, 12}));
  EXPECT_EQ(ParseShard("03/12"), (Shard{3, 12}));
}

TEST(ParseShard, RefusesBadValuesNamingThem) {
  EXPECT_EQ(UsageMessage([] { ParseShard("3/3"); }),
            "--shard \"3/3\": the index is 0-based and must be below the count (0..2)");
  EXPECT_THAT(UsageMessage([] { ParseShard("a/2"); }),
              HasSubstr("--shard \"a/2\": expected I/N, the 0-based shard index I"));
  EXPECT_EQ(UsageMessage([] { ParseShard("0/0"); }),
            "--shard \"0/0\": the number of shards must be from 1 to 100000");
  for (const char* bad : {"", "1", "1/", "/2", "-1/2", "+1/2", " 1/2", "1/2/3", "1.0/2"}) {
    EXPECT_THAT(UsageMessage([&] { ParseShard(bad); }), HasSubstr("expected I/N")) << bad;
  }
  EXPECT_THAT(UsageMessage([] { ParseShard("0/100001"); }), HasSubstr("from 1 to 100000"));
}

// A fake environment.
std::function<const char*(const char*)> Environment(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto found = vars.find(name);
    return found == vars.end() ? nullptr : found->second.c_str();
  };
}

TEST(ShardFromEnvironment, ReadsAwsBatchAndKubernetes) {
  EXPECT_EQ(ShardFromEnvironment(Environment({})), std::nullopt);
  EXPECT_EQ(ShardFromEnvironment(Environment(
                {{"AWS_BATCH_JOB_ARRAY_INDEX", "4"}, {"AWS_BATCH_JOB_ARRAY_SIZE", "10"}})),
            (Shard{4, 10}));
  EXPECT_EQ(ShardFromEnvironment(
                Environment({{"JOB_COMPLETION_INDEX", "0"}, {"IPINSIGHTS_SHARD_COUNT", "3"}})),
            (Shard{0, 3}));
  // Empty values count as unset.
  EXPECT_EQ(ShardFromEnvironment(
                Environment({{"JOB_COMPLETION_INDEX", ""}, {"IPINSIGHTS_SHARD_COUNT", ""}})),
            std::nullopt);
  // Both engines agreeing is fine.
  EXPECT_EQ(ShardFromEnvironment(Environment({{"AWS_BATCH_JOB_ARRAY_INDEX", "1"},
                                              {"AWS_BATCH_JOB_ARRAY_SIZE", "2"},
                                              {"JOB_COMPLETION_INDEX", "1"},
                                              {"IPINSIGHTS_SHARD_COUNT", "2"}})),
            (Shard{1, 2}));
}

TEST(ShardFromEnvironment, RefusesHalfSetOrInvalidPairsNamingTheVariables) {
  EXPECT_THAT(UsageMessage([] {
                ShardFromEnvironment(Environment({{"AWS_BATCH_JOB_ARRAY_SIZE", "3"}}));
              }),
              HasSubstr("AWS_BATCH_JOB_ARRAY_SIZE is set but AWS_BATCH_JOB_ARRAY_INDEX is not"));
  EXPECT_THAT(UsageMessage([] {
                ShardFromEnvironment(Environment({{"JOB_COMPLETION_INDEX", "3"}}));
              }),
              HasSubstr("JOB_COMPLETION_INDEX is set but IPINSIGHTS_SHARD_COUNT is not"));
  EXPECT_THAT(UsageMessage([] {
                ShardFromEnvironment(
                    Environment({{"JOB_COMPLETION_INDEX", "x"}, {"IPINSIGHTS_SHARD_COUNT", "3"}}));
              }),
              HasSubstr("JOB_COMPLETION_INDEX=\"x\": expected a 0-based shard index below "
                        "IPINSIGHTS_SHARD_COUNT=3"));
  EXPECT_THAT(UsageMessage([] {
                ShardFromEnvironment(Environment(
                    {{"AWS_BATCH_JOB_ARRAY_INDEX", "0"}, {"AWS_BATCH_JOB_ARRAY_SIZE", "0"}}));
              }),
              HasSubstr("AWS_BATCH_JOB_ARRAY_SIZE=\"0\": expected a number of shards from 1"));
  EXPECT_THAT(UsageMessage([] {
                ShardFromEnvironment(Environment({{"AWS_BATCH_JOB_ARRAY_INDEX", "1"},
                                                  {"AWS_BATCH_JOB_ARRAY_SIZE", "2"},
                                                  {"JOB_COMPLETION_INDEX", "0"},
                                                  {"IPINSIGHTS_SHARD_COUNT", "2"}}));
              }),
              HasSubstr("say shard 1/2 but JOB_COMPLETION_INDEX/IPINSIGHTS_SHARD_COUNT say 0/2"));
}

std::vector<ObjectInfo> Objects(const std::vector<uint64_t>& sizes) {
  std::vector<ObjectInfo> objects;
  for (size_t i = 0; i < sizes.size(); ++i) objects.push_back({"o" + std::to_string(i), sizes[i]});
  return objects;
}

// The ranges of all shards, checked to tile the list in order.
std::vector<ShardBounds> AllRanges(const std::vector<ObjectInfo>& objects, size_t count) {
  std::vector<ShardBounds> ranges;
  size_t next = 0;
  for (size_t i = 0; i < count; ++i) {
    ShardBounds range = ShardRange(objects, Shard{i, count});
    EXPECT_EQ(range.begin, next) << "shard " << i;
    EXPECT_LE(range.begin, range.end);
    next = range.end;
    ranges.push_back(range);
  }
  EXPECT_EQ(next, objects.size());
  return ranges;
}

TEST(ShardRange, TilesTheListContiguouslyForAnyCount) {
  std::vector<uint64_t> sizes;
  for (uint64_t i = 0; i < 1000; ++i) sizes.push_back(1 + (i * 7919) % 5000);
  for (size_t count : {1, 2, 3, 7, 64, 999, 1000, 1001, 5000}) AllRanges(Objects(sizes), count);
  AllRanges(Objects({}), 3);
  AllRanges(Objects({0, 0, 0, 0, 0}), 2);
  AllRanges(Objects({0, 0, 5, 0}), 3);
}

TEST(ShardRange, BalancesStoredBytes) {
  // 100 objects of 10 bytes and one of 1000: the big one gets about half the shards' share.
  std::vector<uint64_t> sizes(100, 10);
  std::vector<ShardBounds> four = AllRanges(Objects(sizes), 4);
  for (const ShardBounds& range : four) EXPECT_EQ(range.end - range.begin, 25u);
  sizes.insert(sizes.begin() + 50, 1000);
  std::vector<ShardBounds> two = AllRanges(Objects(sizes), 2);
  EXPECT_EQ(two[0], (ShardBounds{0, 50}));
  EXPECT_EQ(two[1], (ShardBounds{50, 101}));
}

TEST(ShardRange, MoreShardsThanObjectsLeavesSomeEmpty) {
  std::vector<ShardBounds> ranges = AllRanges(Objects({10, 10}), 7);
  size_t empty = 0;
  for (const ShardBounds& range : ranges) empty += range.begin == range.end;
  EXPECT_EQ(empty, 5u);
}

TEST(ShardRange, ZeroBytesSplitsByCount) {
  std::vector<ShardBounds> ranges = AllRanges(Objects({0, 0, 0, 0}), 2);
  EXPECT_EQ(ranges[0], (ShardBounds{0, 2}));
}

TEST(ShardPartName, PadsToTheDigitsOfTheLastIndex) {
  EXPECT_EQ(ShardPartName({0, 1}), "part-0-of-1");
  EXPECT_EQ(ShardPartName({3, 7}), "part-3-of-7");
  EXPECT_EQ(ShardPartName({3, 10}), "part-3-of-10");
  EXPECT_EQ(ShardPartName({3, 12}), "part-03-of-12");
  EXPECT_EQ(ShardPartName({42, 1000}), "part-042-of-1000");
  EXPECT_EQ(ShardPartLocation("s3://b/train", {1, 2}), "s3://b/train/part-1-of-2");
  EXPECT_EQ(ShardPartLocation("s3://b/train/", {1, 2}), "s3://b/train/part-1-of-2");
}

TEST(ParsePartName, ReadsPaddedAndUnpaddedNames) {
  EXPECT_EQ(ParsePartName("part-03-of-12"), (Shard{3, 12}));
  EXPECT_EQ(ParsePartName("part-3-of-12"), (Shard{3, 12}));
  EXPECT_EQ(ParsePartName("part-3-of-12.summary.json"), std::nullopt);
  EXPECT_EQ(ParsePartName("part-12-of-12"), std::nullopt);
  EXPECT_EQ(ParsePartName("train.csv"), std::nullopt);
}

class ListChannelTest : public testing::ScratchTest {};

TEST_F(ListChannelTest, ReadsPartsInIndexOrderAndSkipsSummaries) {
  for (size_t i = 0; i < 12; ++i) {
    // Unpadded names on purpose: lexical order would put 10 and 11 before 2.
    Write("train/part-" + std::to_string(i) + "-of-12", "x");
    Write("train/part-" + std::to_string(i) + "-of-12.summary.json", "{}");
  }
  Write("train/extra.csv", "y");
  Write("train/.hidden", "z");
  std::vector<std::string> names;
  for (const ObjectInfo& object : ListChannel(Path("train"))) {
    names.push_back(object.location.substr(Path("train/").size()));
  }
  std::vector<std::string> expected{"extra.csv"};
  for (size_t i = 0; i < 12; ++i) expected.push_back("part-" + std::to_string(i) + "-of-12");
  EXPECT_EQ(names, expected);
}

TEST_F(ListChannelTest, SkipsTheHistoriesBesideTheData) {
  Write("train/part-0-of-2", "x");
  Write("train/part-0-of-2.history", "h");
  Write("train/part-1-of-2", "x");
  Write("train/part-1-of-2.history", "h");
  Write("train/train.csv", "y");
  Write("train/train.csv.history", "h");
  std::vector<std::string> names;
  for (const ObjectInfo& object : ListChannel(Path("train"))) {
    names.push_back(object.location.substr(Path("train/").size()));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"part-0-of-2", "part-1-of-2", "train.csv"}));
}

TEST_F(ListChannelTest, RefusesAMissingOrMixedPart) {
  Write("train/part-0-of-3", "x");
  Write("train/part-2-of-3", "x");
  try {
    ListChannel(Path("train"));
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("part-1-of-3 is missing (3 parts expected)"));
  }
  Write("train/part-1-of-3", "x");
  EXPECT_EQ(ListChannel(Path("train")).size(), 3u);
  Write("train/part-0-of-2", "x");
  try {
    ListChannel(Path("train"));
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("parts of different sharded runs in one folder"));
  }
}

TEST_F(ListChannelTest, AFileIsItselfWhateverItsName) {
  const std::string part = Write("part-1-of-3", "x");
  ASSERT_EQ(ListChannel(part).size(), 1u);
  const std::string summary = Write("p.summary.json", "x");
  EXPECT_EQ(ListChannel(summary).size(), 1u);
}

}  // namespace
}  // namespace ipinsights
