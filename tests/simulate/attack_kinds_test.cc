// The attacks findings are for (issue 14 §5): labels.csv's `kind` column, the split of
// --attacks, who each kind attacks (read back from the records with the log reader) and from
// where (never one of the entity's own networks), and the fallback to random_ip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/logs/log_reader.h"
#include "ipinsights/simulate/cloudtrail_format.h"
#include "ipinsights/simulate/network_table.h"
#include "ipinsights/simulate/population.h"
#include "ipinsights/simulate/simulator.h"
#include "ipinsights/simulate/waf_format.h"
#include "ipinsights/storage/storage.h"
#include "simulate_test_util.h"

namespace ipinsights {
namespace {

using testing::ListFiles;
using testing::ReadFile;
using testing::RunShell;
using testing::TempFolder;

SimulateOptions Options(LogKind kind, const std::string& out, uint64_t attacks) {
  SimulateOptions options;
  options.kind = kind;
  options.out = out;
  options.users = 400;
  options.days = 3;
  options.attacks = attacks;
  options.seed = 23;
  options.ipv6_fraction = 0.3;
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

// labels.csv by column (entities here never need quoting: principal ids, and user agents
// without ',').
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

// What the records say, read back with the log reader (EventFields).
struct Record {
  std::string access_key_id;
  std::string identity_type;
  std::string user_agent;
};
struct LogContents {
  std::set<std::string> seen_before;                    // entities with a pair before the last day
  std::map<std::string, std::vector<Record>> last_day;  // "entity,ip" -> the day's records
};

class Collect : public EventSink {
 public:
  Collect(LogContents* contents, int64_t last_day_start)
      : contents_(contents), last_day_start_(last_day_start) {}
  void Add(const LogEvent& event) override {
    ASSERT_TRUE(event.fields != nullptr);
    ASSERT_TRUE(event.has_time);
    const std::string entity(event.entity);
    if (event.time < last_day_start_) {
      contents_->seen_before.insert(entity);
      return;
    }
    contents_->last_day[entity + "," + event.ip.ToString()].push_back(
        {std::string(event.fields->access_key_id), std::string(event.fields->identity_type),
         std::string(event.fields->user_agent)});
  }

 private:
  LogContents* contents_;
  int64_t last_day_start_;
};

LogContents ReadLogs(const SimulateOptions& options, const std::string& logs_dir) {
  LogReaderOptions reader_options;
  reader_options.kind = options.kind;
  reader_options.entity = DefaultEntitySpec(options.kind);
  reader_options.want_event_fields = true;
  LogFileReader reader(reader_options);
  LogContents contents;
  Collect sink(&contents, (DaysFromCivil(options.start) + options.days - 1) * 86400);
  for (const std::string& file : ListFiles(logs_dir)) {
    const std::string path = logs_dir + "/" + file;
    const std::string bytes = ReadFile(path);
    reader.ReadBytes(path, bytes, sink);
  }
  return contents;
}

// The simulator's population, rebuilt the way Simulate() builds it, with each entity's name.
struct World {
  World(const SimulateOptions& options)
      : networks(options.seed, std::clamp<size_t>(options.users / 2, 500, 40000), 0.3),
        population(networks, PopulationOptionsOf(options)) {}
  static simulate::PopulationOptions PopulationOptionsOf(const SimulateOptions& options) {
    simulate::PopulationOptions p;
    p.seed = options.seed;
    p.entities = options.users;
    p.mean_events_per_day = options.events_per_user_per_day;
    p.ipv6_fraction = options.ipv6_fraction;
    p.attack_ipv6 = std::clamp(options.ipv6_fraction, 0.02, 0.98);
    return p;
  }
  simulate::NetworkTable networks;
  simulate::Population population;
};

std::map<std::string, uint32_t> EntityIndex(const simulate::LogFormat& format, size_t count) {
  std::map<std::string, uint32_t> index;
  for (uint32_t e = 0; e < count; ++e) index[std::string(format.EntityName(e))] = e;
  return index;
}

std::map<std::string, uint64_t> CountKinds(const std::vector<Row>& rows) {
  std::map<std::string, uint64_t> counts;
  for (const Row& row : rows) {
    EXPECT_EQ(row.label == 0, row.kind == "normal") << row.entity << " " << row.kind;
    EXPECT_TRUE(std::isfinite(row.oracle));
    ++counts[row.kind];
  }
  return counts;
}

// The address of every targeted attack lies outside the entity's own networks.
void ExpectOutsideOwnNetworks(const World& world, const std::map<std::string, uint32_t>& index,
                              const Row& row) {
  const auto entity = index.find(row.entity);
  ASSERT_NE(entity, index.end()) << row.entity;
  const std::optional<uint32_t> network = world.networks.Find(*IpAddress::Parse(row.ip));
  ASSERT_TRUE(network.has_value()) << row.ip;
  EXPECT_FALSE(world.population.IsOwnNetwork(entity->second, *network))
      << row.kind << " " << row.entity << " from " << row.ip << ", one of its own networks";
}

TEST(SimulateAttackKinds, AttackOutsideNeverLandsInTheEntitysOwnNetworks) {
  // A small table, so that plain attack draws often land in an entity's own networks.
  const simulate::NetworkTable table(5, 12, 0.5);
  const simulate::Population population(table, {.seed = 5, .entities = 40});
  simulate::Rng rng(9);
  uint64_t own_plain = 0;
  for (uint32_t e = 0; e < population.size(); ++e) {
    for (int i = 0; i < 200; ++i) {
      const IpAddress outside = population.SampleAttackOutside(e, rng);
      ASSERT_FALSE(population.IsOwnNetwork(e, *table.Find(outside))) << outside.ToString();
      own_plain += population.IsOwnNetwork(e, *table.Find(population.SampleAttack(rng)));
    }
  }
  EXPECT_GT(own_plain, 500u) << "the check above would have caught an unconditioned draw";
}

TEST(SimulateAttackKinds, CloudTrailSplitsIntoThirdsOfRealIdentities) {
  TempFolder folder;
  const SimulateOptions options = Options(LogKind::kCloudTrail, folder.path(), 92);
  const SimulateSummary summary = Simulate(options, nullptr);
  const std::vector<Row> rows = ReadRows(summary.labels_path);
  std::map<std::string, uint64_t> counts = CountKinds(rows);
  // 92 = 3 * 30 + 2: the remainder goes to random_ip.
  EXPECT_EQ(counts["random_ip"], 32u);
  EXPECT_EQ(counts["instance_credentials"], 30u);
  EXPECT_EQ(counts["long_term_key_new_network"], 30u);
  EXPECT_EQ(counts.size(), 4u) << "normal and the three CloudTrail kinds";
  EXPECT_EQ(summary.attacks, 92u);
  const std::vector<std::pair<std::string, uint64_t>> expected = {
      {"random_ip", 32}, {"instance_credentials", 30}, {"long_term_key_new_network", 30}};
  EXPECT_EQ(summary.attacks_by_kind, expected);
  EXPECT_THAT(SummaryJson(summary),
              ::testing::HasSubstr("\"attacks_by_kind\":{\"random_ip\":32,\"instance_credentials\":"
                                   "30,\"long_term_key_new_network\":30}"));

  const World world(options);
  const simulate::CloudTrailFormat format(world.population, options.seed);
  const std::map<std::string, uint32_t> index = EntityIndex(format, world.population.size());
  const LogContents logs = ReadLogs(options, folder.Sub("AWSLogs"));
  const std::regex instance_session("AROA[A-Z0-9]{17}:i-0[0-9a-f]{16}");
  const std::regex iam_user("AIDA[A-Z0-9]{17}");
  std::set<std::string> victims;
  for (const Row& row : rows) {
    if (row.kind != "instance_credentials" && row.kind != "long_term_key_new_network") continue;
    SCOPED_TRACE(row.kind + " " + row.entity + " " + row.ip);
    victims.insert(row.entity);
    const bool instance = row.kind == "instance_credentials";
    EXPECT_TRUE(std::regex_match(row.entity, instance ? instance_session : iam_user));
    ExpectOutsideOwnNetworks(world, index, row);
    EXPECT_EQ(logs.seen_before.count(row.entity), 1u) << "no event before the last day";
    const auto records = logs.last_day.find(row.entity + "," + row.ip);
    ASSERT_NE(records, logs.last_day.end()) << "no record of the attack in the logs";
    for (const Record& record : records->second) {
      EXPECT_EQ(record.identity_type, instance ? "AssumedRole" : "IAMUser");
      EXPECT_EQ(record.access_key_id.substr(0, 4), instance ? "ASIA" : "AKIA");
      EXPECT_EQ(record.access_key_id.size(), 20u);
    }
  }
  EXPECT_GT(victims.size(), 20u) << "victims drawn across the eligible identities";
}

TEST(SimulateAttackKinds, WafSplitsInHalvesOfKnownClients) {
  TempFolder folder;
  const SimulateOptions options = Options(LogKind::kWaf, folder.path(), 61);
  const SimulateSummary summary = Simulate(options, nullptr);
  const std::vector<Row> rows = ReadRows(summary.labels_path);
  std::map<std::string, uint64_t> counts = CountKinds(rows);
  EXPECT_EQ(counts["random_ip"], 31u);
  EXPECT_EQ(counts["waf_client_new_network"], 30u);
  EXPECT_EQ(counts.size(), 3u);
  EXPECT_THAT(
      SummaryJson(summary),
      ::testing::HasSubstr("\"attacks_by_kind\":{\"random_ip\":31,\"waf_client_new_network\":30}"));

  const World world(options);
  const simulate::WafFormat format(world.population, options.seed, options.prefix, options.gzip);
  const std::map<std::string, uint32_t> index = EntityIndex(format, world.population.size());
  const LogContents logs = ReadLogs(options, folder.Sub("AWSLogs/waf"));
  for (const Row& row : rows) {
    if (row.kind != "waf_client_new_network") continue;
    SCOPED_TRACE(row.entity + " " + row.ip);
    ExpectOutsideOwnNetworks(world, index, row);
    EXPECT_EQ(logs.seen_before.count(row.entity), 1u) << "no event before the last day";
    const auto records = logs.last_day.find(row.entity + "," + row.ip);
    ASSERT_NE(records, logs.last_day.end()) << "no record of the attack in the logs";
    for (const Record& record : records->second) {
      std::string normalised = record.user_agent;
      std::erase_if(normalised, [](char c) { return c == '.' || c == ','; });
      EXPECT_EQ(normalised, row.entity) << "the client's own User-Agent header";
    }
  }
}

TEST(SimulateAttackKinds, OneDayFallsBackToRandomIp) {
  // Nobody was seen before the last day: the targeted shares go to random_ip.
  TempFolder folder;
  SimulateOptions options = Options(LogKind::kCloudTrail, folder.path(), 30);
  options.days = 1;
  const SimulateSummary summary = Simulate(options, nullptr);
  std::map<std::string, uint64_t> counts = CountKinds(ReadRows(summary.labels_path));
  EXPECT_EQ(counts["random_ip"], 30u);
  EXPECT_EQ(counts.count("instance_credentials"), 0u);
  const std::vector<std::pair<std::string, uint64_t>> expected = {
      {"random_ip", 30}, {"instance_credentials", 0}, {"long_term_key_new_network", 0}};
  EXPECT_EQ(summary.attacks_by_kind, expected);
}

TEST(SimulateAttackKinds, SameBytesWhateverTheThreads) {
  TempFolder a, b;
  SimulateOptions options = Options(LogKind::kCloudTrail, a.path(), 60);
  options.threads = 1;
  const SimulateSummary summary = Simulate(options, nullptr);
  ASSERT_EQ(summary.attacks_by_kind.size(), 3u);
  EXPECT_EQ(summary.attacks_by_kind[1].second, 20u);
  options.out = b.path();
  options.threads = 4;
  Simulate(options, nullptr);
  const std::vector<std::string> files = ListFiles(a.path());
  ASSERT_EQ(files, ListFiles(b.path()));
  for (const std::string& file : files) {
    ASSERT_EQ(ReadFile(a.Sub(file)), ReadFile(b.Sub(file))) << file;
  }
}

TEST(SimulateAttackKinds, CliJsonSummaryCountsEachKind) {
  TempFolder folder;
  const testing::CommandResult result =
      RunShell(testing::Binary() + " simulate waf --out " + folder.path() +
               " --users 60 --days 2 --attacks 7 --seed 3 --json");
  ASSERT_EQ(result.exit_code, 0) << result.out;
  EXPECT_THAT(
      result.out,
      ::testing::HasSubstr("\"attacks_by_kind\":{\"random_ip\":4,\"waf_client_new_network\":3}"));
}

}  // namespace
}  // namespace ipinsights
