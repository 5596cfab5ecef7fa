#include "ipinsights/eval/random_attacks.h"

#include <gtest/gtest.h>

#include <map>

namespace ipinsights {
namespace {

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
