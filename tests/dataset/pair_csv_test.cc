#include "ipinsights/dataset/pair_csv.h"

#include <gtest/gtest.h>

#include <map>

#include "ipinsights/eval/random_attacks.h"

namespace ipinsights {
namespace {

TEST(ParsePairChunk, KeepsGoodRowsAndReportsBadOnesWithLines) {
  ParsedPairs pairs;
  ParsePairChunk(
      "alice,192.0.2.1\n"
      "bob, 2001:db8::7\n"
      "carol,10.0.0.256\n"
      ",10.0.0.1\n"
      "dave,10.0.0.1,extra\n"
      "\n"
      "\"e,ve\",10.0.0.2\n"
      "\"broken,10.0.0.3\n",
      true, &pairs);
  ASSERT_EQ(pairs.entities.size(), 3u);
  EXPECT_EQ(pairs.entities[0], "alice");
  EXPECT_EQ(pairs.entities[1], "bob");
  EXPECT_EQ(pairs.entities[2], "e,ve");
  EXPECT_EQ(pairs.ips[1], *IpAddress::Parse("2001:db8::7"));
  ASSERT_EQ(pairs.bad_rows.size(), 4u);
  EXPECT_EQ(pairs.bad_rows[0].line, 2u);
  EXPECT_EQ(pairs.bad_rows[0].message, "bad IP \"10.0.0.256\"");
  EXPECT_EQ(pairs.bad_rows[1].line, 3u);
  EXPECT_EQ(pairs.bad_rows[1].message, "empty entity");
  EXPECT_EQ(pairs.bad_rows[2].line, 4u);
  EXPECT_EQ(pairs.bad_rows[2].message, "expected 2 fields (entity,ip), got 3");
  EXPECT_EQ(pairs.bad_rows[3].line, 7u);
  EXPECT_EQ(pairs.bad_rows[3].message, "unterminated quoted field");
  EXPECT_EQ(pairs.lines, 8u);
}

TEST(ParsePairChunk, SkipsAHeaderOnlyOnTheFirstLineOfTheInput) {
  ParsedPairs pairs;
  ParsePairChunk("entity,ip\na,10.0.0.1\n", true, &pairs);
  EXPECT_EQ(pairs.entities.size(), 1u);
  EXPECT_TRUE(pairs.bad_rows.empty());
  ParsePairChunk("entity,ip\na,10.0.0.1\n", false, &pairs);
  EXPECT_EQ(pairs.bad_rows.size(), 1u);
}

TEST(FormatBadRow, NamesLocationAndLine) {
  EXPECT_EQ(FormatBadRow("pairs.csv", {88, "bad IP \"1.2.3\""}), "pairs.csv:88: bad IP \"1.2.3\"");
}

TEST(RandomAttacks, ArePublicAddressesOfKnownEntitiesAndDeterministic) {
  std::vector<std::string_view> known = {"u1", "u2", "u1", "u3"};
  RandomAttacks a = MakeRandomAttacks(known, 2000, 42);
  RandomAttacks b = MakeRandomAttacks(known, 2000, 42);
  RandomAttacks c = MakeRandomAttacks(known, 2000, 43);
  ASSERT_EQ(a.ips.size(), 2000u);
  EXPECT_EQ(a.ips, b.ips);
  EXPECT_EQ(a.entities, b.entities);
  EXPECT_NE(a.ips, c.ips);
  std::map<std::string_view, int> per_entity;
  for (size_t i = 0; i < a.ips.size(); ++i) {
    ASSERT_TRUE(a.ips[i].is_v4());
    EXPECT_TRUE(IsPublicIpv4(a.ips[i].v4())) << a.ips[i].ToString();
    ++per_entity[a.entities[i]];
  }
  // Uniform over the three distinct entities, not over rows.
  ASSERT_EQ(per_entity.size(), 3u);
  for (auto& [entity, count] : per_entity) EXPECT_NEAR(count, 667, 100) << entity;
}

TEST(RandomAttacks, PublicMeansNotSpecialPurpose) {
  EXPECT_FALSE(IsPublicIpv4(IpAddress::Parse("10.1.2.3")->v4()));
  EXPECT_FALSE(IsPublicIpv4(IpAddress::Parse("172.31.255.255")->v4()));
  EXPECT_FALSE(IsPublicIpv4(IpAddress::Parse("192.168.0.1")->v4()));
  EXPECT_FALSE(IsPublicIpv4(IpAddress::Parse("127.0.0.1")->v4()));
  EXPECT_FALSE(IsPublicIpv4(IpAddress::Parse("100.64.0.1")->v4()));
  EXPECT_FALSE(IsPublicIpv4(IpAddress::Parse("224.0.0.1")->v4()));
  EXPECT_FALSE(IsPublicIpv4(IpAddress::Parse("255.255.255.255")->v4()));
  EXPECT_FALSE(IsPublicIpv4(IpAddress::Parse("203.0.113.9")->v4()));
  EXPECT_TRUE(IsPublicIpv4(IpAddress::Parse("172.32.0.1")->v4()));
  EXPECT_TRUE(IsPublicIpv4(IpAddress::Parse("8.8.8.8")->v4()));
  EXPECT_TRUE(IsPublicIpv4(IpAddress::Parse("52.94.1.1")->v4()));
}

}  // namespace
}  // namespace ipinsights
