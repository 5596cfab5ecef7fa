// `ipinsights prepare --json` on a moto bucket and on a local copy of the same bucket must
// give the same summary and the same rows: storage only lists and reads, logs/ decides what
// a key means (digest files, the days in a key) the same way for both.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "../storage/s3_test_support.h"
#include "ipinsights/storage/aws_credentials.h"
#include "ipinsights/storage/local_storage.h"
#include "ipinsights/storage/s3_storage.h"

namespace ipinsights {
namespace {

namespace fs = std::filesystem;

std::string Binary() {
  const char* env = std::getenv("IPINSIGHTS_BINARY");
  return env && *env ? env : IPINSIGHTS_BINARY;
}

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The summary without the fields that time the run.
std::string WithoutTimings(const std::string& json) {
  static const std::regex timing(R"re(, "(seconds|json_mb_per_second)": [0-9.]+)re");
  return std::regex_replace(json, timing, "");
}

class PrepareS3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!s3test::OnPath("moto_server")) {
      GTEST_SKIP() << "moto_server is not on PATH (pip install 'moto[server]')";
    }
    auto server = s3test::StartServer({"moto_server", "-H", "127.0.0.1"}, {}, "-p");
    if (!server) GTEST_SKIP() << "moto_server did not start";
    moto_ = std::move(*server);
    dir_ = fs::temp_directory_path() / ("ipi_prepare_s3_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
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
    std::string command =
        "cd '" + dir_.string() +
        "' && AWS_ACCESS_KEY_ID=AKIAIPINSIGHTSTEST01 AWS_SECRET_ACCESS_KEY=secret "
        "AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true '" +
        Binary() + "' " + args + " --endpoint-url " + moto_.url() + " >stdout.txt 2>stderr.txt";
    int status = std::system(command.c_str());
    *out = Slurp(dir_ / "stdout.txt");
    *err = Slurp(dir_ / "stderr.txt");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  s3test::LocalServer moto_;
  fs::path dir_;
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
  uint64_t digests = 0;
  for (const ObjectInfo& object : local.List(root)) {
    std::string bytes;
    local.ReadAll(object.location, &bytes);
    const std::string key = object.location.substr(root.size() + 1);
    if (key.find("CloudTrail-Digest") != std::string::npos) ++digests;
    auto writer = s3->OpenWritable("s3://trail/" + key);
    writer->Append(bytes);
    writer->Close();
  }
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
    EXPECT_EQ(Slurp(dir_ / "s3.csv"), Slurp(dir_ / "local.csv")) << days;
    if (days.empty()) {
      EXPECT_NE(local_json.find("\"digest_files\": " + std::to_string(digests) + ","),
                std::string::npos)
          << local_json;
    }
  }
}

}  // namespace
}  // namespace ipinsights
