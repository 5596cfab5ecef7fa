// `score --findings --to-security-hub` end to end against moto_server's Security Hub (a
// real implementation of BatchImportFindings, which validates the request), then read back
// with the AWS CLI's get-findings; and --state keeps the next run from sending them again.
// moto_server and the AWS CLI are on the development image, not on a fresh Debian machine
// (where the CLI is installed from Debian's awscli but moto is not): the test skips there,
// saying so; tests/detect/security_hub_test.cc covers the client against a stdlib endpoint
// that verifies signatures on every machine.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <sstream>
#include <string>

#include "../storage/s3_test_support.h"
#include "../testing/command.h"

namespace ipinsights {
namespace {

using testing::CommandResult;
using testing::RunIpinsights;

class SecurityHubMoto : public testing::ScratchTest {
 protected:
  void Run(const std::string& args) {
    CommandResult run = RunIpinsights(dir_, args + " --quiet");
    ASSERT_EQ(run.exit_code, 0) << args << "\n" << run.err;
  }
};

uint64_t Get(const std::string& json, const char* section, const char* key) {
  simdjson::dom::parser parser;
  simdjson::dom::element summary;
  uint64_t value = 0;
  if (parser.parse(json).get(summary) != simdjson::SUCCESS ||
      summary[section][key].get(value) != simdjson::SUCCESS) {
    ADD_FAILURE() << "no " << section << "." << key << " in " << json;
  }
  return value;
}

TEST_F(SecurityHubMoto, FindingsImportedAndReportedOnce) {
  if (!s3test::OnPath("moto_server") || !s3test::OnPath("aws")) {
    GTEST_SKIP() << "moto_server or the AWS CLI is not installed (pip install 'moto[server]' "
                    "awscli): Security Hub's BatchImportFindings has no other local "
                    "implementation; the client is tested against tests/detect/"
                    "security_hub_fake.py";
  }
  std::optional<s3test::LocalServer> moto =
      s3test::StartServer({"moto_server", "-H", "127.0.0.1"}, {}, "-p");
  ASSERT_TRUE(moto) << "moto_server did not start";
  Run("simulate cloudtrail --out sim --users 300 --days 4 --attacks 150 --seed 9");
  Run("prepare cloudtrail --input sim/AWSLogs --to 2024-03-03 --split-at 2024-03-03 "
      "--output train.csv --validation-output val.csv");
  Run("train --train train.csv --validation val.csv --model-dir model --num-entity-vectors 1200 "
      "--vector-dim 32 --epochs 4 --seed 1");
  const std::string environment =
      "AWS_ACCESS_KEY_ID=AKIAIPINSIGHTSTEST01 AWS_SECRET_ACCESS_KEY=secret "
      "AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL_SECURITYHUB=" +
      moto->url() + " ";
  const std::string score =
      "score cloudtrail --model model/model.ipinsights --input sim/AWSLogs --from 2024-03-04 "
      "--to 2024-03-04 --findings --to-security-hub --region us-east-1 --account-id 123456789012 "
      "--state state --json";
  CommandResult first = RunIpinsights(dir_, score, "", environment);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const uint64_t reported = Get(first.out, "findings", "reported");
  EXPECT_GT(reported, 100u);  // more than one batch of 100
  EXPECT_EQ(Get(first.out, "security_hub", "succeeded"), reported) << first.out;
  EXPECT_EQ(Get(first.out, "security_hub", "failed"), 0u) << first.out;
  EXPECT_EQ(Get(first.out, "security_hub", "batches"), (reported + 99) / 100) << first.out;

  CommandResult listed = testing::RunShell(
      environment + "AWS_DEFAULT_REGION=us-east-1 aws securityhub get-findings --endpoint-url " +
      moto->url() + " --max-items 100000 --query 'length(Findings)' --output text 2>&1");
  ASSERT_EQ(listed.exit_code, 0) << listed.out;
  // The CLI pages through the results and prints one count per page.
  uint64_t stored = 0;
  std::istringstream pages(listed.out);
  for (std::string count; pages >> count;) stored += std::stoull(count);
  EXPECT_EQ(stored, reported) << listed.out;

  // The next run finds the same pairs and sends none of them again.
  CommandResult second = RunIpinsights(dir_, score, "", environment);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(Get(second.out, "findings", "already_reported"), reported) << second.out;
  EXPECT_EQ(Get(second.out, "findings", "reported"), 0u) << second.out;
}

}  // namespace
}  // namespace ipinsights
