// The simulator's output: deterministic bytes, the AWS delivery layouts, every field real
// records carry, labels.csv consistent with the logs and with --attacks, and (end to end)
// `prepare` reading back exactly the simulator's ground truth.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "ipinsights/base/error.h"
#include "ipinsights/pairs/ip_address.h"
#include "ipinsights/simulate/simulator.h"
#include "simulate_test_util.h"

namespace ipinsights {
namespace {

using testing::Binary;
using testing::CommandResult;
using testing::Gunzip;
using testing::IsGzip;
using testing::ListFiles;
using testing::ReadFile;
using testing::RunShell;
using testing::TempFolder;

SimulateOptions SmallOptions(LogKind kind, const std::string& out) {
  SimulateOptions options;
  options.kind = kind;
  options.out = out;
  options.users = 150;
  options.days = 2;
  options.attacks = 40;
  options.seed = 17;
  options.ipv6_fraction = 0.3;
  options.events_per_user_per_day = 5;
  return options;
}

struct LabelRow {
  std::string entity;
  std::string ip;
  int label;
  double oracle;
  std::string kind;
};

// Parses labels.csv (entities in these tests never need quoting).
std::vector<LabelRow> ReadLabels(const std::string& path, std::string* header) {
  std::istringstream in(ReadFile(path));
  std::string line;
  std::getline(in, *header);
  std::vector<LabelRow> rows;
  while (std::getline(in, line)) {
    const size_t c4 = line.rfind(',');
    const size_t c3 = line.rfind(',', c4 - 1);
    const size_t c2 = line.rfind(',', c3 - 1);
    const size_t c1 = line.rfind(',', c2 - 1);
    rows.push_back({line.substr(0, c1), line.substr(c1 + 1, c2 - c1 - 1),
                    std::stoi(line.substr(c2 + 1, c3 - c2 - 1)),
                    std::stod(line.substr(c3 + 1, c4 - c3 - 1)), line.substr(c4 + 1)});
  }
  return rows;
}

TEST(Simulate, SameSeedGivesIdenticalBytesWhateverTheThreads) {
  for (LogKind kind : {LogKind::kCloudTrail, LogKind::kWaf}) {
    TempFolder a, b;
    SimulateOptions options = SmallOptions(kind, a.path());
    options.gzip = true;
    options.threads = 1;
    Simulate(options, nullptr);
    options.out = b.path();
    options.threads = 3;
    Simulate(options, nullptr);
    const std::vector<std::string> files = ListFiles(a.path());
    ASSERT_EQ(files, ListFiles(b.path()));
    ASSERT_GT(files.size(), 10u);
    for (const std::string& file : files) {
      ASSERT_EQ(ReadFile(a.Sub(file)), ReadFile(b.Sub(file))) << file;
    }
  }
}

TEST(Simulate, DifferentSeedGivesDifferentLogs) {
  TempFolder a, b;
  SimulateOptions options = SmallOptions(LogKind::kWaf, a.path());
  Simulate(options, nullptr);
  options.out = b.path();
  options.seed = 18;
  Simulate(options, nullptr);
  EXPECT_NE(ReadFile(a.Sub("labels.csv")), ReadFile(b.Sub("labels.csv")));
}

TEST(Simulate, RefusesNonEmptyOutputFolder) {
  TempFolder folder;
  SimulateOptions options = SmallOptions(LogKind::kWaf, folder.path());
  Simulate(options, nullptr);
  try {
    Simulate(options, nullptr);
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("is not empty"));
  }
}

TEST(Simulate, CloudTrailLayoutMatchesAws) {
  TempFolder folder;
  SimulateSummary summary = Simulate(SmallOptions(LogKind::kCloudTrail, folder.path()), nullptr);
  const std::regex log_key(
      R"(AWSLogs/(\d{12})/CloudTrail/([a-z]{2}-[a-z]+-\d)/(\d{4})/(\d{2})/(\d{2})/(\d{12})_CloudTrail_([a-z]{2}-[a-z]+-\d)_(\d{4})(\d{2})(\d{2})T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz)");
  const std::regex digest_key(
      R"(AWSLogs/(\d{12})/CloudTrail-Digest/([a-z]{2}-[a-z]+-\d)/(\d{4})/(\d{2})/(\d{2})/(\d{12})_CloudTrail-Digest_([a-z]{2}-[a-z]+-\d)_[a-z-]+_[a-z]{2}-[a-z]+-\d_(\d{4})(\d{2})(\d{2})T\d{6}Z\.json\.gz)");
  uint64_t logs = 0, digests = 0;
  for (const std::string& file : ListFiles(folder.path())) {
    if (file == "labels.csv") continue;
    std::smatch m;
    const bool is_log = std::regex_match(file, m, log_key);
    const bool is_digest = !is_log && std::regex_match(file, m, digest_key);
    ASSERT_TRUE(is_log || is_digest) << file;
    EXPECT_EQ(m[1], m[6]) << file;  // account in the folder and in the name
    EXPECT_EQ(m[2], m[7]) << file;  // region
    EXPECT_EQ(m[3].str() + m[4].str() + m[5].str(), m[8].str() + m[9].str() + m[10].str()) << file;
    EXPECT_TRUE(IsGzip(ReadFile(folder.Sub(file)))) << file;
    (is_log ? logs : digests)++;
  }
  EXPECT_EQ(logs, summary.files);
  EXPECT_EQ(digests, summary.digest_files);
  EXPECT_GT(digests, 0u);
}

TEST(Simulate, WafLayoutMatchesFirehose) {
  for (bool gzip : {false, true}) {
    TempFolder folder;
    SimulateOptions options = SmallOptions(LogKind::kWaf, folder.path());
    options.gzip = gzip;
    options.prefix = "waf-logs/prod/";
    SimulateSummary summary = Simulate(options, nullptr);
    const std::regex key(
        R"(waf-logs/prod/(\d{4})/(\d{2})/(\d{2})/(\d{2})/aws-waf-logs-[a-z0-9-]+-1-(\d{4})-(\d{2})-(\d{2})-(\d{2})-\d{2}-\d{2}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})" +
        std::string(gzip ? R"(\.gz)" : ""));
    uint64_t objects = 0;
    for (const std::string& file : ListFiles(folder.path())) {
      if (file == "labels.csv") continue;
      std::smatch m;
      ASSERT_TRUE(std::regex_match(file, m, key)) << file;
      for (int i = 1; i <= 4; ++i) EXPECT_EQ(m[i], m[i + 4]) << file;
      EXPECT_EQ(IsGzip(ReadFile(folder.Sub(file))), gzip) << file;
      ++objects;
    }
    EXPECT_EQ(objects, summary.files);
  }
}

// The text of every log object (gunzipped), keyed by relative path; digests and labels left out.
std::map<std::string, std::string> LogObjects(const std::string& root) {
  std::map<std::string, std::string> objects;
  for (const std::string& file : ListFiles(root)) {
    if (file == "labels.csv" || file.find("CloudTrail-Digest") != std::string::npos) continue;
    std::string bytes = ReadFile(root + "/" + file);
    objects[file] = IsGzip(bytes) ? Gunzip(bytes) : bytes;
  }
  return objects;
}

TEST(Simulate, CloudTrailRecordsCarryEveryField) {
  TempFolder folder;
  SimulateOptions options = SmallOptions(LogKind::kCloudTrail, folder.path());
  options.users = 400;
  SimulateSummary summary = Simulate(options, nullptr);
  const char* kFields[] = {
      "eventVersion",       "userIdentity",    "eventTime", "eventSource",       "eventName",
      "awsRegion",          "sourceIPAddress", "userAgent", "requestParameters", "responseElements",
      "requestID",          "eventID",         "readOnly",  "eventType",         "managementEvent",
      "recipientAccountId", "eventCategory",   "tlsDetails"};
  simdjson::dom::parser parser;
  std::set<std::string> types;
  uint64_t records = 0, ipv6 = 0, internal = 0, service_host = 0;
  for (const auto& [file, text] : LogObjects(folder.path())) {
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(text).get(doc), simdjson::SUCCESS) << file;
    simdjson::dom::array list;
    ASSERT_EQ(doc["Records"].get_array().get(list), simdjson::SUCCESS) << file;
    std::string previous_time;
    for (simdjson::dom::element record : list) {
      ++records;
      for (const char* field : kFields) {
        ASSERT_EQ(record[field].error(), simdjson::SUCCESS) << file << ": record without " << field;
      }
      std::string_view time_view, type_view, source_view;
      ASSERT_EQ(record["eventTime"].get_string().get(time_view), simdjson::SUCCESS);
      ASSERT_EQ(record["userIdentity"]["type"].get_string().get(type_view), simdjson::SUCCESS);
      ASSERT_EQ(record["sourceIPAddress"].get_string().get(source_view), simdjson::SUCCESS);
      const std::string time(time_view);
      EXPECT_LE(previous_time, time) << file << ": records out of time order";
      previous_time = time;
      const std::string type(type_view);
      types.insert(type);
      if (type == "AssumedRole") {
        EXPECT_EQ(record["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"].error(),
                  simdjson::SUCCESS);
        EXPECT_EQ(record["userIdentity"]["sessionContext"]["attributes"]["creationDate"].error(),
                  simdjson::SUCCESS);
      }
      if (type == "AWSService") {
        EXPECT_EQ(record["userIdentity"]["invokedBy"].error(), simdjson::SUCCESS);
      }
      const std::string source(source_view);
      if (source == "AWS Internal") {
        ++internal;
      } else if (source.find(".amazonaws.com") != std::string::npos) {
        ++service_host;
      } else {
        std::optional<IpAddress> ip = IpAddress::Parse(source);
        ASSERT_TRUE(ip.has_value()) << source;
        ipv6 += !ip->is_v4();
      }
    }
  }
  EXPECT_EQ(records, summary.records);
  EXPECT_THAT(types, ::testing::IsSupersetOf(
                         {"IAMUser", "AssumedRole", "FederatedUser", "AWSService", "Root"}));
  EXPECT_TRUE(types.count("SAMLUser") || types.count("IdentityCenterUser"));
  EXPECT_GT(ipv6, 0u);
  EXPECT_GT(internal, 0u);
  EXPECT_GT(service_host, 0u);
}

TEST(Simulate, WafRecordsCarryEveryField) {
  TempFolder folder;
  SimulateSummary summary = Simulate(SmallOptions(LogKind::kWaf, folder.path()), nullptr);
  const char* kFields[] = {"timestamp",
                           "formatVersion",
                           "webaclId",
                           "terminatingRuleId",
                           "terminatingRuleType",
                           "action",
                           "terminatingRuleMatchDetails",
                           "httpSourceName",
                           "httpSourceId",
                           "ruleGroupList",
                           "rateBasedRuleList",
                           "nonTerminatingMatchingRules",
                           "requestHeadersInserted",
                           "responseCodeSent",
                           "httpRequest"};
  const char* kRequestFields[] = {"clientIp", "country",     "headers",    "uri",
                                  "args",     "httpVersion", "httpMethod", "requestId"};
  simdjson::dom::parser parser;
  uint64_t records = 0, lower_case_agent = 0;
  for (const auto& [file, text] : LogObjects(folder.path())) {
    std::istringstream lines(text);
    std::string line;
    int64_t previous = 0;
    while (std::getline(lines, line)) {
      ++records;
      simdjson::dom::element record;
      ASSERT_EQ(parser.parse(line).get(record), simdjson::SUCCESS) << file;
      for (const char* field : kFields)
        ASSERT_EQ(record[field].error(), simdjson::SUCCESS) << field;
      for (const char* field : kRequestFields) {
        ASSERT_EQ(record["httpRequest"][field].error(), simdjson::SUCCESS) << field;
      }
      int64_t timestamp = 0;
      ASSERT_EQ(record["timestamp"].get_int64().get(timestamp), simdjson::SUCCESS);
      EXPECT_LE(previous, timestamp) << file;
      previous = timestamp;
      bool has_host = false, has_agent = false;
      simdjson::dom::array headers;
      ASSERT_EQ(record["httpRequest"]["headers"].get_array().get(headers), simdjson::SUCCESS);
      for (simdjson::dom::element header : headers) {
        std::string_view name_view;
        ASSERT_EQ(header["name"].get_string().get(name_view), simdjson::SUCCESS);
        std::string name(name_view);
        if (name == "user-agent") ++lower_case_agent;
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        has_host |= name == "host";
        has_agent |= name == "user-agent";
      }
      EXPECT_TRUE(has_host && has_agent) << line;
    }
  }
  EXPECT_EQ(records, summary.records);
  EXPECT_GT(lower_case_agent, 0u);
  EXPECT_LT(lower_case_agent, records);
}

TEST(Simulate, LabelsHoldTheLastDayAndTheAttacks) {
  TempFolder folder;
  SimulateOptions options = SmallOptions(LogKind::kCloudTrail, folder.path());
  options.attacks = 123;
  SimulateSummary summary = Simulate(options, nullptr);
  std::string header;
  const std::vector<LabelRow> rows = ReadLabels(summary.labels_path, &header);
  EXPECT_EQ(header, "entity,ip,label,oracle_score,kind");
  EXPECT_EQ(rows.size(), summary.label_rows);
  EXPECT_EQ(rows.size(), summary.pairs_per_day.back());
  uint64_t attacks = 0;
  double normal_sum = 0, attack_sum = 0;
  for (const LabelRow& row : rows) {
    ASSERT_TRUE(IpAddress::Parse(row.ip).has_value()) << row.ip;
    EXPECT_EQ(IpAddress::Parse(row.ip)->ToString(), row.ip) << "not canonical";
    ASSERT_TRUE(std::isfinite(row.oracle));
    if (row.label == 1) {
      ++attacks;
      attack_sum += row.oracle;
    } else {
      normal_sum += row.oracle;
    }
  }
  EXPECT_EQ(attacks, 123u);
  EXPECT_EQ(summary.attacks, 123u);
  EXPECT_LT(attack_sum / attacks, normal_sum / (rows.size() - attacks));
}

TEST(Simulate, OracleSeparatesAttacksNearlyButNotPerfectly) {
  TempFolder folder;
  SimulateOptions options = SmallOptions(LogKind::kWaf, folder.path());
  options.users = 1000;
  options.attacks = 3000;
  options.events_per_user_per_day = 6;
  SimulateSummary summary = Simulate(options, nullptr);
  std::string header;
  std::vector<double> normal, attack;
  for (const LabelRow& row : ReadLabels(summary.labels_path, &header)) {
    (row.label ? attack : normal).push_back(row.oracle);
  }
  std::sort(normal.begin(), normal.end());
  double above = 0;
  for (double a : attack) {
    const auto lower = std::lower_bound(normal.begin(), normal.end(), a);
    const auto upper = std::upper_bound(normal.begin(), normal.end(), a);
    above += static_cast<double>(normal.end() - upper) + 0.5 * static_cast<double>(upper - lower);
  }
  const double auc = above / (static_cast<double>(normal.size()) * attack.size());
  EXPECT_GT(auc, 0.98);
  EXPECT_LT(auc, 1.0);
}

TEST(Simulate, TargetMbScalesTheOutput) {
  TempFolder folder;
  SimulateOptions options;
  options.kind = LogKind::kWaf;
  options.out = folder.path();
  options.days = 2;
  options.attacks = 10;
  options.target_mb = 20;
  SimulateSummary summary = Simulate(options, nullptr);
  EXPECT_GT(summary.bytes, 14'000'000u);
  EXPECT_LT(summary.bytes, 28'000'000u);
}

// ---- The command line and the end-to-end check against `prepare` ----

std::map<std::string, int> PairCounts(const std::string& csv_text) {
  std::map<std::string, int> counts;
  std::istringstream in(csv_text);
  std::string line;
  while (std::getline(in, line)) ++counts[line];
  return counts;
}

uint64_t JsonNumber(const std::string& json, const std::string& path_a,
                    const std::string& path_b = "") {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  simdjson::dom::element value;
  EXPECT_EQ(doc[path_a].get(value), simdjson::SUCCESS) << path_a << " in " << json;
  if (!path_b.empty()) {
    EXPECT_EQ(value[path_b].get(value), simdjson::SUCCESS) << path_b << " in " << json;
  }
  uint64_t number = 0;
  EXPECT_EQ(value.get_uint64().get(number), simdjson::SUCCESS) << path_a << " in " << json;
  return number;
}

TEST(SimulateCli, JsonSummaryAndUsageErrors) {
  TempFolder folder;
  CommandResult result = RunShell(Binary() + " simulate waf --out " + folder.path() +
                                  " --users 30 --days 1 --attacks 5 --seed 3 --json");
  ASSERT_EQ(result.exit_code, 0) << result.out;
  EXPECT_EQ(JsonNumber(result.out, "attacks"), 5u);
  EXPECT_GT(JsonNumber(result.out, "files"), 0u);
  EXPECT_THAT(result.out, ::testing::HasSubstr("\"labels\":\"" + folder.Sub("labels.csv") + "\""));
  EXPECT_EQ(RunShell(Binary() + " simulate waf --out " + folder.path() + " --quiet 2>/dev/null")
                .exit_code,
            2);
  EXPECT_EQ(RunShell(Binary() + " simulate cloudtrail --out " + folder.Sub("x") +
                     " --start 2024-02-30 2>/dev/null")
                .exit_code,
            2);
  EXPECT_EQ(RunShell(Binary() + " simulate cloudtrail --out " + folder.Sub("y") +
                     " --ipv6-fraction 2 2>/dev/null")
                .exit_code,
            2);
}

// Runs `prepare` on the simulated logs; returns its stdout (JSON summary).
CommandResult Prepare(const std::string& kind, const std::string& input, const std::string& output,
                      const std::string& extra = "") {
  return RunShell(Binary() + " prepare " + kind + " --input " + input + " --output " + output +
                  " --json " + extra + " 2>/dev/null");
}

bool PrepareAvailable() {
  return RunShell(Binary() + " prepare --help >/dev/null 2>&1").exit_code == 0 &&
         RunShell(Binary() + " prepare --help 2>&1").out.find("not available") == std::string::npos;
}

TEST(SimulateEndToEnd, PrepareReadsBackTheGroundTruth) {
  if (!PrepareAvailable()) GTEST_SKIP() << "prepare is not built yet";
  for (LogKind kind : {LogKind::kCloudTrail, LogKind::kWaf}) {
    TempFolder folder;
    const std::string name = kind == LogKind::kCloudTrail ? "cloudtrail" : "waf";
    const std::string sim = folder.Sub("sim");
    CommandResult simulated =
        RunShell(Binary() + " simulate " + name + " --out " + sim +
                 " --users 120 --days 3 --attacks 60 --seed 5 --ipv6-fraction 0.3" +
                 (kind == LogKind::kWaf ? " --gzip" : "") + " --json");
    ASSERT_EQ(simulated.exit_code, 0) << simulated.out;
    const std::string logs = sim + "/AWSLogs";  // beside labels.csv, which is not a log

    // All days: pair count and skip reasons equal the generator's own counts.
    CommandResult all = Prepare(name, logs, folder.Sub("all.csv"));
    ASSERT_EQ(all.exit_code, 0) << all.out;
    EXPECT_EQ(JsonNumber(all.out, "pairs_written"), JsonNumber(simulated.out, "pairs")) << name;
    EXPECT_EQ(JsonNumber(all.out, "records"), JsonNumber(simulated.out, "records")) << name;
    for (const char* reason : {"aws_service", "not_an_ip", "no_entity"}) {
      EXPECT_EQ(JsonNumber(all.out, "skipped", reason),
                JsonNumber(simulated.out, "skipped", reason))
          << name << " " << reason;
    }
    EXPECT_EQ(JsonNumber(all.out, "skipped", "malformed"), 0u);

    // The last day: exactly the (entity, ip) rows of labels.csv, with multiplicity.
    CommandResult last =
        Prepare(name, logs, folder.Sub("last.csv"), "--from 2024-03-03 --to 2024-03-03");
    ASSERT_EQ(last.exit_code, 0) << last.out;
    std::string header;
    std::map<std::string, int> expected;
    for (const LabelRow& row : ReadLabels(sim + "/labels.csv", &header))
      ++expected[row.entity + "," + row.ip];
    EXPECT_EQ(PairCounts(ReadFile(folder.Sub("last.csv"))), expected) << name;
  }
}

}  // namespace
}  // namespace ipinsights
