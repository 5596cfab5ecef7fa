// Conformance over the public AWS log samples in ../shared/data (see its MANIFEST.md):
// the readers must make of each file what the manifest says. Skips visibly when the
// shared folder is absent (a user's own clone).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../testing/command.h"
#include "../testing/scratch_test.h"
#include "ipinsights/logs/log_reader.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

namespace fs = std::filesystem;

fs::path DataDir() { return fs::path(IPINSIGHTS_SOURCE_DIR) / ".." / "shared" / "data"; }

#define REQUIRE_SHARED_DATA()                                                    \
  if (!fs::exists(DataDir() / "MANIFEST.md")) {                                  \
    GTEST_SKIP() << "shared AWS log samples not found at " << DataDir().string() \
                 << " (../shared/data); conformance checks skipped";             \
  }

// Every test gets its own folder; two of them unpack or write into it.
class SharedData : public testing::ScratchTest {};

class RowSink : public EventSink {
 public:
  void Add(const LogEvent& event) override {
    rows.push_back(std::string(event.entity) + "," + event.ip.ToString());
  }
  std::vector<std::string> rows;
};

struct FileRead {
  FileReport report;
  std::vector<std::string> rows;
  std::vector<std::string> problems;  // reported bad records, formatted
};

FileRead ReadFile(LogKind kind, const fs::path& path) {
  LogReaderOptions options;
  options.kind = kind;
  options.entity = DefaultEntitySpec(kind);
  LogFileReader reader(options);
  RowSink sink;
  Storage& storage = OpenStorage(path.string());
  std::vector<ObjectInfo> objects = storage.List(path.string());
  EXPECT_EQ(objects.size(), 1u);
  FileRead read;
  BadRecordLog bad_records;
  read.report = reader.Read(storage, objects.at(0), sink, &bad_records);
  read.rows = sink.rows;
  read.problems = bad_records.messages();
  return read;
}

void ExpectCounts(const FileRead& read, uint64_t records, uint64_t pairs, uint64_t aws_service,
                  uint64_t not_an_ip, uint64_t no_entity, uint64_t malformed) {
  const SkipCounts& s = read.report.skipped;
  EXPECT_EQ(read.report.records, records);
  EXPECT_EQ(read.report.pairs, pairs);
  EXPECT_EQ(s[SkipReason::kAwsService], aws_service);
  EXPECT_EQ(s[SkipReason::kNotAnIp], not_an_ip);
  EXPECT_EQ(s[SkipReason::kNoEntity], no_entity);
  EXPECT_EQ(s[SkipReason::kMalformed], malformed);
  EXPECT_EQ(read.report.records, read.report.pairs + s.Total());
}

TEST_F(SharedData, OpenSearchSamplesLargeIsMalformedWithItsOffset) {
  REQUIRE_SHARED_DATA();
  FileRead read = ReadFile(LogKind::kCloudTrail,
                           DataDir() / "opensearch-catalog-aws/aws_cloudtrail/samples-large.json");
  ASSERT_EQ(read.problems.size(), 1u);
  // Python's json module agrees: "Expecting ',' delimiter: line 85 column 6 (char 3053)".
  EXPECT_NE(read.problems[0].find("samples-large.json: byte 3053: malformed JSON"),
            std::string::npos)
      << read.problems[0];
  EXPECT_EQ(read.report.skipped[SkipReason::kMalformed], 1u);
}

TEST_F(SharedData, OpenSearchRawSampleHasMaskedValues) {
  REQUIRE_SHARED_DATA();
  FileRead read = ReadFile(LogKind::kCloudTrail,
                           DataDir() / "opensearch-catalog-aws/aws_cloudtrail/raw-sample.json");
  // Pretty-printed single record; "30.*.0.210" is not an IP.
  ExpectCounts(read, 1, 0, 0, 1, 0, 0);
}

TEST_F(SharedData, OpenSearchWafRecordsAllYieldPairs) {
  REQUIRE_SHARED_DATA();
  FileRead read = ReadFile(LogKind::kWaf, DataDir() / "opensearch-catalog-aws/aws_waf/raw.log");
  ExpectCounts(read, 38, 38, 0, 0, 0, 0);
  ASSERT_FALSE(read.rows.empty());
  // The lower-case "user-agent" header (HTTP/2 via CloudFront), dots removed.
  EXPECT_EQ(read.rows[0].rfind("Mozilla/50 (Macintosh; Intel Mac OS X 10_15_7)", 0), 0u)
      << read.rows[0];
}

TEST_F(SharedData, SchemaSamplesAreNotCloudTrailRecords) {
  REQUIRE_SHARED_DATA();
  // Already-parsed ALB / VPC samples: valid JSON, no CloudTrail fields, nothing crashes.
  FileRead elb = ReadFile(LogKind::kCloudTrail,
                          DataDir() / "opensearch-catalog-aws/schema-samples/aws_elb-log.json");
  EXPECT_EQ(elb.report.pairs, 0u);
  EXPECT_TRUE(elb.problems.empty());
  FileRead vpc = ReadFile(LogKind::kCloudTrail,
                          DataDir() / "opensearch-catalog-aws/schema-samples/aws_vpc-logs.json");
  EXPECT_EQ(vpc.report.pairs, 0u);
  EXPECT_TRUE(vpc.problems.empty());
}

TEST_F(SharedData, WazuhConcatenatedWafObjects) {
  REQUIRE_SHARED_DATA();
  FileRead read = ReadFile(LogKind::kWaf, DataDir() / "wazuh-aws-waf/aws-waf");
  // 7 records on 4 lines, some "}{"-concatenated; one has no User-Agent header.
  ExpectCounts(read, 7, 6, 0, 0, 1, 0);
  for (const std::string& row : read.rows) EXPECT_EQ(row.find("\\/"), std::string::npos) << row;
}

TEST_F(SharedData, ElasticWafRecords) {
  REQUIRE_SHARED_DATA();
  FileRead read = ReadFile(LogKind::kWaf, DataDir() / "elastic-integrations-aws/waf/test-waf.log");
  ExpectCounts(read, 4, 3, 0, 0, 1, 0);
}

TEST_F(SharedData, ElasticCloudTrailEdgeCases) {
  REQUIRE_SHARED_DATA();
  const fs::path dir = DataDir() / "elastic-integrations-aws/cloudtrail";
  ExpectCounts(ReadFile(LogKind::kCloudTrail, dir / "test-console-login-json.log"), 3, 3, 0, 0, 0,
               0);
  ExpectCounts(ReadFile(LogKind::kCloudTrail, dir / "test-get-caller-identity-json.log"), 1, 1, 0,
               0, 0, 0);
  // "81.2.69.142, 192.168.10.10" is not one IP.
  ExpectCounts(ReadFile(LogKind::kCloudTrail, dir / "test-tls-details-json.log"), 3, 2, 0, 1, 0, 0);
  // IdentityCenterUser, empty ARN, sourceIPAddress "redacted".
  ExpectCounts(ReadFile(LogKind::kCloudTrail, dir / "test-user-authentication.log"), 1, 0, 0, 1, 0,
               0);
  ExpectCounts(ReadFile(LogKind::kCloudTrail, dir / "test-assume-role-aws-service-json.log"), 1, 0,
               1, 0, 0, 0);
  FileRead gov = ReadFile(LogKind::kCloudTrail, dir / "test-us-gov-arn.log");
  ExpectCounts(gov, 1, 1, 0, 0, 0, 0);
  EXPECT_EQ(gov.rows[0].rfind("AROAEXAMPLE:i-example1234567890,", 0), 0u) << gov.rows[0];

  // With --entity arn: the IAMUser and the AssumedRole session have ARNs; the SAMLUser (no
  // ARN) is counted once, under not_an_ip, since its address field is a list.
  LogReaderOptions arn_options;
  arn_options.entity = ParseEntitySpec(LogKind::kCloudTrail, "arn");
  LogFileReader reader(arn_options);
  RowSink sink;
  std::string text;
  {
    std::ifstream in(dir / "test-tls-details-json.log", std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    text = s.str();
  }
  FileReport report = reader.ReadBytes("tls", text, sink);
  EXPECT_EQ(
      sink.rows,
      (std::vector<std::string>{
          "arn:aws:iam::0123456789012:user/Alice,127.0.0.1",
          "arn:aws:sts::001122334455:assumed-role/SomeRole/some.user@my.company.com,81.2.69.142"}));
  EXPECT_EQ(report.skipped[SkipReason::kNotAnIp], 1u);
}

TEST_F(SharedData, PantherCloudTrailTestEvents) {
  REQUIRE_SHARED_DATA();
  FileRead read =
      ReadFile(LogKind::kCloudTrail,
               DataDir() / "panther-analysis-test-events/cloudtrail_test_events.ndjson");
  EXPECT_EQ(read.report.records, 460u);
  EXPECT_TRUE(read.problems.empty());
  EXPECT_EQ(read.report.skipped[SkipReason::kAwsService], 2u);
  EXPECT_EQ(read.report.records, read.report.pairs + read.report.skipped.Total());
  EXPECT_GT(read.report.pairs, 300u);
}

TEST_F(SharedData, PantherWafTestEvents) {
  REQUIRE_SHARED_DATA();
  FileRead read =
      ReadFile(LogKind::kWaf, DataDir() / "panther-analysis-test-events/waf_test_events.ndjson");
  // Partial hand-written records: most carry no headers at all.
  ExpectCounts(read, 50, 1, 0, 0, 49, 0);
}

std::string RunOrEmpty(const std::string& command) {
  return std::system(command.c_str()) == 0 ? "ok" : "";
}

TEST_F(SharedData, CloudTrailZipHoldsFourExportsOneMalformed) {
  REQUIRE_SHARED_DATA();
  const fs::path dir = dir_ / "unzipped";
  fs::create_directories(dir);
  const std::string zip = (DataDir() / "cloudtrail2sightings/cloudtrail.zip").string();
  std::string unzipped =
      RunOrEmpty("unzip -q -o '" + zip + "' -d '" + dir.string() + "' 2>/dev/null");
  if (unzipped.empty()) {
    unzipped = RunOrEmpty(
        "python3 -c \"import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])\" "
        "'" +
        zip + "' '" + dir.string() + "'");
  }
  if (unzipped.empty()) {
    GTEST_SKIP() << "neither unzip nor python3 can extract " << zip;
  }
  std::vector<ObjectInfo> objects = OpenStorage(dir.string()).List(dir.string());
  ASSERT_EQ(objects.size(), 4u);
  LogFileReader reader(LogReaderOptions{});
  int malformed_files = 0;
  for (const ObjectInfo& object : objects) {
    RowSink sink;
    BadRecordLog bad_records;
    FileReport report = reader.Read(OpenStorage(object.location), object, sink, &bad_records);
    const std::vector<std::string> problems = bad_records.messages();
    bool is_bad = object.location.find("aws.execution.ec2-user-data.json") != std::string::npos;
    if (is_bad) {
      ASSERT_EQ(problems.size(), 1u);
      // Python: "Expecting ',' delimiter: line 112 column 1 (char 3327)".
      EXPECT_NE(problems[0].find("aws.execution.ec2-user-data.json: byte 3327: malformed JSON"),
                std::string::npos)
          << problems[0];
      ++malformed_files;
    } else {
      EXPECT_TRUE(problems.empty()) << problems.front();
      EXPECT_GT(report.records, 0u);
      EXPECT_EQ(report.records, report.pairs + report.skipped.Total());
    }
  }
  EXPECT_EQ(malformed_files, 1);
}

TEST_F(SharedData, PrepareReadsTheWholeFolderAndReportsBothMalformedFiles) {
  REQUIRE_SHARED_DATA();
  testing::CommandResult run = testing::RunIpinsights(
      dir_, "prepare cloudtrail --input '" +
                (DataDir() / "opensearch-catalog-aws/aws_cloudtrail").string() + "' '" +
                (DataDir() / "elastic-integrations-aws/cloudtrail").string() +
                "' --output o.csv --json");
  ASSERT_NE(run.exit_code, -1);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_NE(run.err.find("samples-large.json: byte 3053: malformed JSON"), std::string::npos)
      << run.err;
  EXPECT_NE(run.out.find("\"files\": 8"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace ipinsights
