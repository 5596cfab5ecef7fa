// Runs the real `ipinsights prepare` binary in a temporary folder.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

#include "../testing/command.h"
#include "../testing/sanitized.h"
#include "../testing/scratch_test.h"
#include "log_test_util.h"

namespace ipinsights {
namespace {

namespace fs = std::filesystem;

using testing::CommandResult;
using testing::ReadFileBytes;

class PrepareCliTest : public testing::ScratchTest {
 protected:
  // Runs `ipinsights prepare <args>` in dir_, with optional stdin text.
  CommandResult Prepare(const std::string& args, const std::string& stdin_text = "",
                        const std::string& shell_prefix = "") {
    return testing::RunIpinsights(dir_, "prepare " + args, stdin_text, shell_prefix);
  }

  // A CloudTrail day file in the AWS layout.
  void CloudTrailDay(const std::string& day, int records, bool gzip = true) {
    std::string text = "{\"Records\":[";
    for (int r = 0; r < records; ++r) {
      if (r) text += ",";
      text += testing::IamUserRecord("U" + std::to_string(r % 7),
                                     "198.51.100." + std::to_string(r % 200), day + "T10:00:00Z");
    }
    text += "]}";
    std::string ymd = day.substr(0, 4) + "/" + day.substr(5, 2) + "/" + day.substr(8, 2);
    Write("logs/AWSLogs/111122223333/CloudTrail/us-east-1/" + ymd +
              "/111122223333_CloudTrail_us-east-1_" + day.substr(0, 4) + day.substr(5, 2) +
              day.substr(8, 2) + "T1000Z_abcdefghijklmnop.json.gz",
          gzip ? testing::Gzip(text) : text);
  }
};

std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

// Starts `prepare` reading a stdin that never ends, waits for its temp output file, sends
// `sig`, and returns the wait status.
int KillPrepareMidRun(const fs::path& dir, int sig) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  const std::vector<std::string> before = Entries(dir);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[0], 0);
    ::close(fds[0]);
    ::close(fds[1]);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    std::string binary = testing::IpinsightsBinary();
    ::execl(binary.c_str(), binary.c_str(), "prepare", "cloudtrail", "--input", "-", "--output",
            "out.csv", "--quiet", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[0]);
  // Half a record: prepare is inside its read loop, its output temp file open.
  std::string half = testing::IamUserRecord("A1", "192.0.2.1") + "\n{\"eventVersion\":";
  if (::write(fds[1], half.data(), half.size()) < 0) ADD_FAILURE() << "write";
  for (int i = 0; i < 500 && Entries(dir).size() == before.size(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(Entries(dir).size(), before.size()) << "no temp file appeared";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(fds[1]);
  return status;
}

int JsonInt(const std::string& json, const std::string& key) {
  size_t at = json.find("\"" + key + "\": ");
  if (at == std::string::npos) return -1;
  return std::atoi(json.c_str() + at + key.size() + 4);
}

TEST_F(PrepareCliTest, SigtermLeavesNoTempFile) {
  const std::vector<std::string> before = Entries(dir_);
  int status = KillPrepareMidRun(dir_, SIGTERM);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_EQ(Entries(dir_), before);
}

TEST_F(PrepareCliTest, SigintLeavesNoTempFile) {
  const std::vector<std::string> before = Entries(dir_);
  int status = KillPrepareMidRun(dir_, SIGINT);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_EQ(Entries(dir_), before);
}

// A thread that cannot start ends in std::terminate (abort): the temp file still goes.
TEST_F(PrepareCliTest, AbortLeavesNoTempFile) {
  if (testing::kSanitized)
    GTEST_SKIP() << "sanitizer builds reserve more address space than the limit below";
  for (int i = 0; i < 200; ++i) Write("logs/f" + std::to_string(i) + ".json", "{\"Records\":[]}\n");
  // 200 threads of 8 MB stacks do not fit in 400 MB of address space.
  CommandResult run = Prepare("cloudtrail --input logs --output out.csv --threads 200 --quiet", "",
                              "ulimit -v 400000; ");
  EXPECT_NE(run.exit_code, 0) << run.err;
  for (const std::string& name : Entries(dir_)) {
    EXPECT_EQ(name.find("out.csv"), std::string::npos) << name << ": " << run.err;
  }
}

TEST_F(PrepareCliTest, OutputInsideTheInputFolderIsNotReadBack) {
  Write("own/logs/a.json", testing::IamUserRecord("A1", "192.0.2.1") + "\n");
  CommandResult first = Prepare("cloudtrail --input own/logs --output own/logs/train.csv --json");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  // The earlier output, spelled another way, is skipped rather than read as a log.
  CommandResult second =
      Prepare("cloudtrail --input own/logs --output ./own/logs/train.csv --json");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(JsonInt(second.out, "files"), 1) << second.out;
  EXPECT_EQ(JsonInt(second.out, "malformed"), 0) << second.err;
  EXPECT_EQ(ReadFileBytes(dir_ / "own/logs/train.csv"), "A1,192.0.2.1\n");
}

TEST_F(PrepareCliTest, OutputThatIsAnInputFileIsRefused) {
  Write("own/a.json", testing::IamUserRecord("A1", "192.0.2.1") + "\n");
  const std::string log = ReadFileBytes(dir_ / "own/a.json");
  CommandResult run = Prepare("cloudtrail --input own/a.json --output ./own/../own/a.json");
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("own/a.json"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("is both an input and an output"), std::string::npos) << run.err;
  EXPECT_EQ(ReadFileBytes(dir_ / "own/a.json"), log);
  CommandResult validation = Prepare(
      "cloudtrail --input own/a.json --output t.csv --validation-fraction 0.5 "
      "--validation-output ./own/a.json");
  EXPECT_EQ(validation.exit_code, 2) << validation.err;
  EXPECT_EQ(ReadFileBytes(dir_ / "own/a.json"), log);
}

// The review's row 65: a changed byte inside an entity, in stored blocks, so only the
// member's CRC tells.
TEST_F(PrepareCliTest, RowsOfAGzipMemberWithABadCrcAreDropped) {
  CloudTrailDay("2024-05-01", 2);
  std::string bytes = testing::Gzip(testing::IamUserRecord("AIDAUSER1", "10.0.0.1") + "\n" +
                                        testing::IamUserRecord("AIDAUSER2", "10.0.0.2") + "\n",
                                    /*level=*/0);
  size_t at = bytes.find("AIDAUSER1");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 4] = 'X';
  Write("logs/corrupt.json.gz", bytes);
  CommandResult run = Prepare("cloudtrail --input logs --output out.csv --json");
  std::string csv = ReadFileBytes(dir_ / "out.csv");
  EXPECT_EQ(csv.find("AIDAXSER1"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("AIDAUSER2"), std::string::npos) << csv;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 2) << csv;  // the good file's rows
  EXPECT_EQ(JsonInt(run.out, "pairs_written"), 2) << run.out;
  EXPECT_NE(run.err.find("logs/corrupt.json.gz: corrupt gzip data"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("compressed byte"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("2 rows dropped"), std::string::npos) << run.err;

  CommandResult keep = Prepare("cloudtrail --input logs --output keep.csv --keep-corrupt --json");
  ASSERT_EQ(keep.exit_code, 0) << keep.err;
  std::string kept = ReadFileBytes(dir_ / "keep.csv");
  EXPECT_NE(kept.find("AIDAXSER1,10.0.0.1"), std::string::npos) << kept;
  EXPECT_NE(kept.find("AIDAUSER2,10.0.0.2"), std::string::npos) << kept;
  EXPECT_NE(keep.err.find("logs/corrupt.json.gz: corrupt gzip data"), std::string::npos)
      << keep.err;
}

TEST_F(PrepareCliTest, ATruncatedGzipKeepsWhatDecoded) {
  std::string text;
  for (int i = 0; i < 200; ++i) {
    text += testing::IamUserRecord("AIDA" + std::to_string(i), "10.0.0.1") + "\n";
  }
  std::string bytes = testing::Gzip(text, /*level=*/0);
  Write("logs/cut.json.gz", bytes.substr(0, bytes.size() / 2));
  CommandResult run = Prepare("cloudtrail --input logs --output out.csv --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_GT(JsonInt(run.out, "pairs_written"), 50) << run.out;
  EXPECT_NE(run.err.find("truncated gzip data"), std::string::npos) << run.err;
}

TEST_F(PrepareCliTest, WarnsAboutAnImplausibleCompressionRatio) {
  std::string text(24 << 20, ' ');
  text += testing::IamUserRecord("A1", "192.0.2.1") + "\n";
  Write("logs/bomb.json.gz", testing::Gzip(text));
  CloudTrailDay("2024-05-01", 2);
  CommandResult run = Prepare("cloudtrail --input logs --output out.csv --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(JsonInt(run.out, "pairs_written"), 3) << run.out;
  EXPECT_NE(run.err.find("logs/bomb.json.gz: decompresses to"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("CloudTrail_us-east-1_20240501"), std::string::npos) << run.err;
}

TEST_F(PrepareCliTest, MaxDecompressedGbCapsAnObject) {
  std::string text = testing::IamUserRecord("A1", "192.0.2.1") + "\n";
  text += std::string(24 << 20, ' ');
  text += testing::IamUserRecord("A2", "192.0.2.2") + "\n";
  Write("logs/bomb.json.gz", testing::Gzip(text));
  CommandResult run =
      Prepare("cloudtrail --input logs --output out.csv --max-decompressed-gb 0.01 --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(ReadFileBytes(dir_ / "out.csv"), "A1,192.0.2.1\n");
  EXPECT_NE(run.err.find("logs/bomb.json.gz: more than 0.01 GB decompressed"), std::string::npos)
      << run.err;
  EXPECT_EQ(Prepare("cloudtrail --input logs --output o.csv --max-decompressed-gb 0").exit_code, 2);
}

TEST_F(PrepareCliTest, TrainOutputIsNotReplacedWhenTheValidationOutputFails) {
  CloudTrailDay("2024-05-01", 20);
  Write("t.csv", "old\n");
  fs::create_directories(dir_ / "v.csv");  // the validation file cannot be renamed into place
  CommandResult run = Prepare(
      "cloudtrail --input logs --output t.csv --validation-fraction 0.5 --validation-output v.csv");
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_EQ(ReadFileBytes(dir_ / "t.csv"), "old\n");
  EXPECT_EQ(Entries(dir_ / "v.csv").size(), 0u);
}

TEST_F(PrepareCliTest, WritesPairsAndJsonSummary) {
  CloudTrailDay("2024-05-01", 10);
  Write("logs/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/d.json.gz",
        testing::Gzip("{}"));
  CommandResult run = Prepare("cloudtrail --input logs --output out.csv --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(JsonInt(run.out, "files"), 2);
  EXPECT_EQ(JsonInt(run.out, "records"), 10);
  EXPECT_EQ(JsonInt(run.out, "pairs_written"), 10);
  EXPECT_EQ(JsonInt(run.out, "digest"), 1);
  EXPECT_NE(run.out.find("\"skipped\": {\"aws_service\": 0, \"not_an_ip\": 0, \"ipv6\": 0, "
                         "\"no_entity\": 0, \"malformed\": 0"),
            std::string::npos)
      << run.out;
  std::string csv = ReadFileBytes(dir_ / "out.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "U0,198.51.100.0");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 10);
}

TEST_F(PrepareCliTest, FromAndToPruneTheListingAndFilterRecords) {
  CloudTrailDay("2024-04-30", 3);
  CloudTrailDay("2024-05-01", 4);
  CloudTrailDay("2024-05-02", 5);
  // A file without a date in its key is listed, its records filtered by their own time.
  Write("logs/loose.json", testing::IamUserRecord("L1", "192.0.2.1", "2024-05-03T00:00:00Z") +
                               "\n" +
                               testing::IamUserRecord("L2", "192.0.2.2", "2024-05-02T00:00:00Z"));
  CommandResult run =
      Prepare("cloudtrail --input logs --output out.csv --from 2024-05-01 --to 2024-05-02 --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(JsonInt(run.out, "files"), 3);
  EXPECT_EQ(JsonInt(run.out, "pairs_written"), 4 + 5 + 1);
  EXPECT_EQ(JsonInt(run.out, "out_of_range"), 1);
}

TEST_F(PrepareCliTest, SplitsByFractionDeterministically) {
  CloudTrailDay("2024-05-01", 400);
  CommandResult run = Prepare(
      "cloudtrail --input logs --output t.csv --validation-fraction 0.25 "
      "--validation-output v.csv --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  int train = JsonInt(run.out, "pairs_written");
  int validation = JsonInt(run.out, "validation_pairs_written");
  EXPECT_EQ(train + validation, 400);
  EXPECT_GT(validation, 40);
  EXPECT_LT(validation, 160);
  std::string v1 = ReadFileBytes(dir_ / "v.csv");
  CommandResult again = Prepare(
      "cloudtrail --input logs --output t2.csv --validation-fraction 0.25 "
      "--validation-output v2.csv --threads 1 --quiet");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(v1, ReadFileBytes(dir_ / "v2.csv"));
  EXPECT_EQ(ReadFileBytes(dir_ / "t.csv"), ReadFileBytes(dir_ / "t2.csv"));
}

TEST_F(PrepareCliTest, SplitsAtADate) {
  CloudTrailDay("2024-05-01", 3);
  CloudTrailDay("2024-05-02", 5);
  CommandResult run = Prepare(
      "cloudtrail --input logs --output t.csv --split-at 2024-05-02 "
      "--validation-output v.csv --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(JsonInt(run.out, "pairs_written"), 3);
  EXPECT_EQ(JsonInt(run.out, "validation_pairs_written"), 5);
}

TEST_F(PrepareCliTest, StrictMakesTheFirstMalformedFileFatal) {
  CloudTrailDay("2024-05-01", 3);
  Write("logs/bad.json", "{\"Records\":[{\"a\":1}");
  CommandResult lenient = Prepare("cloudtrail --input logs --output out.csv");
  EXPECT_EQ(lenient.exit_code, 0) << lenient.err;
  EXPECT_NE(lenient.err.find("logs/bad.json: byte 19: malformed JSON"), std::string::npos)
      << lenient.err;
  CommandResult strict = Prepare("cloudtrail --input logs --output strict.csv --strict");
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_NE(strict.err.find("logs/bad.json: byte 19: malformed JSON"), std::string::npos)
      << strict.err;
  EXPECT_FALSE(fs::exists(dir_ / "strict.csv"));
}

TEST_F(PrepareCliTest, ReadsStdinAndWritesStdout) {
  std::string text = testing::IamUserRecord("A1", "192.0.2.1") + "\n" +
                     testing::IamUserRecord("A,2", "192.0.2.2") + "\n";
  CommandResult run = Prepare("cloudtrail --input - --output - --quiet", testing::Gzip(text));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "A1,192.0.2.1\n\"A,2\",192.0.2.2\n");
  EXPECT_EQ(run.err, "");
}

TEST_F(PrepareCliTest, OutputIsTheSameWithOneOrTwoThreads) {
  for (int d = 1; d <= 9; ++d) CloudTrailDay("2024-05-0" + std::to_string(d), 50 + 30 * d, d % 2);
  ASSERT_EQ(Prepare("cloudtrail --input logs --output one.csv --threads 1 --quiet").exit_code, 0);
  ASSERT_EQ(Prepare("cloudtrail --input logs --output two.csv --threads 2 --quiet").exit_code, 0);
  std::string one = ReadFileBytes(dir_ / "one.csv");
  EXPECT_FALSE(one.empty());
  EXPECT_EQ(one, ReadFileBytes(dir_ / "two.csv"));
}

TEST_F(PrepareCliTest, PortableJsonKernelGivesTheSameOutput) {
  for (int d = 1; d <= 3; ++d) CloudTrailDay("2024-05-0" + std::to_string(d), 40 * d, d % 2);
  Write("logs/waf-like.json", testing::IamUserRecord("X", "192.0.2.1") + "\n{\"broken\": }\n");
  CommandResult fast = Prepare("cloudtrail --input logs --output fast.csv --json");
  ASSERT_EQ(fast.exit_code, 0) << fast.err;
  CommandResult portable = Prepare("cloudtrail --input logs --output portable.csv --json", "",
                                   "IPINSIGHTS_JSON_KERNEL=fallback ");
  ASSERT_EQ(portable.exit_code, 0) << portable.err;
  std::string summary = portable.out;
  EXPECT_NE(summary.find("\"json_kernel\": \"fallback\""), std::string::npos) << summary;
  EXPECT_EQ(ReadFileBytes(dir_ / "fast.csv"), ReadFileBytes(dir_ / "portable.csv"));
  EXPECT_EQ(JsonInt(summary, "malformed"), 1);
  EXPECT_EQ(JsonInt(summary, "records"), JsonInt(fast.out, "records"));
}

TEST_F(PrepareCliTest, WafEntitiesAndIpv4Only) {
  std::string text =
      testing::WafRecord("192.0.2.1", R"([{"name":"user-agent","value":"curl/8.1, x"}])") + "\n" +
      testing::WafRecord("2001:db8::1", R"([{"name":"User-Agent","value":"ua"}])") + "\n";
  Write("waf/2024/05/01/13/stream-1-2024-05-01-13-00-00-abc", text);
  CommandResult run = Prepare("waf --input waf --output out.csv --ipv4-only --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(ReadFileBytes(dir_ / "out.csv"), "curl/81 x,192.0.2.1\n");
  EXPECT_EQ(JsonInt(run.out, "ipv6"), 1);
}

TEST_F(PrepareCliTest, AnEmptyFolderGivesAnEmptyTrainingSet) {
  fs::create_directories(dir_ / "empty");
  CommandResult refused = Prepare("waf --input empty --output out.csv --json");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("no log files under empty"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(dir_ / "out.csv"));
  CommandResult run = Prepare("waf --input empty --output out.csv --json --allow-empty");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(JsonInt(run.out, "files"), 0);
  EXPECT_EQ(JsonInt(run.out, "pairs_written"), 0);
  EXPECT_TRUE(fs::exists(dir_ / "out.csv"));
  EXPECT_EQ(ReadFileBytes(dir_ / "out.csv"), "");
}

TEST_F(PrepareCliTest, ANonJsonFileIsOneProblemNotOnePerLine) {
  CloudTrailDay("2024-05-01", 2);
  Write("logs/labels.csv", "entity,ip,label\na,1.2.3.4,0\nb,1.2.3.5,1\n");
  CommandResult run = Prepare("cloudtrail --input logs --output out.csv --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(JsonInt(run.out, "malformed"), 1);
  EXPECT_EQ(JsonInt(run.out, "pairs_written"), 2);
  EXPECT_NE(run.err.find("logs/labels.csv: byte 0: malformed JSON (not JSON log data"),
            std::string::npos)
      << run.err;
}

TEST_F(PrepareCliTest, UsageErrorsExitWithTwo) {
  CloudTrailDay("2024-05-01", 1);
  EXPECT_EQ(Prepare("cloudtrail --input logs --output o.csv --from 2024-13-01").exit_code, 2);
  EXPECT_EQ(Prepare("cloudtrail --input logs --output o.csv --validation-fraction 0.1").exit_code,
            2);
  EXPECT_EQ(Prepare("cloudtrail --input logs --output o.csv --entity user-agent").exit_code, 2);
  EXPECT_EQ(Prepare("vpc --input logs --output o.csv").exit_code, 2);
  EXPECT_EQ(
      Prepare("cloudtrail --input logs --output o.csv --from 2024-05-02 --to 2024-05-01").exit_code,
      2);
  CommandResult missing = Prepare("cloudtrail --input nowhere --output o.csv");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nowhere"), std::string::npos);
}

}  // namespace
}  // namespace ipinsights
