#include "ipinsights/serve/access_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../testing/scratch_test.h"
#include "ipinsights/serve/metrics.h"

namespace ipinsights {
namespace {

AccessLogEntry Entry(std::string_view target) {
  AccessLogEntry entry;
  entry.remote = "127.0.0.1:5000";
  entry.method = "GET";
  entry.target = target;
  entry.status = 200;
  entry.route = "/ping";
  return entry;
}

// Not `AccessLog`: that is the class under test.
class AccessLogTest : public testing::ScratchTest {};

// A file-size limit cuts a line short and then fails every write (EFBIG), as a full disk
// would. Each failure is counted; once writes succeed again the cut line is ended first, so
// every line after it is whole JSON. Runs in a child process: the limit is per process.
TEST_F(AccessLogTest, ShortAndFailedWritesAreCountedAndTheNextLineStartsFresh) {
  const std::string path = Path("access.log");
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);
    ServerMetrics metrics({"ct"});
    AccessLog log(path, &metrics);
    rlimit limit{};
    getrlimit(RLIMIT_FSIZE, &limit);
    rlimit small = limit;
    small.rlim_cur = 200;
    setrlimit(RLIMIT_FSIZE, &small);
    log.Write(Entry("/ping?1"));  // about 150 bytes: fits
    log.Write(Entry("/ping?2"));  // cut at 200 bytes
    log.Write(Entry("/ping?3"));  // EFBIG
    setrlimit(RLIMIT_FSIZE, &limit);
    log.Write(Entry("/ping?4"));
    std::string text = metrics.Render();
    _exit(text.find("\nipinsights_access_log_errors_total 2\n") != std::string::npos ? 0 : 3);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the error counter is not 2";
  std::stringstream text(Read("access.log"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(text, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u) << text.str();
  EXPECT_THAT(lines[0], ::testing::HasSubstr("/ping?1"));
  EXPECT_EQ(lines[1].size(), 200 - lines[0].size() - 1);  // the cut line
  EXPECT_THAT(lines[2], ::testing::StartsWith("{\"time\":"));
  EXPECT_THAT(lines[2], ::testing::HasSubstr("/ping?4"));
  EXPECT_THAT(lines[2], ::testing::EndsWith("}"));
}

// The error is the answer's message as it is (HttpResponse::error): the log escapes it.
TEST_F(AccessLogTest, ErrorMessageIsWrittenAsAJsonString) {
  const std::string path = Path("access.log");
  {
    AccessLog log(path);
    AccessLogEntry entry = Entry("/endpoints/nope/invocations");
    entry.status = 404;
    entry.error = "no model named \"nope\"\n";
    log.Write(entry);
    log.Write(Entry("/ping"));
  }
  std::stringstream text(Read("access.log"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(text, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 2u) << text.str();
  EXPECT_THAT(lines[0], ::testing::EndsWith(",\"error\":\"no model named \\\"nope\\\"\\n\"}"));
  EXPECT_THAT(lines[1], ::testing::Not(::testing::HasSubstr("\"error\"")));
}

}  // namespace
}  // namespace ipinsights
