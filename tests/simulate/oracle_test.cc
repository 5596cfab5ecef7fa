// The population's likelihoods are exact: they sum to one over every address the model can
// emit, agree with what the sampler draws, and the oracle separates attacks.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "ipinsights/simulate/network_table.h"
#include "ipinsights/simulate/population.h"

namespace ipinsights::simulate {
namespace {

// Sums p(ip) over every IPv4 address of every network in the table.
template <typename Density>
double SumOverV4(const NetworkTable& table, Density density) {
  double sum = 0;
  for (size_t n = 0; n < table.size(); ++n) {
    const Network& net = table.network(n);
    for (uint64_t host = 0; host < net.v4_size(); ++host) {
      const double log_p = density(IpAddress::FromV4(net.v4_base | static_cast<uint32_t>(host)));
      if (log_p > -INFINITY) sum += std::exp(log_p);
    }
  }
  return sum;
}

TEST(NetworkTable, PrefixesAreDisjointAndFindable) {
  const NetworkTable table(7, 300, 0.5);
  Rng rng(1);
  for (uint32_t n = 0; n < table.size(); ++n) {
    for (int family = 0; family < 2; ++family) {
      if (family == 1 && !table.network(n).has_v6) continue;
      const IpAddress ip = table.RandomAddress(n, family == 1, rng);
      ASSERT_EQ(table.Find(ip), std::optional<uint32_t>(n)) << ip.ToString();
    }
  }
  EXPECT_FALSE(table.Find(*IpAddress::Parse("10.1.2.3")).has_value());
  EXPECT_FALSE(table.Find(*IpAddress::Parse("2001:db8::1")).has_value());
}

TEST(Population, LikelihoodSumsToOneOverAllAddresses) {
  // IPv4 only (no network has IPv6), small table: every address can be enumerated.
  const NetworkTable table(3, 12, 0.0);
  PopulationOptions options;
  options.seed = 3;
  options.entities = 12;
  options.ipv6_fraction = 0;
  options.attack_ipv6 = 0.3;
  const Population population(table, options);
  for (uint32_t e = 0; e < population.size(); e += 3) {
    const int day = 4;
    const double sum =
        SumOverV4(table, [&](const IpAddress& ip) { return population.LogLikelihood(e, day, ip); });
    EXPECT_NEAR(sum, 1.0, 1e-9) << "entity " << e;
  }
  const double attack_sum =
      SumOverV4(table, [&](const IpAddress& ip) { return population.AttackLogLikelihood(ip); });
  EXPECT_NEAR(attack_sum, 1.0, 1e-9);
}

TEST(Population, SampledAddressFrequenciesMatchLikelihood) {
  const NetworkTable table(5, 40, 0.5);
  PopulationOptions options;
  options.seed = 5;
  options.entities = 20;
  options.ipv6_fraction = 0.5;
  const Population population(table, options);
  for (uint32_t e = 0; e < population.size(); e += 4) {
    Rng rng(DeriveSeed(9, 1, e));
    std::map<IpAddress, int> counts;
    constexpr int kDraws = 40000;
    for (int i = 0; i < kDraws; ++i) {
      const IpAddress ip = population.SampleAddress(e, 2, rng);
      ASSERT_GT(population.LogLikelihood(e, 2, ip), -INFINITY) << ip.ToString();
      ASSERT_TRUE(std::isfinite(population.OracleScore(e, 2, ip))) << ip.ToString();
      ++counts[ip];
    }
    // Point addresses (home, fixed) recur: their frequency must match their probability.
    for (const auto& [ip, count] : counts) {
      if (count < 400) continue;
      const double p = std::exp(population.LogLikelihood(e, 2, ip));
      const double sigma = std::sqrt(p * (1 - p) / kDraws);
      EXPECT_NEAR(static_cast<double>(count) / kDraws, p, 5 * sigma + 1e-4) << ip.ToString();
    }
  }
}

TEST(Population, AttacksScoreLowerThanNormalEvents) {
  const NetworkTable table(11, 500, 0.3);
  PopulationOptions options;
  options.seed = 11;
  options.entities = 500;
  const Population population(table, options);
  Rng rng(42);
  std::vector<double> normal, attack;
  for (int i = 0; i < 5000; ++i) {
    const uint32_t e = static_cast<uint32_t>(rng.Below(population.size()));
    normal.push_back(population.OracleScore(e, 3, population.SampleAddress(e, 3, rng)));
    attack.push_back(population.OracleScore(e, 3, population.SampleAttack(rng)));
  }
  double above = 0;
  for (double a : attack) {
    for (double n : normal) above += n > a ? 1 : n == a ? 0.5 : 0;
  }
  const double auc = above / (static_cast<double>(normal.size()) * attack.size());
  EXPECT_GT(auc, 0.97);
  EXPECT_LT(auc, 1.0);  // travel looks like an attack sometimes: the ceiling is below 1
}

TEST(Population, HomeAddressChangesOnlyOccasionally) {
  const NetworkTable table(13, 100, 0.0);
  PopulationOptions options;
  options.seed = 13;
  options.entities = 200;
  options.workload_fraction = 0;
  const Population population(table, options);
  // The most frequent address on each day is the home address; count changes over 30 days.
  int changes = 0, comparisons = 0;
  for (uint32_t e = 0; e < population.size(); ++e) {
    IpAddress previous;
    for (int day = 0; day < 30; ++day) {
      Rng rng(DeriveSeed(1, e, static_cast<uint64_t>(day)));
      std::map<IpAddress, int> counts;
      for (int i = 0; i < 60; ++i) ++counts[population.SampleAddress(e, day, rng)];
      IpAddress top;
      int best = 0;
      for (const auto& [ip, count] : counts) {
        if (count > best) best = count, top = ip;
      }
      if (day > 0) {
        ++comparisons;
        changes += top != previous;
      }
      previous = top;
    }
  }
  const double rate = static_cast<double>(changes) / comparisons;
  EXPECT_GT(rate, 0.01);
  EXPECT_LT(rate, 0.12);
}

}  // namespace
}  // namespace ipinsights::simulate
