// `ipinsights demo` end to end on a tiny population (the real simulate, prepare, train and
// evaluate), through the real binary and in this process (RunCli).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../testing/command.h"
#include "../testing/scratch_test.h"
#include "ipinsights/cli/commands.h"

namespace ipinsights {
namespace {

namespace fs = std::filesystem;

class Demo : public testing::ScratchTest {
 protected:
  int Ipinsights(const std::string& args, std::string* out, std::string* err) {
    testing::CommandResult run = testing::RunIpinsights(dir_, args);
    *out = run.out;
    *err = run.err;
    return run.exit_code;
  }
};

constexpr const char* kTiny =
    "demo --dir work --users 50 --days 3 --attacks 50 --vector-dim 8 --epochs 1 --threads 2";

TEST_F(Demo, RunsEveryStepAndPrintsFiguresAndNextCommands) {
  // An earlier demo's folder (it has the marker) is replaced.
  fs::create_directories(dir_ / "work/cloudtrail");
  std::ofstream(dir_ / "work/.ipinsights-demo") << "made by `ipinsights demo`\n";
  std::ofstream(dir_ / "work/cloudtrail/stale.txt") << "from an earlier run";
  std::string out, err;
  ASSERT_EQ(Ipinsights(kTiny, &out, &err), 0) << err;
  EXPECT_FALSE(fs::exists(dir_ / "work/cloudtrail/stale.txt"));
  EXPECT_TRUE(fs::exists(dir_ / "work/.ipinsights-demo"));
  for (const char* kind : {"cloudtrail", "waf"}) {
    EXPECT_TRUE(fs::exists(dir_ / "work" / kind / "model/model.ipinsights")) << kind;
    EXPECT_TRUE(fs::exists(dir_ / "work" / kind / "logs/labels.csv")) << kind;
    EXPECT_GT(fs::file_size(dir_ / "work" / kind / "train.csv"), 0u) << kind;
    EXPECT_NE(out.find(std::string("== ") + kind + " =="), std::string::npos) << out;
  }
  EXPECT_NE(out.find("auc"), std::string::npos) << out;
  EXPECT_NE(out.find("recall at 3% FPR"), std::string::npos) << out;
  const std::string ct_model = (dir_ / "work/cloudtrail/model/model.ipinsights").string();
  EXPECT_NE(out.find("ipinsights serve --model cloudtrail=" + ct_model), std::string::npos) << out;
  EXPECT_NE(out.find("ipinsights score --model " + ct_model), std::string::npos) << out;
}

TEST_F(Demo, RefusesAFolderItDidNotMake) {
  std::string out, err;
  fs::create_directories(dir_ / "precious");
  std::ofstream(dir_ / "precious/notes.txt") << "keep me";
  EXPECT_EQ(Ipinsights("demo --dir precious --users 50 --days 3", &out, &err), 2);
  EXPECT_NE(err.find("was not made by `ipinsights demo`"), std::string::npos) << err;
  EXPECT_TRUE(fs::exists(dir_ / "precious/notes.txt"));
}

// The demo calls the jobs in-process: run through RunCli inside this test binary, which is
// not `ipinsights` (a demo that spawned /proc/self/exe with "simulate ..." would fail here).
TEST_F(Demo, RunsInThisProcessThroughTheLibraryJobs) {
  const std::string work = (dir_ / "inproc").string();
  std::vector<std::string> args = {"ipinsights", "demo", "--dir",     work, "--users",      "50",
                                   "--days",     "3",    "--attacks", "50", "--vector-dim", "8",
                                   "--epochs",   "1",    "--threads", "2"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  ::testing::internal::CaptureStdout();
  const int code = RunCli(static_cast<int>(argv.size()), argv.data());
  const std::string out = ::testing::internal::GetCapturedStdout();
  ASSERT_EQ(code, 0) << out;
  for (const char* kind : {"cloudtrail", "waf"}) {
    EXPECT_TRUE(fs::exists(fs::path(work) / kind / "model/model.ipinsights")) << kind;
    EXPECT_GT(fs::file_size(fs::path(work) / kind / "train.csv"), 0u) << kind;
    EXPECT_GT(fs::file_size(fs::path(work) / kind / "validation.csv"), 0u) << kind;
    EXPECT_NE(out.find(std::string("== ") + kind + " =="), std::string::npos) << out;
  }
  EXPECT_NE(out.find("recall at 3% FPR"), std::string::npos) << out;
}

}  // namespace
}  // namespace ipinsights
