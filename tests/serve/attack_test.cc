// Resource-exhaustion attacks on the real `ipinsights serve` binary, from this process over
// loopback (review reliability-2026-12: H1, H2, M2, M3, L3). Each test drives one attack,
// bounded in bytes and time, while a monitor samples the server's RSS (/proc/PID/status) and
// the answer time of a normal client's GET /ping every 50 ms. Bounds are loose on purpose
// (shared 2-core CI machines, ASan and TSan builds): they separate "bounded" from "grows with
// the attack", not fast from slow. The figures are printed ("[attack] ...") and recorded as
// test properties.
//
// IPINSIGHTS_ATTACK_BINARY=/path/to/older/ipinsights runs the same attacks against another
// build (flags it does not know are left out), to measure it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/beast/http/error.hpp>
#include <cstring>
#include <mutex>
#include <thread>

#include "../testing/sanitized.h"
#include "../testing/temp_dir.h"
#include "ipinsights/serve/http_request_parser.h"
#include "serve_test_util.h"
#include "server_process.h"

namespace ipinsights {
namespace {

using namespace serve_test;
using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using ipinsights::testing::kSanitized;

// How much the server's RSS may grow during an attack. Sanitizers count shadow memory in RSS
// (TSan: several times the application's) and ASan keeps freed blocks in quarantine, hence
// more room there; the unfixed server grew past 280 MB in release builds.
constexpr long kRssGrowthCapKb = (kSanitized ? 600 : 200) * 1024;
// The slowest answer to /ping allowed during an attack.
constexpr double kPingCapMs = kSanitized ? 1500 : 500;

using ipinsights::testing::TempDir;

std::string OtherBinary() {
  const char* binary = std::getenv("IPINSIGHTS_ATTACK_BINARY");
  return binary != nullptr ? binary : "";
}

// Leaves out the flags (with their values) that an older build measured through
// IPINSIGHTS_ATTACK_BINARY does not have.
std::vector<std::string> Args(std::vector<std::string> args) {
  if (OtherBinary().empty()) return args;
  std::vector<std::string> kept;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--body-budget-mb" || args[i] == "--response-budget-mb") {
      ++i;
      continue;
    }
    kept.push_back(args[i]);
  }
  return kept;
}

long RssKb(pid_t pid) {
  std::string status = ReadFile("/proc/" + std::to_string(pid) + "/status");
  size_t at = status.find("VmRSS:");
  return at == std::string::npos ? -1 : std::atol(status.c_str() + at + 6);
}

// User plus system CPU time of the process so far.
double CpuSeconds(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

size_t OpenFiles(pid_t pid) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    ++n;
  return n;
}

// A loopback connection made within `timeout_ms`, or -1.
int ConnectWithin(int port, int timeout_ms) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    pollfd p{fd, POLLOUT, 0};
    int error = 0;
    socklen_t length = sizeof(error);
    if (errno != EINPROGRESS || poll(&p, 1, timeout_ms) != 1 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
      close(fd);
      return -1;
    }
  }
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

// Sends all of `data` unless the socket takes nothing for `timeout_ms`, the peer has
// answered (readable), or the send fails. Returns the bytes sent.
size_t SendUntilAnswered(int fd, std::string_view data, int timeout_ms) {
  size_t sent = 0;
  while (sent < data.size()) {
    pollfd p{fd, POLLIN | POLLOUT, 0};
    if (poll(&p, 1, timeout_ms) <= 0 || (p.revents & (POLLIN | POLLERR | POLLHUP))) break;
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  return sent;
}

// The status line of the answer that arrives within `timeout_ms`, or "". Reads byte by byte
// so that the rest of the answer stays in the socket (unread, for the slow-reader attack).
std::string ReadStatusLine(int fd, int timeout_ms) {
  std::string out;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) {
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    pollfd p{fd, POLLIN, 0};
    char c;
    if (left <= 0 || poll(&p, 1, left) <= 0 || recv(fd, &c, 1, 0) != 1 || out.size() > 200)
      return "";
    out += c;
  }
  return out.substr(0, out.size() - 2);
}

// One GET /ping on a new connection: milliseconds to the whole 200 answer, or -1.
double PingMs(int port, int timeout_ms = 3000) {
  auto start = Clock::now();
  int fd = ConnectWithin(port, timeout_ms);
  if (fd < 0) return -1;
  std::string pending;
  bool ok =
      SendAll(fd, "GET /ping HTTP/1.1\r\nHost: attack-test\r\n\r\n") &&
      ReadResponse(fd, &pending, timeout_ms).find("{\"status\":\"healthy\"}") != std::string::npos;
  close(fd);
  if (!ok) return -1;
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Samples the server's RSS and a normal client's /ping every 50 ms while an attack runs.
class Monitor {
 public:
  explicit Monitor(const ServerProcess& server) : pid_(server.pid()), port_(server.port()) {
    baseline_kb_ = peak_kb_ = RssKb(pid_);
    thread_ = std::thread([this] {
      while (!stop_) {
        double ms = PingMs(port_);
        {
          std::lock_guard lock(mutex_);
          if (ms < 0) {
            ++ping_failures_;
          } else {
            ++pings_;
            max_ping_ms_ = std::max(max_ping_ms_, ms);
          }
          peak_kb_ = std::max(peak_kb_, RssKb(pid_));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  }
  ~Monitor() { Stop(); }

  // Stops sampling (after at least three samples, and one last RSS sample); idempotent.
  void Stop() {
    auto give_up = Clock::now() + std::chrono::seconds(10);
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (pings_ + ping_failures_ >= 3 || !thread_.joinable()) break;
      }
      if (Clock::now() > give_up) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    peak_kb_ = std::max(peak_kb_, RssKb(pid_));
  }

  // Prints and records the figures, then checks them against the loose bounds.
  void Check(const std::string& attack) {
    Stop();
    long growth_kb = peak_kb_ - baseline_kb_;
    std::printf(
        "[attack] %s: RSS %.1f MB -> peak %.1f MB (+%.1f MB); /ping during the attack: %d "
        "answered, "
        "%d failed, slowest %.1f ms\n",
        attack.c_str(), baseline_kb_ / 1024.0, peak_kb_ / 1024.0, growth_kb / 1024.0, pings_,
        ping_failures_, max_ping_ms_);
    std::fflush(stdout);
    ::testing::Test::RecordProperty("rss_baseline_kb", std::to_string(baseline_kb_));
    ::testing::Test::RecordProperty("rss_peak_kb", std::to_string(peak_kb_));
    ::testing::Test::RecordProperty("ping_max_ms", std::to_string(max_ping_ms_));
    ::testing::Test::RecordProperty("ping_failures", std::to_string(ping_failures_));
    EXPECT_LT(growth_kb, kRssGrowthCapKb) << attack << ": the server's memory grew with the attack";
    EXPECT_GT(pings_, 0) << attack << ": no /ping was answered during the attack";
    EXPECT_EQ(ping_failures_, 0) << attack << ": /ping failed during the attack";
    EXPECT_LT(max_ping_ms_, kPingCapMs) << attack << ": /ping was slow during the attack";
  }

 private:
  pid_t pid_;
  int port_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  long baseline_kb_ = 0;
  long peak_kb_ = 0;
  int pings_ = 0;
  int ping_failures_ = 0;
  double max_ping_ms_ = 0;
};

class AttackTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = TempDir() + "/attack.ipinsights";
    SmallModel(71, 16)->Save(model_);
  }

  // Starts the server with `args` (and the model, two threads); false when it did not start.
  bool StartServer(ServerProcess& server, std::vector<std::string> args, const std::string& name,
                   const std::vector<std::string>& env = {}) {
    server.binary = OtherBinary();
    args.insert(args.begin(), {"--model", model_, "--threads", "2"});
    return server.Start(Args(args), TempDir() + "/" + name + ".log", env);
  }

  // A chunked request whose next line (after `prefix`) never ends: up to 256 MB of 'a'
  // until the server answers. It must answer 4xx after a few KB and stay small.
  void LineWithoutEnd(const std::string& prefix, const std::string& name) {
    ServerProcess server;
    ASSERT_TRUE(StartServer(server, {"--body-timeout", "20"}, name));
    Monitor monitor(server);
    int fd = Connect(server.port());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd,
                        "POST /invocations HTTP/1.1\r\nHost: a\r\nContent-Type: text/csv\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n" +
                            prefix));
    std::string piece(1 << 20, 'a');
    size_t sent = 0;
    auto start = Clock::now();
    while (sent < (size_t{256} << 20) && Clock::now() - start < std::chrono::seconds(10)) {
      size_t n = SendUntilAnswered(fd, piece, 2000);
      sent += n;
      if (n < piece.size()) break;
    }
    std::string status = ReadStatusLine(fd, 3000);
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    close(fd);
    std::printf("[attack] %s: %.1f MB sent in %.2f s, answer \"%s\"\n", name.c_str(),
                sent / 1048576.0, seconds, status.c_str());
    RecordProperty("attack_bytes_sent", std::to_string(sent));
    EXPECT_THAT(status, StartsWith("HTTP/1.1 4")) << name << ": no 4xx answer";
    EXPECT_LT(sent, size_t{8} << 20) << name << ": the server kept reading the line";
    monitor.Check(name);
  }

  static inline std::string model_;
};

// H1: `1;` then a chunk extension without end.
TEST_F(AttackTest, ChunkExtensionWithoutEndIsRefused) { LineWithoutEnd("1;", "chunk_extension"); }

// H1: the last chunk, then a trailer field without end.
TEST_F(AttackTest, TrailerWithoutEndIsRefused) { LineWithoutEnd("0\r\nX: ", "trailer"); }

// H2: file descriptors run out (a low RLIMIT_NOFILE, then lowered further while running).
// The server must neither spin nor flood its log, and a new client must still get in.
TEST_F(AttackTest, OutOfFileDescriptorsPausesAcceptingAndServes) {
  ServerProcess server;
  server.nofile_limit = 64;
  // UBSan's vptr check reads memory through a pipe; out of descriptors it cannot make one and
  // reports the (valid) Boost error category as "invalid vptr". That report must not abort.
  static std::string ubsan = "UBSAN_OPTIONS=" +
                             std::string(std::getenv("UBSAN_OPTIONS") != nullptr
                                             ? std::string(std::getenv("UBSAN_OPTIONS")) + ":"
                                             : "") +
                             "halt_on_error=0";
  ASSERT_TRUE(StartServer(server, {"--idle-timeout", "60"}, "fd_exhaustion", {ubsan}));
  EXPECT_THAT(server.log(), HasSubstr("capping connections"))
      << "no warning that the connection cap was lowered";
  Monitor monitor(server);
  std::vector<int> idle;
  auto open_idle = [&](int n) {
    for (int i = 0; i < n; ++i) {
      int fd = ConnectWithin(server.port(), 1000);
      if (fd >= 0) idle.push_back(fd);
    }
  };
  // Phase 1: more idle connections than descriptors.
  double cpu_before = CpuSeconds(server.pid());
  open_idle(80);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  double cpu_phase1 = CpuSeconds(server.pid()) - cpu_before;
  double ping1 = PingMs(server.port(), 5000);
  // Phase 2: the limit drops below what is open (as if other files took the descriptors), so
  // accept itself fails with EMFILE.
  size_t open_files = OpenFiles(server.pid());
  // (Never above the hard limit of 64: sanitizer runtimes may hold more descriptors.)
  rlimit lower{std::min<rlim_t>(open_files - 4, 60), 64};
  ASSERT_EQ(prlimit(server.pid(), RLIMIT_NOFILE, &lower, nullptr), 0) << std::strerror(errno);
  cpu_before = CpuSeconds(server.pid());
  open_idle(40);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  double cpu_phase2 = CpuSeconds(server.pid()) - cpu_before;
  double ping2 = PingMs(server.port(), 5000);
  size_t log_bytes = server.log().size();
  std::printf(
      "[attack] fd_exhaustion: CPU %.2f s over 2 s (80 idle, limit 64), %.2f s over 2 s (40 more, "
      "limit %zu); "
      "new client's /ping %.1f ms / %.1f ms; server log %zu bytes\n",
      cpu_phase1, cpu_phase2, static_cast<size_t>(lower.rlim_cur), ping1, ping2, log_bytes);
  RecordProperty("cpu_seconds_phase1", std::to_string(cpu_phase1));
  RecordProperty("cpu_seconds_phase2", std::to_string(cpu_phase2));
  RecordProperty("ping_ms_phase1", std::to_string(ping1));
  RecordProperty("ping_ms_phase2", std::to_string(ping2));
  RecordProperty("log_bytes", std::to_string(log_bytes));
  if (log_bytes < 4096)
    std::printf("[attack] fd_exhaustion: server log:\n%s", server.log().c_str());
  EXPECT_LT(cpu_phase1, 1.0) << "the server spun while out of descriptors";
  EXPECT_LT(cpu_phase2, 1.0) << "the server spun while out of descriptors";
  EXPECT_GE(ping1, 0) << "a new client was not served";
  EXPECT_GE(ping2, 0) << "a new client was not served while accept failed";
  // (The unfixed server logged 130 MB here; sanitizer builds add the report above.)
  EXPECT_LT(log_bytes, kSanitized ? 32768u : 4096u) << server.log().substr(0, 2000);
  EXPECT_THAT(server.log(), HasSubstr("Too many open files"))
      << "accept never ran out of descriptors: the test "
         "did not exercise the pause";
  for (int fd : idle) close(fd);
  // The monitor's own pings may wait behind the queued connections: only memory is checked.
  monitor.Stop();
  long rss = RssKb(server.pid());
  std::printf("[attack] fd_exhaustion: RSS %.1f MB at the end\n", rss / 1024.0);
  EXPECT_EQ(server.Stop(), 0);
}

// M3: many connections each sending most of a 6 MB body, and holding it.
TEST_F(AttackTest, ManyPartialBodiesStayWithinTheBodyBudget) {
  ServerProcess server;
  ASSERT_TRUE(
      StartServer(server, {"--body-budget-mb", "48", "--body-timeout", "30"}, "partial_bodies"));
  Monitor monitor(server);
  const std::string header =
      "POST /invocations HTTP/1.1\r\nHost: a\r\nContent-Type: text/csv\r\nContent-Length: "
      "6000000\r\n\r\n";
  std::string body(5900000, 'a');
  std::vector<int> holders;
  int busy = 0;
  size_t sent = 0;
  for (int i = 0; i < 50; ++i) {
    int fd = Connect(server.port());
    ASSERT_GE(fd, 0);
    holders.push_back(fd);
    if (!SendAll(fd, header)) continue;
    sent += SendUntilAnswered(fd, body, 1000);
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 0) == 1 && ReadStatusLine(fd, 1000).find(" 503") != std::string::npos) ++busy;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::printf("[attack] partial_bodies: 50 connections, %.1f MB of bodies sent, %d answered 503\n",
              sent / 1048576.0, busy);
  RecordProperty("busy_answers", std::to_string(busy));
  EXPECT_GT(busy, 0) << "no connection was refused over the body budget";
  monitor.Check("partial_bodies");
  for (int fd : holders) close(fd);
  EXPECT_EQ(server.Stop(), 0);
}

// M2: clients that ask for large verbose answers and do not read them.
TEST_F(AttackTest, SlowVerboseReadersStayWithinTheResponseBudget) {
  ServerProcess server;
  ASSERT_TRUE(
      StartServer(server, {"--response-budget-mb", "48", "--body-timeout", "30"}, "slow_readers"));
  // 50,000 pairs of dimension 16: about 0.9 MB asked, 20 MB answered.
  std::string csv;
  for (int i = 0; i < 50000; ++i) {
    csv += "user" + std::to_string(i) + ",10." + std::to_string(i % 250) + "." +
           std::to_string(i / 250 % 250) + ".1\n";
  }
  std::string request =
      "POST /invocations HTTP/1.1\r\nHost: a\r\nContent-Type: text/csv\r\n"
      "Accept: application/jsonlines; verbose=True\r\nContent-Length: " +
      std::to_string(csv.size()) + "\r\n\r\n" + csv;
  Monitor monitor(server);
  std::vector<int> readers;
  int ok = 0, busy = 0;
  for (int i = 0; i < 12; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(server.port()));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    readers.push_back(fd);
    ASSERT_TRUE(SendAll(fd, request));
    std::string status = ReadStatusLine(fd, 20000);
    if (status.find(" 200") != std::string::npos) ++ok;
    if (status.find(" 503") != std::string::npos) ++busy;
  }
  // A normal one-pair request is still answered (small answers are not charged).
  auto start = Clock::now();
  int fd = Connect(server.port());
  std::string pending;
  std::string pair =
      "POST /invocations HTTP/1.1\r\nHost: a\r\nContent-Type: text/csv\r\nContent-Length: "
      "9\r\n\r\nu,1.2.3.4";
  ASSERT_TRUE(SendAll(fd, pair));
  std::string answer = ReadResponse(fd, &pending, 5000);
  double pair_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  close(fd);
  std::printf(
      "[attack] slow_readers: 12 verbose requests of 20 MB answers: %d answered 200 (not read), %d "
      "answered "
      "503; a one-pair request meanwhile: %.1f ms\n",
      ok, busy, pair_ms);
  RecordProperty("busy_answers", std::to_string(busy));
  RecordProperty("pair_ms", std::to_string(pair_ms));
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 200"));
  EXPECT_LT(pair_ms, kPingCapMs);
  EXPECT_GT(ok, 0);
  EXPECT_GT(busy, 0) << "no verbose request was refused over the response budget";
  monitor.Check("slow_readers");
  for (int reader : readers) close(reader);
  EXPECT_EQ(server.Stop(), 0);
}

// L3: at the connection cap, every connection trickling a partial header.
TEST_F(AttackTest, PartialHeaderFloodDoesNotLockOutNewClients) {
  ServerProcess server;
  ASSERT_TRUE(StartServer(server, {"--max-connections", "20", "--header-timeout", "10"},
                          "partial_headers"));
  Monitor monitor(server);
  std::vector<int> flood;
  for (int i = 0; i < 60; ++i) {
    int fd = Connect(server.port());
    if (fd < 0) continue;
    flood.push_back(fd);
    SendAll(fd, "GET /ping HTTP/1.1\r\nHost: a\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double ping = PingMs(server.port());
  std::printf(
      "[attack] partial_headers: 60 connections holding half a header (cap 20); a new client's "
      "/ping: %.1f ms\n",
      ping);
  RecordProperty("ping_ms_after_flood", std::to_string(ping));
  EXPECT_GE(ping, 0) << "a new client was refused at the cap";
  EXPECT_LT(ping, kPingCapMs);
  monitor.Check("partial_headers");
  for (int fd : flood) close(fd);
  EXPECT_EQ(server.Stop(), 0);
}

// M3, in process: a body announced as 6 MB of which little arrives holds little of the
// budget (growth in steps, not Content-Length at the first piece); over the budget the parser
// fails with over_budget(); a parser gives its charge back when it ends.
TEST(BodyBudget, ChargesBodiesAsTheyGrowAndGivesBack) {
  ByteBudget budget(1 << 20);
  const std::string header =
      "POST /invocations HTTP/1.1\r\nHost: a\r\nContent-Length: 6000000\r\n\r\n";
  {
    HttpRequestParser parser(16 << 10, 8 << 20, &budget);
    boost::beast::error_code ec;
    size_t used = parser.Put(header, ec);
    ASSERT_EQ(used, header.size()) << ec.message();
    std::string piece(1000, 'a');
    EXPECT_EQ(parser.Put(piece, ec), piece.size());
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(parser.Put(piece, ec), piece.size());
    EXPECT_LE(budget.used(), size_t{128} << 10)
        << "charged more than the first step for 2 KB of body";
    EXPECT_GT(budget.used(), 0u);
    // Past the 1 MiB budget: refused as over budget (not as over the body limit).
    std::string big(256 << 10, 'b');
    bool refused = false;
    for (int i = 0; i < 8 && !refused; ++i) {
      parser.Put(big, ec);
      refused = ec == boost::beast::http::error::body_limit;
    }
    EXPECT_TRUE(refused);
    EXPECT_TRUE(parser.over_budget());
    EXPECT_LE(budget.used(), budget.limit());
  }
  EXPECT_EQ(budget.used(), 0u);
}

}  // namespace
}  // namespace ipinsights
