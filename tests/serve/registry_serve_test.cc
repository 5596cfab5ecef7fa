// `ipinsights serve --model NAME=REGISTRY/NAME`: the real server serving a registry model
// from a local folder and from a moto_server bucket, switching versions on SIGHUP,
// POST /admin/reload and --poll-registry while a client keeps scoring, and never failing a
// request.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "../storage/s3_test_support.h"
#include "../testing/temp_dir.h"
#include "ipinsights/registry/registry.h"
#include "ipinsights/serve/model_registry.h"
#include "ipinsights/serve/response_codec.h"
#include "ipinsights/storage/s3_client.h"
#include "ipinsights/storage/s3_storage.h"
#include "ipinsights/storage/storage.h"
#include "serve_test_util.h"
#include "server_process.h"

namespace ipinsights {
namespace {

using namespace serve_test;
using ipinsights::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kBucket = "ipinsights-serve-registry";
constexpr const char* kKeyId = "AKIAIPINSIGHTSTEST01";

s3test::LocalServer* Moto() { return s3test::ProcessMoto(kBucket); }
::testing::Environment* const kMotoEnvironment =
    ::testing::AddGlobalTestEnvironment(new s3test::StopProcessMoto(kBucket));

// What the server must answer for "u,1.2.3.4" with the model in `file`.
std::string PredictionOf(const std::string& file) {
  ModelScorer scorer(Model::Load(file));
  IpAddress address = *IpAddress::Parse("1.2.3.4");
  std::string_view entity = "u";
  float score = 0;
  scorer.ScoreBatch(&entity, &address, 1, &score);
  std::string text;
  AppendFloat(score, &text);
  return "{\"predictions\":[{\"dot_product\":" + text + "}]}";
}

// Waits up to 10 s for `done`.
bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

enum class Backend { kLocal, kS3 };
void PrintTo(Backend backend, std::ostream* out) {
  *out << (backend == Backend::kLocal ? "local folder" : "moto_server bucket");
}

class RegistryServeTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string test = info->name();
    for (char& c : test) {
      if (c == '/') c = '_';
    }
    dir_ = TempDir() + "/" + test;
    std::filesystem::create_directories(dir_);
    if (GetParam() == Backend::kS3) {
      if (!s3test::OnPath("moto_server"))
        GTEST_SKIP() << "moto_server is not on PATH (pip install 'moto[server]'): S3 registry "
                        "serve test skipped";
      if (Moto() == nullptr) GTEST_SKIP() << "moto_server did not start: test skipped";
      root_ = std::string("s3://") + kBucket + "/" + test;
      env_ = {std::string("AWS_ACCESS_KEY_ID=") + kKeyId, "AWS_SECRET_ACCESS_KEY=secret",
              "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
              "AWS_ENDPOINT_URL=" + Moto()->url()};
    } else {
      root_ = dir_ + "/registry";
    }
    registry_ = std::make_unique<Registry>(root_);
  }

  // Publishes version `version` of "ct" with a model made from `seed` (or the bytes
  // `corrupt` instead); returns the prediction the server must give with it.
  std::string Publish(const std::string& version, uint64_t seed, const std::string& corrupt = "") {
    std::string file = dir_ + "/" + version + ".ipinsights";
    std::string prediction;
    if (corrupt.empty()) {
      SmallModel(seed)->Save(file);
      prediction = PredictionOf(file);
    } else {
      WriteFile(file, corrupt);
    }
    registry_->PublishVersion(
        "ct", version, {{"model.ipinsights", file}},
        "{\"name\": \"ct\", \"version\": \"" + version + "\", \"created\": \"2024-06-01\"}");
    return prediction;
  }

  bool StartServer(ServerProcess* server, std::vector<std::string> extra) {
    std::vector<std::string> args = {"--model", "ct=" + root_ + "/ct", "--threads", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    return server->Start(args, dir_ + "/serve.log", env_);
  }

  static std::string Get(const ServerProcess& server, const std::string& path) {
    return RunCommand("curl -s " + server.url() + path).output;
  }
  static std::string ExecutionParameters(const ServerProcess& server) {
    return Get(server, "/execution-parameters");
  }
  static std::string Versions(const std::string& version) {
    return "\"ModelVersions\":{\"ct\":\"" + version + "\"}}";
  }
  static std::string InfoMetric(const std::string& version) {
    return "ipinsights_model_info{model=\"ct\",version=\"" + version + "\"} 1\n";
  }
  // Waits until the server says it serves `version` and the load client gets `prediction`.
  static void ExpectServing(const ServerProcess& server, Load& load, const std::string& version,
                            const std::string& prediction) {
    EXPECT_TRUE(WaitFor([&] {
      return ExecutionParameters(server).find(Versions(version)) != std::string::npos;
    })) << ExecutionParameters(server);
    EXPECT_TRUE(WaitFor([&] { return load.last() == prediction; }))
        << "serving " << load.last() << ", expected " << prediction;
    EXPECT_THAT(Get(server, "/metrics"), HasSubstr(InfoMetric(version)));
  }

  std::string dir_;
  std::string root_;
  std::vector<std::string> env_;
  std::unique_ptr<Registry> registry_;
};

TEST_P(RegistryServeTest, SighupAndAdminReloadSwitchVersionsWithoutAFailedRequest) {
  std::string v1 = Publish("2024-05-30", 61);
  registry_->SetCurrent("ct", "2024-05-30");
  ServerProcess server;
  ASSERT_TRUE(StartServer(&server, {"--admin-token", "tok"})) << server.log();
  EXPECT_THAT(server.log(), HasSubstr("models: ct=" + root_ + "/ct (version 2024-05-30)"));
  EXPECT_EQ(ExecutionParameters(server),
            "{\"MaxConcurrentTransforms\":4,\"BatchStrategy\":\"MULTI_RECORD\","
            "\"MaxPayloadInMB\":6," +
                Versions("2024-05-30"));
  Load load(server.port(), 3);
  ExpectServing(server, load, "2024-05-30", v1);

  // A new version made current, then SIGHUP.
  std::string v2 = Publish("2024-05-31", 62);
  ASSERT_NE(v2, v1);
  registry_->SetCurrent("ct", "2024-05-31");
  kill(server.pid(), SIGHUP);
  ExpectServing(server, load, "2024-05-31", v2);

  // Another, then POST /admin/reload.
  std::string v3 = Publish("2024-06-01", 63);
  registry_->SetCurrent("ct", "2024-06-01");
  EXPECT_EQ(
      RunCommand("curl -s -X POST -H 'Authorization: Bearer tok' " + server.url() + "/admin/reload")
          .output,
      "{\"reloaded\":[\"ct\"],\"failed\":[]}");
  ExpectServing(server, load, "2024-06-01", v3);

  // Rollback + reload goes back.
  EXPECT_EQ(registry_->Rollback("ct"), "2024-05-31");
  kill(server.pid(), SIGHUP);
  ExpectServing(server, load, "2024-05-31", v2);

  // A version whose model file is corrupt: the reload fails and says so, the old one serves.
  Publish("2024-06-02", 0, "not a model");
  registry_->SetCurrent("ct", "2024-06-02");
  std::string answer =
      RunCommand("curl -s -X POST -H 'Authorization: Bearer tok' " + server.url() + "/admin/reload")
          .output;
  EXPECT_THAT(answer, HasSubstr("{\"reloaded\":[],\"failed\":[\"ct: version 2024-06-02: "));
  kill(server.pid(), SIGHUP);
  EXPECT_TRUE(WaitFor([&] {
    return server.log().find("serve: SIGHUP: reloading models\n") != std::string::npos &&
           Get(server, "/metrics").find("ipinsights_model_load_failures_total{model=\"ct\"} 2\n") !=
               std::string::npos;
  })) << Get(server, "/metrics");
  EXPECT_THAT(ExecutionParameters(server), HasSubstr(Versions("2024-05-31")));
  std::string metrics = Get(server, "/metrics");
  EXPECT_THAT(metrics, HasSubstr(InfoMetric("2024-05-31")));
  EXPECT_THAT(metrics, HasSubstr("ipinsights_model_last_load_failed{model=\"ct\"} 1\n"));
  EXPECT_EQ(load.last(), v2);

  load.Stop();
  EXPECT_EQ(load.failed_, 0);
  EXPECT_GT(load.ok_, 100);
  std::string log = server.log();
  EXPECT_THAT(log, HasSubstr("serve: reloaded model ct (version 2024-05-31)"));
  EXPECT_THAT(log, HasSubstr("serve: reloaded model ct (version 2024-06-01)"));
  EXPECT_THAT(log, HasSubstr("reload failed, the previous model keeps serving: ct: version "
                             "2024-06-02: "));
  EXPECT_EQ(server.Stop(), 0);
}

TEST_P(RegistryServeTest, PollRegistrySwitchesToTheNewCurrentVersion) {
  std::string v1 = Publish("v1", 71);
  registry_->SetCurrent("ct", "v1");
  ServerProcess server;
  ASSERT_TRUE(StartServer(&server, {"--poll-registry", "0.2"})) << server.log();
  Load load(server.port(), 3);
  ExpectServing(server, load, "v1", v1);

  std::string v2 = Publish("v2", 72);
  registry_->SetCurrent("ct", "v2");
  ExpectServing(server, load, "v2", v2);  // no signal, no admin call

  // A corrupt version is tried once, reported, and the served one stays.
  Publish("v3", 0, "not a model");
  registry_->SetCurrent("ct", "v3");
  EXPECT_TRUE(WaitFor([&] {
    return server.log().find("reload failed, the previous model keeps serving: ct: version v3: ") !=
           std::string::npos;
  })) << server.log();
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // three more polls
  std::string metrics = Get(server, "/metrics");
  EXPECT_THAT(metrics, HasSubstr("ipinsights_model_load_failures_total{model=\"ct\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr(InfoMetric("v2")));
  EXPECT_THAT(metrics, HasSubstr("ipinsights_registry_poll_errors_total{model=\"ct\"} 0\n"));

  // Rolled back to v2 (served already: nothing to do), then forward to a good v4.
  EXPECT_EQ(registry_->Rollback("ct"), "v2");
  std::string v4 = Publish("v4", 74);
  registry_->SetCurrent("ct", "v4");
  ExpectServing(server, load, "v4", v4);

  load.Stop();
  EXPECT_EQ(load.failed_, 0);
  EXPECT_GT(load.ok_, 100);
  EXPECT_THAT(server.log(), HasSubstr("serve: reloaded model ct (version v2)"));
  EXPECT_EQ(server.Stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryServeTest,
                         ::testing::Values(Backend::kLocal, Backend::kS3),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kLocal ? "Local" : "S3";
                         });

TEST(RegistryServe, PollRegistryWithoutARegistryModelIsAUsageError) {
  std::string file = TempDir() + "/plain.ipinsights";
  SmallModel(81)->Save(file);
  CommandResult result = RunCommand(std::string(IPINSIGHTS_BINARY) + " serve --model " + file +
                                    " --port 0 --poll-registry 5 2>&1");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.output, HasSubstr("--poll-registry needs a registry model"));
}

TEST(IsRegistryModelLocation, AFolderWithCurrentIsARegistryModelAndAFileIsNot) {
  std::string root = TempDir() + "/detect";
  std::filesystem::create_directories(root + "/ct");
  WriteFile(root + "/ct/current", "{\"version\": \"v1\"}");
  EXPECT_TRUE(IsRegistryModelLocation(root + "/ct"));
  EXPECT_TRUE(IsRegistryModelLocation(root + "/ct/"));
  // A model file, with or without the usual suffix, and a folder without `current`.
  WriteFile(root + "/model", "bytes");
  EXPECT_FALSE(IsRegistryModelLocation(root + "/model"));
  EXPECT_FALSE(IsRegistryModelLocation(root + "/missing.ipinsights"));
  std::filesystem::create_directories(root + "/odd.ipinsights");
  WriteFile(root + "/odd.ipinsights/current", "{\"version\": \"v1\"}");
  EXPECT_FALSE(IsRegistryModelLocation(root + "/odd.ipinsights"));
  std::filesystem::create_directories(root + "/empty");
  EXPECT_FALSE(IsRegistryModelLocation(root + "/empty"));
}

TEST(RegistryServe, PlainModelFilesHaveNoVersionsInExecutionParameters) {
  std::string file = TempDir() + "/plain2.ipinsights";
  SmallModel(82)->Save(file);
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--model", file, "--threads", "1"}, TempDir() + "/plain2.log"));
  EXPECT_EQ(RunCommand("curl -s " + server.url() + "/execution-parameters").output,
            "{\"MaxConcurrentTransforms\":4,\"BatchStrategy\":\"MULTI_RECORD\","
            "\"MaxPayloadInMB\":6}");
  EXPECT_THAT(RunCommand("curl -s " + server.url() + "/metrics").output,
              HasSubstr("ipinsights_model_info{model=\"plain2\",version=\"\"} 1\n"));
  EXPECT_THAT(RunCommand("curl -s " + server.url() + "/metrics").output,
              Not(HasSubstr("ipinsights_registry_poll_errors_total")));
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace ipinsights
