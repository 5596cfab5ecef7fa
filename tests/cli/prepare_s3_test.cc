// `ipinsights prepare --json` on a moto bucket and on a local copy of the same bucket must
// give the same summary and the same rows: storage only lists and reads, logs/ decides what
// a key means (digest files, the days in a key) the same way for both.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "../storage/s3_test_support.h"
#include "../testing/command.h"
#include "../testing/scratch_test.h"
#include "ipinsights/storage/aws_credentials.h"
#include "ipinsights/storage/local_storage.h"
#include "ipinsights/storage/s3_storage.h"

namespace ipinsights {
namespace {

namespace fs = std::filesystem;

// The summary without the fields that time the run.
std::string WithoutTimings(const std::string& json) {
  static const std::regex timing(R"re(, "(seconds|json_mb_per_second)": [0-9.]+)re");
  // The history's location names the output, which differs between the runs compared.
  static const std::regex history(R"re("history": \{"location": "[^"]*")re");
  return std::regex_replace(std::regex_replace(json, timing, ""), history,
                            R"("history": {"location": "")");
}

class PrepareS3Test : public testing::ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    if (!s3test::OnPath("moto_server")) {
      GTEST_SKIP() << "moto_server is not on PATH (pip install 'moto[server]')";
    }
    auto server = s3test::StartServer({"moto_server", "-H", "127.0.0.1"}, {}, "-p");
    if (!server) GTEST_SKIP() << "moto_server did not start";
    moto_ = std::move(*server);
  }

  std::unique_ptr<S3Storage> Storage() const {
    S3Config config;
    config.endpoint = moto_.url();
    config.region = "us-east-1";
    config.credentials = std::make_shared<StaticCredentialsProvider>(
        AwsCredentials{"AKIAIPINSIGHTSTEST01", "secret", "", std::nullopt, "test keys"});
    return std::make_unique<S3Storage>(config);
  }

  // Runs `ipinsights ARGS` in dir_ against moto; returns stdout, *err stderr.
  int Run(const std::string& args, std::string* out, std::string* err) {
    testing::CommandResult run = testing::RunIpinsights(
        dir_, args + " --endpoint-url " + moto_.url(), "",
        "AWS_ACCESS_KEY_ID=AKIAIPINSIGHTSTEST01 AWS_SECRET_ACCESS_KEY=secret "
        "AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true ");
    *out = run.out;
    *err = run.err;
    return run.exit_code;
  }

  s3test::LocalServer moto_;
};

TEST_F(PrepareS3Test, ABucketAndItsLocalCopyGiveTheSameSummary) {
  std::string out, err;
  ASSERT_EQ(
      Run("simulate cloudtrail --out local --users 40 --days 3 --attacks 20 --quiet", &out, &err),
      0)
      << err;
  // The local copy's objects, uploaded under the same keys.
  std::unique_ptr<S3Storage> s3 = Storage();
  s3->client().CreateBucket("trail");
  LocalStorage local;
  const std::string root = (dir_ / "local").string();
  const std::vector<ObjectInfo> objects = local.List(root);
  uint64_t digests = 0;
  for (const ObjectInfo& object : objects) {
    digests += object.location.find("CloudTrail-Digest") != std::string::npos;
  }
  s3test::UploadObjects(objects, root, *s3, "s3://trail/");
  ASSERT_GT(digests, 0u) << "the simulation writes digest files";

  for (const std::string days : {"", " --from 2024-03-02 --to 2024-03-03"}) {
    std::string local_json, s3_json;
    ASSERT_EQ(Run("prepare cloudtrail --input local/AWSLogs --output local.csv --json" + days,
                  &local_json, &err),
              0)
        << err;
    ASSERT_EQ(Run("prepare cloudtrail --input s3://trail/AWSLogs --output s3.csv --json" + days,
                  &s3_json, &err),
              0)
        << err;
    EXPECT_EQ(WithoutTimings(s3_json), WithoutTimings(local_json)) << days;
    EXPECT_EQ(Read("s3.csv"), Read("local.csv")) << days;
    if (days.empty()) {
      EXPECT_NE(local_json.find("\"digest_files\": " + std::to_string(digests) + ","),
                std::string::npos)
          << local_json;
    }
  }
}

}  // namespace
}  // namespace ipinsights
