// `ipinsights pipeline` end to end, as a user runs it: simulated CloudTrail and WAF logs,
// a config with two jobs, a local (and an S3) registry, and the binary.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "../serve/server_process.h"
#include "../storage/s3_test_support.h"
#include "../testing/command.h"
#include "../testing/scratch_test.h"
#include "ipinsights/registry/registry.h"
#include "ipinsights/storage/aws_credentials.h"
#include "ipinsights/storage/s3_storage.h"

namespace ipinsights {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

// The simulated logs (tests/pipeline/simulate_logs.sh): ctest simulates them once per run
// into IPINSIGHTS_TEST_WORLD (fixture pipeline_world); a binary run by hand, or one that
// finds logs another binary made (an interrupted run's), simulates its own once per process.
const fs::path& SimulatedLogs() {
  static const fs::path logs = [] {
    const fs::path shared = IPINSIGHTS_TEST_WORLD;
    if (testing::SharedWorldReady(shared, IPINSIGHTS_TEST_WORLD_SCRIPT)) return shared;
    const fs::path dir =
        fs::temp_directory_path() / ("ipinsights_pipeline_logs_" + std::to_string(::getpid()));
    testing::CommandResult run =
        testing::RunShell("bash '" IPINSIGHTS_SOURCE_DIR "/tests/pipeline/simulate_logs.sh' '" +
                          testing::IpinsightsBinary() + "' '" + dir.string() + "' 2>&1");
    EXPECT_EQ(run.exit_code, 0) << run.out;
    return dir;
  }();
  return logs;
}

class LogsCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(
        fs::temp_directory_path() / ("ipinsights_pipeline_logs_" + std::to_string(::getpid())),
        ignored);
  }
};
::testing::Environment* const kLogsCleanup = ::testing::AddGlobalTestEnvironment(new LogsCleanup);

struct ConfigOptions {
  std::string registry = "registry";
  std::string work = "work";
  double min_auc = 0.6;
  int epochs = 3;
  std::string ct_input;   // default: the simulated CloudTrail logs
  std::string ct_extra;   // more keys of the cloudtrail job (indented 4)
  std::string top_extra;  // more top-level keys
  bool waf = true;
};

class PipelineRunTest : public testing::ScratchTest {
 protected:
  std::string WriteConfig(const ConfigOptions& o) {
    const std::string logs = SimulatedLogs().string();
    std::string yaml = o.top_extra + "registry: " + o.registry + "\nwork: " + o.work +
                       "\nthreads: 2\ngate: {min_auc: " + std::to_string(o.min_auc) +
                       ", max_auc_drop: 0.05}\nhyperparameters: {vector_dim: 16, epochs: " +
                       std::to_string(o.epochs) +
                       ", learning_rate: 0.01, mini_batch_size: 500, num_entity_vectors: 1000}\n"
                       "jobs:\n"
                       "  - name: cloudtrail\n"
                       "    source: {kind: cloudtrail, input: " +
                       (o.ct_input.empty() ? logs + "/ct/AWSLogs" : o.ct_input) +
                       "}\n    window: {days: 5}\n" + o.ct_extra;
    if (o.waf) {
      yaml += "  - name: waf\n    source: {kind: waf, input: " + logs +
              "/waf/AWSLogs}\n    window: {days: 5}\n";
    }
    return Write("pipeline.yaml", yaml);
  }

  testing::CommandResult Pipeline(const std::string& args, const std::string& env = "") {
    return testing::RunIpinsights(dir_, "pipeline --config pipeline.yaml --json " + args, "", env);
  }

  static std::string Outcome(const std::string& json, const std::string& job) {
    const size_t at = json.find("\"name\": \"" + job + "\"");
    if (at == std::string::npos) return "(no job " + job + ")";
    const size_t outcome = json.find("\"outcome\": \"", at);
    const size_t start = outcome + 12;
    return json.substr(start, json.find('"', start) - start);
  }

  // How many steps of `job` have `status`.
  static int Steps(const std::string& json, const std::string& job, const std::string& status) {
    const size_t at = json.find("\"name\": \"" + job + "\"");
    const size_t end = json.find("\"name\": \"", at + 1);
    int count = 0;
    for (size_t p = json.find("\"status\": \"" + status + "\"", at); p < end;
         p = json.find("\"status\": \"" + status + "\"", p + 1)) {
      ++count;
    }
    return count;
  }
};

TEST_F(PipelineRunTest, PublishesBothJobsAndASecondRunForTheSameDayPublishesNothing) {
  WriteConfig({});
  testing::CommandResult first = Pipeline("--date 2024-03-08");
  ASSERT_EQ(first.exit_code, 0) << first.err << first.out;
  EXPECT_EQ(Outcome(first.out, "cloudtrail"), "published");
  EXPECT_EQ(Outcome(first.out, "waf"), "published");
  EXPECT_EQ(Steps(first.out, "cloudtrail", "done"), 6);
  for (const char* name : {"cloudtrail", "waf"}) {
    for (const char* file : {"model.ipinsights", "metrics.json", "evaluation.json",
                             "history.ipinsights", "report.html", "summary.json"}) {
      EXPECT_TRUE(fs::exists(dir_ / "registry" / name / "versions/2024-03-07" / file))
          << name << file;
    }
  }
  Registry registry(Path("registry"));
  EXPECT_EQ(registry.Current("cloudtrail"), "2024-03-07");
  const std::string summary = Read("registry/cloudtrail/versions/2024-03-07/summary.json");
  EXPECT_THAT(summary, HasSubstr("\"from\": \"2024-03-03\""));
  EXPECT_THAT(summary, HasSubstr("\"candidate_auc\""));
  const auto published_at =
      fs::last_write_time(dir_ / "registry/cloudtrail/versions/2024-03-07/summary.json");
  const std::string current_before = Read("registry/cloudtrail/current");

  testing::CommandResult again = Pipeline("--date 2024-03-08");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Outcome(again.out, "cloudtrail"), "published");
  EXPECT_EQ(Steps(again.out, "cloudtrail", "done_earlier"), 6);
  EXPECT_EQ(Steps(again.out, "cloudtrail", "done"), 0);
  EXPECT_EQ(fs::last_write_time(dir_ / "registry/cloudtrail/versions/2024-03-07/summary.json"),
            published_at);
  EXPECT_EQ(Read("registry/cloudtrail/current"), current_before);

  // The next day: warm-started from the current model, compared with it, published.
  testing::CommandResult next = Pipeline("--date 2024-03-09 --job cloudtrail");
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_THAT(next.out, HasSubstr("\"warm_start_from\": \"2024-03-07\""));
  EXPECT_THAT(next.out, HasSubstr("\"current_version\": \"2024-03-07\""));
  EXPECT_EQ(Outcome(next.out, "waf"), "(no job waf)");
  EXPECT_EQ(registry.Current("cloudtrail"), "2024-03-08");
  EXPECT_EQ(registry.Versions("cloudtrail"),
            (std::vector<std::string>{"2024-03-07", "2024-03-08"}));

  // The human report (stderr without --json) names every step.
  testing::CommandResult table = testing::RunIpinsights(
      dir_, "pipeline --config pipeline.yaml --date 2024-03-09 --job cloudtrail");
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_THAT(table.err, HasSubstr("cloudtrail: published, version 2024-03-08"));
  EXPECT_THAT(table.err, HasSubstr("warm start from 2024-03-07"));

  // Rollback points current back and says so.
  testing::CommandResult rollback =
      testing::RunIpinsights(dir_, "pipeline --config pipeline.yaml --rollback cloudtrail");
  ASSERT_EQ(rollback.exit_code, 0) << rollback.err;
  EXPECT_THAT(rollback.err, HasSubstr("current is now 2024-03-07 (was 2024-03-08)"));
  EXPECT_EQ(registry.Current("cloudtrail"), "2024-03-07");
  EXPECT_EQ(
      testing::RunIpinsights(dir_, "pipeline --config pipeline.yaml --rollback nope").exit_code, 2);
}

TEST_F(PipelineRunTest, TheGateKeepsTheCurrentModelAndSaysWhy) {
  ConfigOptions options;
  options.min_auc = 0.9999;
  options.waf = false;
  WriteConfig(options);
  testing::CommandResult run = Pipeline("--date 2024-03-08");
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_EQ(Outcome(run.out, "cloudtrail"), "refused");
  EXPECT_THAT(run.out, HasSubstr("below the floor min_auc 0.9999"));
  EXPECT_EQ(Steps(run.out, "cloudtrail", "not_run"), 2);  // publish, notify
  EXPECT_FALSE(fs::exists(dir_ / "registry/cloudtrail/current"));
  EXPECT_TRUE(Registry(Path("registry")).Versions("cloudtrail").empty());
  // Running again does not retrain: the gate decides again on the recorded figures and still
  // refuses; relaxed, it lets the same candidate through.
  testing::CommandResult again = Pipeline("--date 2024-03-08");
  EXPECT_EQ(again.exit_code, 3);
  EXPECT_EQ(Steps(again.out, "cloudtrail", "done_earlier"), 3);
  options.min_auc = 0.6;
  WriteConfig(options);
  testing::CommandResult relaxed = Pipeline("--date 2024-03-08");
  EXPECT_EQ(relaxed.exit_code, 0) << relaxed.out;
  EXPECT_EQ(Steps(relaxed.out, "cloudtrail", "done_earlier"), 3);
  EXPECT_EQ(Steps(relaxed.out, "cloudtrail", "done"), 3);
  EXPECT_EQ(Registry(Path("registry")).Current("cloudtrail"), "2024-03-07");
}

TEST_F(PipelineRunTest, AFailedJobDoesNotStopTheOthersUnlessFailFast) {
  ConfigOptions options;
  options.ct_input = Path("no-such-logs");
  WriteConfig(options);
  testing::CommandResult run = Pipeline("--date 2024-03-08");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(Outcome(run.out, "cloudtrail"), "failed");
  EXPECT_THAT(run.out, HasSubstr("no-such-logs"));
  EXPECT_EQ(Outcome(run.out, "waf"), "published");
  fs::remove_all(dir_ / "registry");
  fs::remove_all(dir_ / "work");
  testing::CommandResult fast = Pipeline("--date 2024-03-08 --fail-fast");
  EXPECT_EQ(fast.exit_code, 1);
  EXPECT_EQ(Outcome(fast.out, "waf"), "not_run");
  EXPECT_FALSE(fs::exists(dir_ / "registry/waf"));
}

TEST_F(PipelineRunTest, AKilledRunResumesAfterItsLastFinishedStep) {
  ConfigOptions options;
  options.epochs = 60;  // long enough to be killed while training
  options.waf = false;
  WriteConfig(options);
  const std::string command = "cd '" + dir_.string() + "' && exec '" + testing::IpinsightsBinary() +
                              "' pipeline --config pipeline.yaml --date 2024-03-08 --quiet";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const fs::path record = dir_ / "work/cloudtrail/runs/2024-03-07/run.json";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (
      std::chrono::steady_clock::now() < deadline &&
      (!fs::exists(record) ||
       Read("work/cloudtrail/runs/2024-03-07/run.json").find("\"prepare\"") == std::string::npos)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // into training
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run ended before it could be killed";
  const std::string killed_record = Read("work/cloudtrail/runs/2024-03-07/run.json");
  EXPECT_THAT(killed_record, HasSubstr("\"prepare\""));
  EXPECT_THAT(killed_record, ::testing::Not(HasSubstr("\"step\": \"train\"")));
  EXPECT_FALSE(fs::exists(dir_ / "registry/cloudtrail/current"));

  testing::CommandResult resumed = Pipeline("--date 2024-03-08");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(Steps(resumed.out, "cloudtrail", "done_earlier"), 1);  // prepare
  EXPECT_EQ(Steps(resumed.out, "cloudtrail", "done"), 5);
  EXPECT_EQ(Registry(Path("registry")).Current("cloudtrail"), "2024-03-07");
}

TEST_F(PipelineRunTest, ServersAreToldBySignalAndAFailedNotifyIsRetriedAlone) {
  ConfigOptions options;
  options.top_extra = "notify: [{pid_file: serve.pid}, {url: \"http://127.0.0.1:" +
                      std::to_string(s3test::FreePort()) +
                      "/admin/reload\", token_env: IPINSIGHTS_ADMIN_TOKEN}]\n";
  WriteConfig(options);
  const std::string env = "IPINSIGHTS_ADMIN_TOKEN=t ";
  // Servers that are not running (no PID file; nothing listening) have nothing to reload:
  // said, not failed.
  testing::CommandResult none = Pipeline("--date 2024-03-08 --job waf", env);
  EXPECT_EQ(none.exit_code, 0) << none.out;
  EXPECT_THAT(none.out, HasSubstr("no PID file, so no server is running"));
  EXPECT_THAT(none.out, HasSubstr("no server is listening"));

  // A stale PID file naming another program: that program is left alone.
  const pid_t other = ::fork();
  ASSERT_GE(other, 0);
  if (other == 0) {
    ::execl("/bin/sleep", "sleep", "60", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Write("serve.pid", std::to_string(other) + "\n");
  testing::CommandResult stale = Pipeline("--date 2024-03-08 --job cloudtrail", env);
  EXPECT_EQ(stale.exit_code, 0) << stale.out;
  EXPECT_THAT(stale.out, HasSubstr("is not an ipinsights server"));
  EXPECT_EQ(::waitpid(other, nullptr, WNOHANG), 0) << "the other program was signalled";
  ::kill(other, SIGKILL);
  ::waitpid(other, nullptr, 0);

  // A PID that is not one (kill(-1) would signal every process) fails the step...
  Write("serve.pid", "4294967295\n");
  testing::CommandResult broken = Pipeline("--date 2024-03-09 --job cloudtrail", env);
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_EQ(Outcome(broken.out, "cloudtrail"), "failed");
  EXPECT_THAT(broken.out, HasSubstr("\\\"4294967295\\\" is not a process ID"));
  // ...after the version is out: servers that poll the registry see it.
  EXPECT_EQ(Registry(Path("registry")).Current("cloudtrail"), "2024-03-08");

  // The next run tells the real server, and does nothing else.
  serve_test::ServerProcess server;
  ASSERT_TRUE(
      server.Start({"--model", "cloudtrail=" + Path("registry/cloudtrail")}, Path("serve.log")))
      << server.log();
  EXPECT_THAT(server.log(), HasSubstr("(version 2024-03-08)"));
  Registry(Path("registry")).Rollback("cloudtrail");  // so the reload has something to switch
  Write("serve.pid", std::to_string(server.pid()) + "\n");
  testing::CommandResult retry = Pipeline("--date 2024-03-09 --job cloudtrail", env);
  EXPECT_EQ(retry.exit_code, 0) << retry.out;
  EXPECT_EQ(Steps(retry.out, "cloudtrail", "done_earlier"), 5);
  EXPECT_EQ(Steps(retry.out, "cloudtrail", "done"), 1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.log().find("reloaded model cloudtrail (version 2024-03-07)") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_THAT(server.log(), HasSubstr("reloaded model cloudtrail (version 2024-03-07)"));
  EXPECT_EQ(server.Stop(), 0);
}

TEST_F(PipelineRunTest, RegistryAndWorkOnS3) {
  if (!s3test::OnPath("moto_server"))
    GTEST_SKIP() << "moto_server is not on PATH (pip install 'moto[server]')";
  auto moto = s3test::StartServer({"moto_server", "-H", "127.0.0.1"}, {}, "-p");
  if (!moto) GTEST_SKIP() << "moto_server did not start";
  const std::string env =
      "AWS_ACCESS_KEY_ID=AKIAIPINSIGHTSTEST01 AWS_SECRET_ACCESS_KEY=secret AWS_REGION=us-east-1 "
      "AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL=" +
      moto->url() + " ";
  int status = 0;
  s3test::RunCommand("curl -sf -X PUT " + moto->url() + "/models", &status);
  ASSERT_EQ(status, 0);
  ConfigOptions options;
  options.registry = "s3://models/registry";
  options.work = "s3://models/work";
  options.waf = false;
  WriteConfig(options);
  testing::CommandResult run = Pipeline("--date 2024-03-08", env);
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_THAT(run.out, HasSubstr("s3://models/registry/cloudtrail/versions/2024-03-07"));
  testing::CommandResult again = Pipeline("--date 2024-03-08", env);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Steps(again.out, "cloudtrail", "done_earlier"), 6);
  S3Config config;
  config.endpoint = moto->url();
  config.region = "us-east-1";
  config.credentials = std::make_shared<StaticCredentialsProvider>(
      AwsCredentials{"AKIAIPINSIGHTSTEST01", "secret", "", std::nullopt, "test keys"});
  S3Storage storage(config);
  std::string current;
  storage.ReadAll("s3://models/registry/cloudtrail/current", &current);
  EXPECT_THAT(current, HasSubstr("\"version\": \"2024-03-07\""));
}

}  // namespace
}  // namespace ipinsights

namespace ipinsights {
namespace {

// The whole loop: a server follows what the pipeline publishes, is told by /admin/reload,
// never fails a request, keeps its model when the gate refuses, and follows a rollback.
TEST_F(PipelineRunTest, AServerFollowsThePipelineWithoutAFailedRequest) {
  ConfigOptions options;
  WriteConfig(options);
  testing::CommandResult first = Pipeline("--date 2024-03-08");
  ASSERT_EQ(first.exit_code, 0) << first.err << first.out;

  Write("admin-token", "s3cr3t-token\n");
  serve_test::ServerProcess server;
  ASSERT_TRUE(server.Start(
      {"--model", "cloudtrail=" + Path("registry/cloudtrail"), "--model",
       "waf=" + Path("registry/waf"), "--admin-token-file", Path("admin-token"), "--threads", "2"},
      Path("serve.log")))
      << server.log();
  auto versions = [&] {
    return serve_test::RunCommand("curl -sf " + server.url() + "/execution-parameters").output;
  };
  EXPECT_THAT(versions(), HasSubstr("\"cloudtrail\":\"2024-03-07\""));

  // The next day's run tells the server, which switches while clients keep sending.
  options.ct_extra =
      "    notify: [{url: \"" + server.url() + "/admin/reload\", token_file: admin-token}]\n";
  WriteConfig(options);
  serve_test::Load load(server.port(), 3);
  testing::CommandResult next = Pipeline("--date 2024-03-09 --job cloudtrail");
  ASSERT_EQ(next.exit_code, 0) << next.err << next.out;
  EXPECT_THAT(next.out, HasSubstr("/admin/reload: HTTP 200"));
  EXPECT_THAT(versions(), HasSubstr("\"cloudtrail\":\"2024-03-08\""));
  EXPECT_THAT(versions(), HasSubstr("\"waf\":\"2024-03-07\""));

  // A candidate the gate refuses changes nothing on the server.
  options.min_auc = 0.9999;
  WriteConfig(options);
  testing::CommandResult refused = Pipeline("--date 2024-03-09 --job waf");
  EXPECT_EQ(refused.exit_code, 3) << refused.out;
  EXPECT_THAT(versions(), HasSubstr("\"waf\":\"2024-03-07\""));

  // A rollback points current back and tells the server.
  testing::CommandResult rollback =
      testing::RunIpinsights(dir_, "pipeline --config pipeline.yaml --rollback cloudtrail");
  ASSERT_EQ(rollback.exit_code, 0) << rollback.err;
  EXPECT_THAT(versions(), HasSubstr("\"cloudtrail\":\"2024-03-07\""));

  load.Stop();
  EXPECT_EQ(load.failed_, 0) << server.log();
  EXPECT_GT(load.ok_, 100);
  const std::string metrics =
      serve_test::RunCommand("curl -sf " + server.url() + "/metrics").output;
  EXPECT_THAT(metrics,
              HasSubstr("ipinsights_model_info{model=\"cloudtrail\",version=\"2024-03-07\"} 1"));
  EXPECT_EQ(server.Stop(), 0) << server.log();
}

}  // namespace
}  // namespace ipinsights

namespace ipinsights {
namespace {

// examples/pipeline/pipeline.yaml as shipped, on logs where its paths expect them.
TEST_F(PipelineRunTest, TheWorkedExampleRunsAsShipped) {
  fs::copy_file(fs::path(IPINSIGHTS_SOURCE_DIR) / "examples/pipeline/pipeline.yaml",
                dir_ / "pipeline.yaml");
  fs::create_directories(dir_ / "logs");
  fs::create_directory_symlink(SimulatedLogs() / "ct", dir_ / "logs/cloudtrail");
  fs::create_directory_symlink(SimulatedLogs() / "waf", dir_ / "logs/waf");
  testing::CommandResult run = Pipeline("--date 2024-03-08");
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_EQ(Outcome(run.out, "cloudtrail"), "published");
  EXPECT_EQ(Outcome(run.out, "waf"), "published");
  EXPECT_EQ(Registry(Path("registry")).Current("waf"), "2024-03-07");
}

}  // namespace
}  // namespace ipinsights

namespace ipinsights {
namespace {

// What a run may not continue from, and the kill points between the registry's writes.
TEST_F(PipelineRunTest, AChangedConfigIsNotContinuedAndAWindowIsPublishedOnce) {
  ConfigOptions options;
  options.waf = false;
  WriteConfig(options);
  ASSERT_EQ(Pipeline("--date 2024-03-08").exit_code, 0);
  options.epochs = 2;
  WriteConfig(options);
  testing::CommandResult changed = Pipeline("--date 2024-03-08");
  EXPECT_EQ(changed.exit_code, 1);
  EXPECT_THAT(changed.out, HasSubstr("the job's config changed since this window's run began"));
  EXPECT_THAT(changed.out, HasSubstr("(hyperparameters.epochs: \\\"3\\\" -> \\\"2\\\")"));

  // Started over, the window trains a different model: the published one stays.
  fs::remove_all(dir_ / "work/cloudtrail/runs/2024-03-07");
  const std::string published = Read("registry/cloudtrail/versions/2024-03-07/model.ipinsights");
  testing::CommandResult again = Pipeline("--date 2024-03-08");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.out, HasSubstr("version 2024-03-07 is already published with another model"));
  EXPECT_EQ(Read("registry/cloudtrail/versions/2024-03-07/model.ipinsights"), published);

  // A changed gate or notify list is fine.
  options.epochs = 3;
  options.min_auc = 0.5;
  WriteConfig(options);
  fs::remove_all(dir_ / "work");
  EXPECT_EQ(Pipeline("--date 2024-03-08").exit_code, 0);  // the same model again: no conflict
}

TEST_F(PipelineRunTest, KilledBetweenPublishingAndRecordingItPublishesOnce) {
  ConfigOptions options;
  options.waf = false;
  WriteConfig(options);
  ASSERT_EQ(Pipeline("--date 2024-03-08").exit_code, 0);
  ASSERT_EQ(Pipeline("--date 2024-03-09").exit_code, 0);
  Registry registry(Path("registry"));
  // As if killed after the version was written, before `current` moved and before run.json
  // recorded it.
  ASSERT_EQ(registry.Rollback("cloudtrail"), "2024-03-07");
  const std::string record = Read("work/cloudtrail/runs/2024-03-08/run.json");
  const size_t publish = record.find(",\n  {\"step\": \"publish\"");
  ASSERT_NE(publish, std::string::npos);
  Write("work/cloudtrail/runs/2024-03-08/run.json", record.substr(0, publish) + "\n]}\n");
  testing::CommandResult resumed = Pipeline("--date 2024-03-09");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out;
  EXPECT_EQ(Steps(resumed.out, "cloudtrail", "done_earlier"), 4);
  EXPECT_EQ(registry.Current("cloudtrail"), "2024-03-08");
  EXPECT_EQ(registry.Versions("cloudtrail"),
            (std::vector<std::string>{"2024-03-07", "2024-03-08"}));
  EXPECT_EQ(registry.ReadCurrent("cloudtrail")->previous, (std::vector<std::string>{"2024-03-07"}));

  // As if killed after `current` moved: nothing changes.
  Write("work/cloudtrail/runs/2024-03-08/run.json", record.substr(0, publish) + "\n]}\n");
  testing::CommandResult again = Pipeline("--date 2024-03-09");
  ASSERT_EQ(again.exit_code, 0) << again.out;
  EXPECT_EQ(registry.ReadCurrent("cloudtrail")->previous, (std::vector<std::string>{"2024-03-07"}));
}

TEST_F(PipelineRunTest, ABackfillPublishesItsVersionAndLeavesCurrent) {
  ConfigOptions options;
  options.waf = false;
  WriteConfig(options);
  ASSERT_EQ(Pipeline("--date 2024-03-09").exit_code, 0);  // current 2024-03-08
  // The window ending 2024-03-07: the 2024-03-08 model trained on that day, so it is neither
  // the baseline nor the warm start; nothing older exists.
  testing::CommandResult backfill = Pipeline("--date 2024-03-08");
  ASSERT_EQ(backfill.exit_code, 0) << backfill.out;
  EXPECT_THAT(backfill.out, HasSubstr("\"warm_start_from\": null"));
  EXPECT_THAT(backfill.out, HasSubstr("\"current_version\": null"));
  EXPECT_THAT(backfill.out, HasSubstr("\"previous\": null"));
  Registry registry(Path("registry"));
  EXPECT_EQ(registry.Current("cloudtrail"), "2024-03-08");
  EXPECT_EQ(registry.Versions("cloudtrail"),
            (std::vector<std::string>{"2024-03-07", "2024-03-08"}));
}

TEST_F(PipelineRunTest, OneRunOfAWindowAtATime) {
  ConfigOptions options;
  options.waf = false;
  WriteConfig(options);
  fs::create_directories(dir_ / "work/cloudtrail/runs/2024-03-07");
  const int fd =
      ::open(Path("work/cloudtrail/runs/2024-03-07/run.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  testing::CommandResult busy = Pipeline("--date 2024-03-08");
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_THAT(busy.out, HasSubstr("another pipeline run of this job and window is in progress"));
  ::close(fd);
  EXPECT_EQ(Pipeline("--date 2024-03-08").exit_code, 0);
  EXPECT_EQ(testing::RunIpinsights(
                dir_, "pipeline --config pipeline.yaml --rollback cloudtrail --date 2024-03-08")
                .exit_code,
            2);
}

}  // namespace
}  // namespace ipinsights
