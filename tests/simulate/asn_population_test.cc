// `simulate --population asn` (issue 15 §1): the ASN-like table of ranges, the population's
// exact likelihood (it sums to one and matches what the sampler draws), the oracle in
// labels.csv, attacks of the new-network kinds outside the entity's own ranges, determinism
// whatever the thread count, and the CLI flag.
#include "ipinsights/simulate/asn_population.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "ipinsights/simulate/asn_table.h"
#include "ipinsights/simulate/cloudtrail_format.h"
#include "ipinsights/simulate/network_table.h"
#include "ipinsights/simulate/simulator.h"
#include "ipinsights/simulate/waf_format.h"
#include "simulate_test_util.h"

namespace ipinsights {
namespace {

using simulate::AsnPopulation;
using simulate::AsnPopulationOptions;
using simulate::AsnTable;
using simulate::Rng;
using testing::ListFiles;
using testing::ReadFile;
using testing::RunShell;
using testing::TempFolder;

AsnPopulationOptions PopulationOptions(uint64_t seed, size_t entities) {
  AsnPopulationOptions options;
  options.seed = seed;
  options.entities = entities;
  return options;
}

TEST(AsnTable, RangesAreSortedDisjointPublicAndFindable) {
  const AsnTable table(11, 300);
  EXPECT_EQ(table.asn_count(), 300u);
  ASSERT_GE(table.size(), 300u);
  EXPECT_LE(table.size(), 900u);
  Rng rng(2);
  for (uint32_t i = 0; i < table.size(); ++i) {
    const simulate::AsnRange& range = table.range(i);
    EXPECT_GE(range.size, 256u);
    EXPECT_LE(range.size, 65536u);
    const uint64_t last = uint64_t{range.first} + range.size - 1;
    EXPECT_EQ(range.first >> 24, last >> 24) << "range " << i << " crosses a first octet";
    EXPECT_TRUE(simulate::PublicFirstOctet(range.first >> 24)) << "range " << i;
    if (i + 1 < table.size()) EXPECT_LT(last, table.range(i + 1).first) << "range " << i;
    const IpAddress inside = table.RandomAddress(i, rng);
    ASSERT_EQ(table.Find(inside), std::optional<uint32_t>(i)) << inside.ToString();
    EXPECT_EQ(table.Find(IpAddress::FromV4(range.first)), std::optional<uint32_t>(i));
    EXPECT_EQ(table.Find(IpAddress::FromV4(static_cast<uint32_t>(last))),
              std::optional<uint32_t>(i));
  }
  // Gaps between ranges are unannounced space.
  size_t gaps = 0;
  for (uint32_t i = 0; i + 1 < table.size(); ++i) {
    const uint32_t after = table.range(i).first + table.range(i).size;
    if (after < table.range(i + 1).first) {
      ++gaps;
      EXPECT_FALSE(table.Find(IpAddress::FromV4(after)).has_value());
    }
  }
  EXPECT_GT(gaps, table.size() / 2);
  EXPECT_FALSE(table.Find(*IpAddress::Parse("10.1.2.3")).has_value());
  EXPECT_FALSE(table.Find(*IpAddress::Parse("2001:db8::1")).has_value());
  EXPECT_EQ(table.Neighbour(0, -1), table.size() - 1);
  EXPECT_EQ(table.Neighbour(static_cast<uint32_t>(table.size() - 1), 2), 1u);
}

TEST(AsnTable, SameSeedSameTableOtherSeedAnother) {
  const AsnTable a(4, 200), b(4, 200), c(5, 200);
  ASSERT_EQ(a.size(), b.size());
  for (uint32_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a.range(i).first, b.range(i).first);
    ASSERT_EQ(a.range(i).size, b.range(i).size);
  }
  EXPECT_NE(a.range(0).first, c.range(0).first);
}

TEST(AsnPopulation, RangeProbabilitiesSumToOne) {
  const AsnTable table(3, 40);
  const AsnPopulation population(table, PopulationOptions(3, 200));
  size_t with_work = 0;
  for (uint32_t e = 0; e < population.size(); ++e) {
    double sum = 0;
    for (uint32_t j = 0; j < table.size(); ++j) sum += population.RangeProbability(e, j);
    ASSERT_NEAR(sum, 1.0, 1e-12) << "entity " << e;
    with_work += population.work_range(e).has_value();
  }
  EXPECT_NEAR(with_work / 200.0, 0.6, 0.12);
  // The densities: uniform inside each range, so p(range) = density * size.
  const uint32_t e = 7;
  double attack_sum = 0;
  for (uint32_t j = 0; j < table.size(); ++j) {
    const IpAddress ip = IpAddress::FromV4(table.range(j).first + 1);
    const double size = table.range(j).size;
    EXPECT_NEAR(std::exp(population.LogLikelihood(e, ip)) * size, population.RangeProbability(e, j),
                1e-12);
    attack_sum += std::exp(population.AttackLogLikelihood(ip)) * size;
  }
  EXPECT_NEAR(attack_sum, 1.0, 1e-12);
}

TEST(AsnPopulation, SampledRangeFrequenciesMatchTheModel) {
  const AsnTable table(5, 60);
  const AsnPopulation population(table, PopulationOptions(5, 50));
  uint32_t entity = 0;
  while (!population.work_range(entity).has_value()) ++entity;
  constexpr int kDraws = 400000;
  std::vector<double> counts(table.size(), 0);
  Rng rng(77);
  for (int i = 0; i < kDraws; ++i) {
    const std::optional<uint32_t> range = table.Find(population.SampleAddress(entity, 3, rng));
    ASSERT_TRUE(range.has_value());
    ++counts[*range];
  }
  // Every range within 5 standard deviations of its binomial count, home and work included.
  for (uint32_t j = 0; j < table.size(); ++j) {
    const double p = population.RangeProbability(entity, j);
    const double sd = std::sqrt(kDraws * p * (1 - p));
    EXPECT_NEAR(counts[j], kDraws * p, 5 * sd + 1) << "range " << j;
  }
  const uint32_t home = population.home_range(entity);
  EXPECT_GT(population.RangeProbability(entity, home), 0.3);
  // Drift reaches the home range's neighbours, more than travel alone would.
  const uint32_t beside = table.Neighbour(home, 1);
  if (!population.IsOwnRange(entity, beside)) {
    EXPECT_GT(counts[beside] / kDraws, 1.0 / static_cast<double>(table.size()) * 0.04);
    EXPECT_GT(population.RangeProbability(entity, beside), 0.005 / 4);
  }
}

TEST(AsnPopulation, AttacksAreUniformOverRanges) {
  const AsnTable table(6, 20);
  const AsnPopulation population(table, PopulationOptions(6, 10));
  constexpr int kDraws = 200000;
  std::vector<double> counts(table.size(), 0);
  Rng rng(8);
  for (int i = 0; i < kDraws; ++i) ++counts[*table.Find(population.SampleAttack(rng))];
  const double p = 1.0 / static_cast<double>(table.size());
  for (uint32_t j = 0; j < table.size(); ++j) {
    EXPECT_NEAR(counts[j], kDraws * p, 5 * std::sqrt(kDraws * p * (1 - p))) << "range " << j;
  }
}

TEST(AsnPopulation, OracleIsTheFiniteLikelihoodRatioAndSeparates) {
  const AsnTable table(9, 500);
  const AsnPopulation population(table, PopulationOptions(9, 300));
  Rng rng(10);
  double normal_sum = 0, attack_sum = 0;
  int normal_count = 0, attack_count = 0;
  for (uint32_t e = 0; e < population.size(); ++e) {
    for (int i = 0; i < 20; ++i) {
      const IpAddress normal = population.SampleAddress(e, 1, rng);
      const IpAddress attack = population.SampleAttack(rng);
      for (const IpAddress& ip : {normal, attack}) {
        const double score = population.OracleScore(e, 1, ip);
        ASSERT_TRUE(std::isfinite(score)) << ip.ToString();
        ASSERT_NEAR(score, population.LogLikelihood(e, ip) - population.AttackLogLikelihood(ip),
                    1e-9);
      }
      normal_sum += population.OracleScore(e, 1, normal);
      attack_sum += population.OracleScore(e, 1, attack);
      ++normal_count;
      ++attack_count;
    }
  }
  EXPECT_GT(normal_sum / normal_count, attack_sum / attack_count + 4);
  EXPECT_EQ(population.OracleScore(0, 1, *IpAddress::Parse("10.0.0.1")), -INFINITY);
}

TEST(AsnPopulation, AttackOutsideNeverLandsInTheEntitysOwnRanges) {
  // A small table, so that plain attack draws often land in an entity's own ranges.
  const AsnTable table(12, 8);
  const AsnPopulation population(table, PopulationOptions(12, 40));
  Rng rng(13);
  uint64_t own_plain = 0;
  for (uint32_t e = 0; e < population.size(); ++e) {
    for (int i = 0; i < 200; ++i) {
      const IpAddress outside = population.SampleAttackOutside(e, rng);
      ASSERT_FALSE(population.IsOwnRange(e, *table.Find(outside))) << outside.ToString();
      own_plain += population.IsOwnRange(e, *table.Find(population.SampleAttack(rng)));
    }
  }
  EXPECT_GT(own_plain, 500u) << "the check above would have caught an unconditioned draw";
}

SimulateOptions AsnOptions(LogKind kind, const std::string& out) {
  SimulateOptions options;
  options.kind = kind;
  options.out = out;
  options.population = PopulationKind::kAsn;
  options.users = 400;
  options.days = 3;
  options.attacks = 90;
  options.seed = 31;
  options.events_per_user_per_day = 4;
  options.threads = 2;
  return options;
}

struct Row {
  std::string entity;
  std::string ip;
  int label = 0;
  double oracle = 0;
  std::string kind;
};

std::vector<Row> ReadRows(const std::string& path) {
  std::istringstream in(ReadFile(path));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "entity,ip,label,oracle_score,kind");
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream split(line);
    for (std::string field; std::getline(split, field, ',');) fields.push_back(field);
    EXPECT_EQ(fields.size(), 5u) << line;
    if (fields.size() != 5) continue;
    rows.push_back({fields[0], fields[1], std::stoi(fields[2]), std::stod(fields[3]), fields[4]});
  }
  return rows;
}

// The population Simulate() builds for `options`.
struct AsnWorld {
  explicit AsnWorld(const SimulateOptions& options)
      : table(options.seed, std::clamp<size_t>(options.users / 2, 500, 40000)),
        population(table, [&] {
          AsnPopulationOptions p;
          p.seed = options.seed;
          p.entities = options.users;
          p.mean_events_per_day = options.events_per_user_per_day;
          return p;
        }()) {}
  AsnTable table;
  AsnPopulation population;
};

// Every row's oracle is the model's, every address is in the table, and every attack of a
// new-network kind lies outside the entity's own ranges.
void CheckLabels(const SimulateOptions& options, const SimulateSummary& summary,
                 const simulate::LogFormat& format, const AsnWorld& world) {
  std::map<std::string, uint32_t> index;
  for (uint32_t e = 0; e < world.population.size(); ++e)
    index[std::string(format.EntityName(e))] = e;
  std::map<std::string, uint64_t> kinds;
  for (const Row& row : ReadRows(summary.labels_path)) {
    SCOPED_TRACE(row.kind + " " + row.entity + " " + row.ip);
    ++kinds[row.kind];
    const auto entity = index.find(row.entity);
    ASSERT_NE(entity, index.end());
    const IpAddress ip = *IpAddress::Parse(row.ip);
    ASSERT_TRUE(ip.is_v4());
    const std::optional<uint32_t> range = world.table.Find(ip);
    ASSERT_TRUE(range.has_value());
    ASSERT_TRUE(std::isfinite(row.oracle));
    EXPECT_NEAR(row.oracle, world.population.OracleScore(entity->second, options.days - 1, ip),
                1e-6);
    if (row.kind != "normal" && row.kind != "random_ip") {
      EXPECT_FALSE(world.population.IsOwnRange(entity->second, *range)) << "one of its own";
    }
  }
  for (const auto& [kind, count] : summary.attacks_by_kind) {
    EXPECT_EQ(kinds[kind], count) << kind;
    EXPECT_GT(count, 0u) << kind << " fell back to random_ip";
  }
}

TEST(SimulateAsn, CloudTrailLabelsCarryTheModelsOracleAndTargetedKindsAvoidOwnRanges) {
  TempFolder folder;
  const SimulateOptions options = AsnOptions(LogKind::kCloudTrail, folder.path());
  const SimulateSummary summary = Simulate(options, nullptr);
  EXPECT_EQ(summary.population, "asn");
  EXPECT_EQ(summary.ipv6_pairs, 0u);
  EXPECT_EQ(summary.attacks, 90u);
  ASSERT_EQ(summary.attacks_by_kind.size(), 3u);
  const AsnWorld world(options);
  EXPECT_EQ(summary.networks, world.table.size());
  const simulate::CloudTrailFormat format(world.population, options.seed);
  CheckLabels(options, summary, format, world);
}

TEST(SimulateAsn, WafLabelsCarryTheModelsOracleAndTargetedKindsAvoidOwnRanges) {
  TempFolder folder;
  const SimulateOptions options = AsnOptions(LogKind::kWaf, folder.path());
  const SimulateSummary summary = Simulate(options, nullptr);
  ASSERT_EQ(summary.attacks_by_kind.size(), 2u);
  const AsnWorld world(options);
  const simulate::WafFormat format(world.population, options.seed, options.prefix, options.gzip);
  CheckLabels(options, summary, format, world);
  // WAF's country comes from the range's AS.
  const std::string logs_dir = folder.Sub("AWSLogs/waf");
  const std::string logs = ReadFile(logs_dir + "/" + ListFiles(logs_dir)[0]);
  EXPECT_THAT(logs, ::testing::ContainsRegex("\"country\":\"[A-Z][A-Z]\""));
  EXPECT_THAT(logs, ::testing::Not(::testing::HasSubstr("\"country\":\"-\"")));
}

TEST(SimulateAsn, SameBytesWhateverTheThreadsAndAnotherWorldThanNetworks) {
  TempFolder a, b, c;
  SimulateOptions options = AsnOptions(LogKind::kCloudTrail, a.path());
  options.threads = 1;
  Simulate(options, nullptr);
  options.out = b.path();
  options.threads = 4;
  Simulate(options, nullptr);
  const std::vector<std::string> files = ListFiles(a.path());
  ASSERT_EQ(files, ListFiles(b.path()));
  for (const std::string& file : files) {
    ASSERT_EQ(ReadFile(a.Sub(file)), ReadFile(b.Sub(file))) << file;
  }
  options.out = c.path();
  options.population = PopulationKind::kNetworks;
  Simulate(options, nullptr);
  EXPECT_NE(ReadFile(a.Sub("labels.csv")), ReadFile(c.Sub("labels.csv")));
}

TEST(SimulateAsn, CliFlagChoosesThePopulationAndNetworksStaysTheDefault) {
  TempFolder folder;
  const std::string common = " --users 60 --days 2 --attacks 6 --seed 3 --json";
  testing::CommandResult result = RunShell(testing::Binary() + " simulate cloudtrail --out " +
                                           folder.Sub("asn") + " --population asn" + common);
  ASSERT_EQ(result.exit_code, 0) << result.out;
  EXPECT_THAT(result.out, ::testing::HasSubstr("\"population\":\"asn\""));
  EXPECT_THAT(result.out, ::testing::HasSubstr("\"ipv6_pairs\":0,"));
  result =
      RunShell(testing::Binary() + " simulate cloudtrail --out " + folder.Sub("default") + common);
  ASSERT_EQ(result.exit_code, 0) << result.out;
  EXPECT_THAT(result.out, ::testing::HasSubstr("\"population\":\"networks\""));
  result = RunShell(testing::Binary() + " simulate cloudtrail --out " + folder.Sub("networks") +
                    " --population networks" + common);
  ASSERT_EQ(result.exit_code, 0) << result.out;
  EXPECT_EQ(ReadFile(folder.Sub("default/labels.csv")),
            ReadFile(folder.Sub("networks/labels.csv")));
  EXPECT_NE(ReadFile(folder.Sub("default/labels.csv")), ReadFile(folder.Sub("asn/labels.csv")));
  result = RunShell(testing::Binary() + " simulate waf --out " + folder.Sub("bad") +
                    " --population tutorial 2>&1");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.out, ::testing::HasSubstr("--population"));
}

}  // namespace
}  // namespace ipinsights
