#include "ipinsights/train/negative_sampler.h"

#include <gtest/gtest.h>

#include <set>

#include "ipinsights/base/hash.h"

namespace ipinsights {
namespace {

TrainingRow Row(const char* ip) { return TrainingRow{1, *IpAddress::Parse(ip)}; }

TEST(NegativeSampler, NetworkDrawsAreHostsOfTheTrainingNetworks) {
  const std::vector<TrainingRow> rows = {Row("81.2.3.4"), Row("81.2.200.9"), Row("95.17.0.1"),
                                         Row("2a01:e0a:1::5"), Row("2600:1700:2::1")};
  const NegativeSampler sampler(rows);
  EXPECT_EQ(sampler.v4_networks(), 2u);
  EXPECT_EQ(sampler.v6_networks(), 2u);
  const std::set<uint32_t> seen24 = {0x510203, 0x5102c8, 0x5f1100};  // 81.2.3, 81.2.200, 95.17.0
  const std::set<uint64_t> seen48 = {0x2a010e0a0001ULL, 0x260017000002ULL};
  std::set<uint32_t> v4_networks, v4_hosts;
  std::set<uint64_t> v6_networks;
  int v4_in_seen = 0, v6_in_seen = 0;
  const int draws = 4000;
  for (uint64_t i = 0; i < draws; ++i) {
    // Even k: a host in a known network of the observed pair's family.
    const IpAddress v4 = sampler.Draw(rows[0].ip, 0, Mix64(i));
    ASSERT_TRUE(v4.is_v4());
    v4_networks.insert(v4.v4() >> 16);
    v4_hosts.insert(v4.v4() & 0xffff);
    v4_in_seen += seen24.count(v4.v4() >> 8) ? 1 : 0;
    const IpAddress v6 = sampler.Draw(rows[3].ip, 2, Mix64(i));
    ASSERT_FALSE(v6.is_v4());
    v6_networks.insert(v6.high64() >> 32);
    v6_in_seen += seen48.count(v6.high64() >> 16) ? 1 : 0;
  }
  EXPECT_EQ(v4_networks, (std::set<uint32_t>{(81u << 8) | 2u, (95u << 8) | 17u}));
  EXPECT_EQ(v6_networks, (std::set<uint64_t>{0x2a010e0aULL, 0x26001700ULL}));
  // Half the hosts fall in a subnet the data shows (any host of it), half anywhere in the
  // network (so hardly ever in a seen subnet).
  EXPECT_NEAR(v4_in_seen, draws / 2, draws / 10);
  EXPECT_NEAR(v6_in_seen, draws / 2, draws / 10);
  EXPECT_GT(v4_hosts.size(), 2000u);  // host bits are drawn, not the observed hosts
}

TEST(NegativeSampler, OddDrawsAreUniformOverTheWholeSpace) {
  const NegativeSampler sampler({Row("81.2.3.4"), Row("2a01:e0a:1::5")});
  int outside_v4 = 0, outside_v6 = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    const IpAddress v4 = sampler.Draw(*IpAddress::Parse("81.2.3.4"), 1, Mix64(i));
    ASSERT_TRUE(v4.is_v4());
    outside_v4 += (v4.v4() >> 16) != ((81u << 8) | 2u);
    const IpAddress v6 = sampler.Draw(*IpAddress::Parse("2a01:e0a:1::5"), 3, Mix64(i));
    ASSERT_FALSE(v6.is_v4());
    EXPECT_EQ(v6.high64() >> 61, 1u) << "global unicast 2000::/3";
    outside_v6 += (v6.high64() >> 32) != 0x2a010e0aULL;
  }
  EXPECT_GT(outside_v4, 990);
  EXPECT_EQ(outside_v6, 1000);
}

TEST(NegativeSampler, WithoutNetworksOfTheFamilyEveryDrawIsUniform) {
  const NegativeSampler v4_only({Row("81.2.3.4")});
  int in_network = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    const IpAddress v6 = v4_only.Draw(*IpAddress::Parse("2a01:e0a:1::5"), 0, Mix64(i));
    ASSERT_FALSE(v6.is_v4());
    const IpAddress v4 = NegativeSampler().Draw(*IpAddress::Parse("81.2.3.4"), 0, Mix64(i));
    in_network += (v4.v4() >> 16) == ((81u << 8) | 2u);
  }
  EXPECT_LT(in_network, 5);
}

TEST(NegativeSampler, DrawsAreDeterministicInTheirBits) {
  const NegativeSampler sampler({Row("81.2.3.4"), Row("95.17.0.1")});
  const IpAddress observed = *IpAddress::Parse("81.2.3.4");
  for (uint64_t i = 0; i < 100; ++i) {
    EXPECT_EQ(sampler.Draw(observed, 0, Mix64(i)), sampler.Draw(observed, 0, Mix64(i)));
  }
}

}  // namespace
}  // namespace ipinsights
