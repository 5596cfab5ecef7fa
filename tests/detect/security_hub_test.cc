#include "ipinsights/detect/security_hub.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "../storage/s3_test_support.h"
#include "../testing/scratch_test.h"
#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/detect/finding_formats.h"

namespace ipinsights {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The test credentials: the same the S3 tests' moto_server helper puts in the environment,
// so that both can share one test process.
constexpr const char* kAccessKey = "AKIAIPINSIGHTSTEST01";
constexpr const char* kSecret = "secret";

std::vector<Finding> Findings(size_t count) {
  std::vector<Finding> findings;
  for (size_t i = 0; i < count; ++i) {
    Finding finding;
    finding.id = "ipinsights/cloudtrail/2026-12-01/" + std::to_string(1000 + i);
    finding.entity = "AIDAEXAMPLE" + std::to_string(i);
    finding.ip = IpAddress::FromV4(0xCB007100u + static_cast<uint32_t>(i % 250));
    finding.window_start = *ParseTimestamp("2026-12-01T00:00:00Z");
    finding.window_end = finding.window_start + 86400;
    finding.first_seen = finding.window_start + 3600;
    finding.last_seen = finding.window_start + 7200;
    finding.events = 2;
    finding.lowest_score = -1.5f;
    finding.false_positive_rate = 0.002;
    finding.reasons = {{"ip_new_for_entity", "The address is new for the entity.", "{}"}};
    finding.identity_type = "IAMUser";
    finding.account_id = "123456789012";
    finding.region = "us-east-1";
    findings.push_back(finding);
  }
  return findings;
}

std::vector<std::string> Batches(size_t count) {
  return AsffBatches(Findings(count),
                     {.region = "us-east-1", .account_id = "123456789012", .now = 1796000000});
}

// One request as the fake recorded it.
struct Call {
  long status = 0;
  std::string signature;
  size_t count = 0;
  std::vector<std::string> ids;
  std::string content_type;
  std::string user_agent;
};

class SecurityHubTest : public testing::ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    ::setenv("AWS_ACCESS_KEY_ID", kAccessKey, 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", kSecret, 1);
    ::unsetenv("AWS_SESSION_TOKEN");
    ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    ::setenv("AWS_REGION", "us-east-1", 1);
  }
  void TearDown() override {
    fake_.reset();
    ::setenv("AWS_SECRET_ACCESS_KEY", kSecret, 1);
    ::unsetenv("AWS_ENDPOINT_URL_SECURITYHUB");
    ::setenv("AWS_REGION", "us-east-1", 1);
    ScratchTest::TearDown();
  }

  // Starts the fake endpoint with `flags`; false when python3 cannot run it.
  bool StartFake(std::vector<std::string> flags = {}) {
    std::vector<std::string> argv = {
        "python3",      s3test::SourceDir() + "/tests/detect/security_hub_fake.py",
        "--record",     Path("calls.ndjson"),
        "--access-key", kAccessKey,
        "--secret",     kSecret,
        "--region",     "us-east-1"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    fake_ = s3test::StartServer(argv);
    return fake_.has_value();
  }

  SecurityHubClient Client(int max_attempts = 5) {
    return SecurityHubClient(
        {.region = "us-east-1", .endpoint = fake_->url(), .max_attempts = max_attempts});
  }

  std::vector<Call> Calls() {
    std::vector<Call> calls;
    simdjson::dom::parser parser;
    std::string text = Read("calls.ndjson");
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      simdjson::dom::element record;
      EXPECT_EQ(parser.parse(text.substr(start, end - start)).get(record), simdjson::SUCCESS);
      start = end + 1;
      Call call;
      int64_t status = 0;
      EXPECT_EQ(record["status"].get(status), simdjson::SUCCESS);
      call.status = static_cast<long>(status);
      std::string_view text_value;
      if (record["signature"].get(text_value) == simdjson::SUCCESS) call.signature = text_value;
      if (record["content_type"].get(text_value) == simdjson::SUCCESS) {
        call.content_type = text_value;
      }
      if (record["user_agent"].get(text_value) == simdjson::SUCCESS) call.user_agent = text_value;
      uint64_t count = 0;
      if (record["count"].get(count) == simdjson::SUCCESS) call.count = count;
      simdjson::dom::array ids;
      if (record["ids"].get(ids) == simdjson::SUCCESS) {
        for (auto id : ids) call.ids.emplace_back(std::string_view(id));
      }
      calls.push_back(call);
    }
    return calls;
  }

  std::optional<s3test::LocalServer> fake_;
};

#define START_FAKE_OR_SKIP(...)                                                         \
  if (!StartFake(__VA_ARGS__)) {                                                        \
    GTEST_SKIP() << "python3 could not start tests/detect/security_hub_fake.py (needs " \
                    "python3 on PATH)";                                                 \
  }

TEST_F(SecurityHubTest, ImportsEveryBatchSignedAndWhole) {
  START_FAKE_OR_SKIP();
  SecurityHubResult result = Client().Import(Batches(250));
  EXPECT_EQ(result.batches, 3u);
  EXPECT_EQ(result.sent, 250u);
  EXPECT_EQ(result.succeeded, 250u);
  EXPECT_EQ(result.failed, 0u);
  EXPECT_TRUE(result.failures.empty()) << result.failures.at(0);
  std::vector<Call> calls = Calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].count, 100u);
  EXPECT_EQ(calls[1].count, 100u);
  EXPECT_EQ(calls[2].count, 50u);
  EXPECT_EQ(calls[2].ids.back(), "ipinsights/cloudtrail/2026-12-01/1249");
  for (const Call& call : calls) {
    EXPECT_EQ(call.signature, "ok");
    EXPECT_EQ(call.status, 200);
    EXPECT_EQ(call.content_type, "application/json");
  }
}

TEST_F(SecurityHubTest, EndpointFromTheEnvironment) {
  START_FAKE_OR_SKIP();
  ::setenv("AWS_ENDPOINT_URL_SECURITYHUB", fake_->url().c_str(), 1);
  SecurityHubClient client({.region = "us-east-1", .endpoint = ""});
  SecurityHubResult result = client.Import(Batches(3));
  EXPECT_EQ(result.succeeded, 3u);
  EXPECT_EQ(Calls().size(), 1u);
}

TEST_F(SecurityHubTest, RetriesThrottlingAndServerErrors) {
  START_FAKE_OR_SKIP({"--throttle-first", "1", "--error-first", "1"});
  SecurityHubResult result = Client().Import(Batches(5));
  EXPECT_EQ(result.batches, 1u);
  EXPECT_EQ(result.succeeded, 5u);
  EXPECT_EQ(result.failed, 0u);
  std::vector<Call> calls = Calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].status, 429);
  EXPECT_EQ(calls[1].status, 500);
  EXPECT_EQ(calls[2].status, 200);
}

TEST_F(SecurityHubTest, GivesUpOnAThrottledBatchAfterMaxAttempts) {
  START_FAKE_OR_SKIP({"--throttle-first", "2"});
  SecurityHubResult result = Client(2).Import(Batches(120));
  EXPECT_EQ(result.sent, 120u);
  EXPECT_EQ(result.failed, 100u);
  EXPECT_EQ(result.succeeded, 20u);  // the second batch still goes
  EXPECT_EQ(result.batches, 2u);
  EXPECT_THAT(result.failures,
              ElementsAre("batch 1: HTTP 429: TooManyRequestsException: Rate exceeded (gave up "
                          "after 2 attempts)"));
}

TEST_F(SecurityHubTest, ReportsPartialFailuresPerFinding) {
  START_FAKE_OR_SKIP(
      {"--fail-ids",
       "ipinsights/cloudtrail/2026-12-01/1003,ipinsights/cloudtrail/2026-12-01/1007"});
  SecurityHubResult result = Client().Import(Batches(10));
  EXPECT_EQ(result.succeeded, 8u);
  EXPECT_EQ(result.failed, 2u);
  EXPECT_THAT(
      result.failures,
      ElementsAre("ipinsights/cloudtrail/2026-12-01/1003: InvalidInput: rejected by the fake",
                  "ipinsights/cloudtrail/2026-12-01/1007: InvalidInput: rejected by the "
                  "fake"));
}

TEST_F(SecurityHubTest, RefusedBatchFailsAndTheRestAreStillSent) {
  START_FAKE_OR_SKIP();
  // 101 findings in one body: over the API's limit (AsffBatches never writes one).
  std::vector<std::string> hundred = Batches(100);
  std::string oversized = hundred[0];
  const std::string one = Batches(1)[0];
  oversized.insert(oversized.size() - 2,
                   "," + one.substr(one.find('[') + 1, one.rfind(']') - one.find('[') - 1));
  SecurityHubResult result = Client().Import({oversized, Batches(4)[0]});
  EXPECT_EQ(result.sent, 105u);
  EXPECT_EQ(result.failed, 101u);
  EXPECT_EQ(result.succeeded, 4u);
  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_THAT(result.failures[0],
              HasSubstr("batch 1: HTTP 400: InvalidInputException: 1 validation error"));
  EXPECT_THAT(result.failures[0], HasSubstr("between 1 and 100 (got 101)"));
  std::vector<Call> calls = Calls();
  ASSERT_EQ(calls.size(), 2u);  // a 400 is not retried
  EXPECT_EQ(calls[0].status, 400);
}

TEST_F(SecurityHubTest, FakeRefusesAWrongSignature) {
  START_FAKE_OR_SKIP();
  ::setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret", 1);
  SecurityHubResult result = Client().Import(Batches(2));
  EXPECT_EQ(result.failed, 2u);
  EXPECT_EQ(result.succeeded, 0u);
  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_THAT(result.failures[0],
              HasSubstr("batch 1: HTTP 403: InvalidSignatureException: The request signature"));
}

TEST_F(SecurityHubTest, TransportErrorsAreRetriedThenReported) {
  const int port = s3test::FreePort();  // nothing listens there
  SecurityHubClient client({.region = "us-east-1",
                            .endpoint = "http://127.0.0.1:" + std::to_string(port),
                            .max_attempts = 2});
  SecurityHubResult result = client.Import(Batches(3));
  EXPECT_EQ(result.batches, 0u);
  EXPECT_EQ(result.failed, 3u);
  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_THAT(result.failures[0], HasSubstr("batch 1: connection failed"));
  EXPECT_THAT(result.failures[0], HasSubstr("(gave up after 2 attempts)"));
}

TEST_F(SecurityHubTest, NoRegionIsAUsageError) {
  ::unsetenv("AWS_REGION");
  ::unsetenv("AWS_DEFAULT_REGION");
  try {
    SecurityHubClient client({});
    FAIL() << "no error";
  } catch (const UsageError& error) {
    EXPECT_THAT(error.what(), HasSubstr("Security Hub needs a region"));
  }
  EXPECT_THROW(SecurityHubClient({.region = "us-east-1", .endpoint = "127.0.0.1:9"}), UsageError);
}

class SecurityHubCliTest : public SecurityHubTest {
 protected:
  // Runs the AWS CLI's batch-import-findings with `batch` against the fake; returns its exit
  // status and sets *output to what it printed.
  int RunCli(const std::string& batch, const std::string& secret, std::string* output) {
    const std::string file = Write("batch.json", batch);
    // A home of its own: no profile or config of the machine's user takes part.
    const std::string home = Path("home");
    std::filesystem::create_directories(home);
    const std::string command =
        "env HOME=" + home + " AWS_CONFIG_FILE=" + home +
        "/config AWS_SHARED_CREDENTIALS_FILE=" + home +
        "/credentials AWS_ACCESS_KEY_ID=" + kAccessKey + " AWS_SECRET_ACCESS_KEY=" + secret +
        " aws securityhub batch-import-findings --cli-input-json file://" + file +
        " --endpoint-url " + fake_->url() + " --region us-east-1 2>&1";
    int status = 0;
    *output = s3test::RunCommand(command, &status);
    return status;
  }
};

TEST_F(SecurityHubCliTest, AwsCliAcceptsOurAsffAndTheFakeAcceptsItsSignature) {
  if (!s3test::OnPath("aws")) {
    GTEST_SKIP() << "the AWS CLI (aws) is not on PATH (pip install awscli, or Debian's awscli): "
                    "it is the real client that proves our ASFF batches are accepted as-is";
  }
  START_FAKE_OR_SKIP();
  std::string output;
  // The CLI validates the batch against Security Hub's service model before sending it.
  EXPECT_EQ(RunCli(Batches(100)[0], kSecret, &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("\"SuccessCount\": 100"));
  std::vector<Call> calls = Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].signature, "ok");
  EXPECT_THAT(calls[0].user_agent, HasSubstr("aws-cli/"));
  EXPECT_EQ(calls[0].count, 100u);
}

TEST_F(SecurityHubCliTest, AwsCliRefusesAnInvalidBatchAndTheFakeAWrongSignature) {
  if (!s3test::OnPath("aws")) {
    GTEST_SKIP() << "the AWS CLI (aws) is not on PATH (pip install awscli, or Debian's awscli): "
                    "it is the real client that proves our ASFF batches are accepted as-is";
  }
  START_FAKE_OR_SKIP();
  std::string output;
  // The CLI's own parameter validation: a finding without Title never leaves the machine.
  std::string broken = Batches(1)[0];
  broken.replace(broken.find("\"Title\""), 7, "\"Tittle\"");
  EXPECT_NE(RunCli(broken, kSecret, &output), 0);
  EXPECT_THAT(output, HasSubstr("Title"));
  EXPECT_TRUE(Calls().empty());
  // The fake checks the CLI's signature: a wrong secret is refused.
  EXPECT_NE(RunCli(Batches(1)[0], "wrong-secret", &output), 0);
  EXPECT_THAT(output, HasSubstr("InvalidSignatureException"));
  std::vector<Call> calls = Calls();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back().status, 403);
}

}  // namespace
}  // namespace ipinsights
