// The real binary with authentication and the other guarded surfaces: SigV4 under hostile
// input (review M1), secrets off the command line (M9), pinned host and region and unsigned
// Accept (L1), a bearer token for /metrics (L2), access-log failures and rotation (L9), flag
// ranges (L11), key reload on SIGHUP (L13).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <ctime>
#include <thread>

#include "../testing/temp_dir.h"
#include "ipinsights/serve/sigv4_verifier.h"
#include "ipinsights/storage/sigv4.h"
#include "serve_test_util.h"
#include "server_process.h"

namespace ipinsights {
namespace {

using namespace serve_test;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using ipinsights::testing::TempDir;

std::string Model() {
  static std::string file;
  if (file.empty()) {
    file = TempDir() + "/ct.ipinsights";
    SmallModel(11)->Save(file);
  }
  return file;
}

std::string KeysFile(const std::string& name, const std::string& lines) {
  std::string path = TempDir() + "/" + name;
  WriteFile(path, lines);
  return path;
}

std::string AmzDate(std::time_t now) {
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y%m%dT%H%M%SZ", &tm);
  return text;
}

struct SignedCall {
  std::string method = "POST";
  std::string target = "/endpoints/ct/invocations";
  std::string host;  // default: 127.0.0.1:PORT
  std::string akid = "AKIDAUTH";
  std::string secret = "secret-auth";
  std::string region = "eu-west-1";
  std::vector<std::pair<std::string, std::string>> signed_headers = {{"Content-Type", "text/csv"}};
  std::vector<std::pair<std::string, std::string>> unsigned_headers;
  std::string body = "AIDAEXAMPLE,203.0.113.7";
};

// The raw HTTP request a SigV4 client would send, signed now.
std::string SignedHttp(const SignedCall& call, int port) {
  std::string date = AmzDate(std::time(nullptr));
  std::string host = call.host.empty() ? "127.0.0.1:" + std::to_string(port) : call.host;
  std::vector<std::pair<std::string, std::string>> headers = {{"Host", host}, {"X-Amz-Date", date}};
  headers.insert(headers.end(), call.signed_headers.begin(), call.signed_headers.end());
  std::vector<std::string> names;
  for (const auto& [name, value] : headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    names.push_back(lower);
  }
  std::sort(names.begin(), names.end());
  SignedRequestView view;
  view.method = call.method;
  view.target = call.target;
  for (const auto& [name, value] : headers) view.headers.emplace_back(name, value);
  view.body = call.body;
  std::string canonical = SigV4Verifier::CanonicalRequest(view, names, Sha256Hex(call.body));
  std::string scope = date.substr(0, 8) + "/" + call.region + "/sagemaker/aws4_request";
  std::string string_to_sign =
      "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + Sha256Hex(canonical);
  std::string signed_names;
  for (const std::string& name : names) signed_names += (signed_names.empty() ? "" : ";") + name;
  std::string authorization =
      "AWS4-HMAC-SHA256 Credential=" + call.akid + "/" + scope + ", SignedHeaders=" + signed_names +
      ", Signature=" +
      SigV4Verifier::Sign(call.secret, date.substr(0, 8), call.region, "sagemaker", string_to_sign);
  std::string http = call.method + " " + call.target + " HTTP/1.1\r\n";
  for (const auto& [name, value] : headers) http += name + ": " + value + "\r\n";
  for (const auto& [name, value] : call.unsigned_headers) http += name + ": " + value + "\r\n";
  http += "Authorization: " + authorization +
          "\r\nContent-Length: " + std::to_string(call.body.size()) +
          "\r\nConnection: close\r\n\r\n" + call.body;
  return http;
}

// Sends one request on a new connection; returns "STATUS BODY".
std::string Exchange(int port, const std::string& http) {
  int fd = Connect(port);
  if (fd < 0) return "connect failed";
  SendAll(fd, http);
  std::string response = ReadUntilClose(fd, 5000);
  close(fd);
  if (response.size() < 12) return "no answer";
  size_t body = response.find("\r\n\r\n");
  return response.substr(9, 3) + " " + (body == std::string::npos ? "" : response.substr(body + 4));
}

// A 403 as Exchange shows it: SageMaker Runtime's error shape, "error" kept for curl users.
std::string Forbidden(std::string_view reason) {
  std::string message = "forbidden: " + std::string(reason);
  return "403 {\"error\":\"" + message + "\",\"message\":\"" + message + "\"}";
}

std::string Curl(const std::string& args) {
  CommandResult result = RunCommand("curl -s -w ' %{http_code}' " + args);
  size_t space = result.output.rfind(' ');
  return result.output.substr(space + 1) + " " + result.output.substr(0, space);
}

// --- M1 ---------------------------------------------------------------------------------

// The review's request: a known key ID and a valid date, 3,000 ";a" signed names and 2,400
// empty "a:" fields, just under the 16 KiB header limit.
std::string QuadraticSigV4Request() {
  std::string date = AmzDate(std::time(nullptr));
  std::string http =
      "POST /endpoints/ct/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Date: " + date +
      "\r\nContent-Type: text/csv\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDAUTH/" +
      date.substr(0, 8) + "/eu-west-1/sagemaker/aws4_request, SignedHeaders=host;x-amz-date";
  for (int i = 0; i < 3000; ++i) http += ";a";
  http += ", Signature=" + std::string(64, '0') + "\r\n";
  for (int i = 0; i < 2400; ++i) http += "a:\r\n";
  http += "Content-Length: 9\r\nConnection: close\r\n\r\nu,1.2.3.4";
  return http;
}

TEST(AuthServer, QuadraticSignedHeadersDoNotStallPing) {
  std::string keys = KeysFile("m1_keys.txt", "AKIDAUTH secret-auth\n");
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--model", Model(), "--threads", "2", "--auth-keys", keys},
                           TempDir() + "/m1.log"));
  std::string attack = QuadraticSigV4Request();
  ASSERT_LT(attack.find("\r\n\r\n"), size_t{16} << 10);
  ASSERT_GT(attack.size(), size_t{15} << 10);

  std::atomic<int> refused{0}, other{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> attackers;
  for (int t = 0; t < 16; ++t) {
    attackers.emplace_back([&] {
      for (int round = 0; round < 3; ++round) {
        std::string answer = Exchange(server.port(), attack);
        if (answer.rfind("403 ", 0) == 0 && answer.find("SignedHeaders") != std::string::npos) {
          ++refused;
        } else {
          ++other;
        }
      }
    });
  }
  // A normal client's /ping while the attack runs (and for at least 300 ms).
  double worst_ms = 0;
  int pings = 0;
  auto start = std::chrono::steady_clock::now();
  std::thread joiner([&] {
    for (auto& a : attackers) a.join();
    done = true;
  });
  while (!done || std::chrono::steady_clock::now() - start < std::chrono::milliseconds(300)) {
    auto before = std::chrono::steady_clock::now();
    std::string answer =
        Exchange(server.port(), "GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - before)
                    .count();
    EXPECT_THAT(answer, StartsWith("200 "));
    worst_ms = std::max(worst_ms, ms);
    ++pings;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  joiner.join();
  double attack_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "[ figure ] M1: 48 quadratic SigV4 requests (16 at once) in %.0f ms; /ping worst %.1f ms "
      "over %d pings\n",
      attack_ms, worst_ms, pings);
  EXPECT_EQ(refused, 48);
  EXPECT_EQ(other, 0);
  // Loose: the quadratic verifier pushed /ping to about a second here.
  EXPECT_LT(worst_ms, 400.0);
  EXPECT_EQ(server.Stop(), 0);
}

// --- M9 ---------------------------------------------------------------------------------

std::string Cmdline(pid_t pid) {
  std::string text = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  std::replace(text.begin(), text.end(), '\0', ' ');
  return text;
}

std::string AdminReload(int port, const std::string& token) {
  return Curl("-X POST -H 'Authorization: Bearer " + token +
              "' http://127.0.0.1:" + std::to_string(port) + "/admin/reload");
}

TEST(AuthServer, AdminTokenFromFileIsNotOnTheCommandLine) {
  std::string token_file = TempDir() + "/admin_token";
  WriteFile(token_file, "tok-from-file-7d1\n");
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--model", Model(), "--threads", "1", "--admin-token-file", token_file},
                           TempDir() + "/m9_file.log"));
  EXPECT_EQ(AdminReload(server.port(), "tok-from-file-7d1"),
            "200 {\"reloaded\":[\"ct\"],\"failed\":[]}");
  EXPECT_THAT(AdminReload(server.port(), "tok-from-file-7d"), StartsWith("403 "));
  EXPECT_THAT(Cmdline(server.pid()), Not(HasSubstr("tok-from-file-7d1")));
  EXPECT_THAT(Cmdline(server.pid()), HasSubstr("--admin-token-file"));
  EXPECT_THAT(server.log(), Not(HasSubstr("deprecated")));
  EXPECT_EQ(server.Stop(), 0);
}

TEST(AuthServer, AdminTokenFromEnvironmentIsNotOnTheCommandLine) {
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--model", Model(), "--threads", "1"}, TempDir() + "/m9_env.log",
                           {"IPINSIGHTS_ADMIN_TOKEN=tok-from-env-93a"}));
  EXPECT_EQ(AdminReload(server.port(), "tok-from-env-93a"),
            "200 {\"reloaded\":[\"ct\"],\"failed\":[]}");
  EXPECT_THAT(AdminReload(server.port(), "wrong"), StartsWith("403 "));
  EXPECT_THAT(Cmdline(server.pid()), Not(HasSubstr("tok-from-env-93a")));
  EXPECT_EQ(server.Stop(), 0);
}

TEST(AuthServer, InlineAdminTokenStillWorksButWarns) {
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--model", Model(), "--threads", "1", "--admin-token", "inline-tok"},
                           TempDir() + "/m9_inline.log"));
  EXPECT_EQ(AdminReload(server.port(), "inline-tok"), "200 {\"reloaded\":[\"ct\"],\"failed\":[]}");
  EXPECT_THAT(server.log(), HasSubstr("--admin-token is visible to every local user"));
  EXPECT_EQ(server.Stop(), 0);
}

TEST(AuthServer, TwoAdminTokenSourcesAreAUsageError) {
  std::string token_file = TempDir() + "/admin_token2";
  WriteFile(token_file, "a\n");
  CommandResult result =
      RunCommand(std::string(IPINSIGHTS_BINARY) + " serve --model " + Model() +
                 " --admin-token x --admin-token-file " + token_file + " --port 0 2>&1");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.output, HasSubstr("--admin-token-file"));
  WriteFile(token_file, "\n");
  result = RunCommand(std::string(IPINSIGHTS_BINARY) + " serve --model " + Model() +
                      " --admin-token-file " + token_file + " --port 0 2>&1");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.output, HasSubstr("is empty"));
}

// --- L1 ---------------------------------------------------------------------------------

TEST(AuthServer, PinnedHostRegionAndUnsignedAccept) {
  std::string keys = KeysFile("l1_keys.txt", "AKIDAUTH secret-auth\n");
  ServerProcess server;
  ASSERT_TRUE(
      server.Start({"--model", Model(), "--threads", "1", "--auth-keys", keys, "--auth-host",
                    "ipinsights.internal:8443", "--auth-region", "eu-west-1"},
                   TempDir() + "/l1.log"));
  int port = server.port();
  SignedCall good;
  good.host = "ipinsights.internal:8443";
  EXPECT_THAT(Exchange(port, SignedHttp(good, port)), StartsWith("200 {\"predictions\""));

  SignedCall other_host = good;
  other_host.host = "runtime.sagemaker.us-east-1.amazonaws.com";
  EXPECT_EQ(Exchange(port, SignedHttp(other_host, port)),
            Forbidden("the request was signed for another host"));
  SignedCall other_region = good;
  other_region.region = "us-east-1";
  EXPECT_EQ(Exchange(port, SignedHttp(other_region, port)),
            Forbidden("the request was signed for another region"));

  // A captured request with an added, unsigned Accept cannot switch on verbose=True.
  SignedCall verbose = good;
  verbose.unsigned_headers = {{"Accept", "application/json; verbose=True"}};
  EXPECT_EQ(Exchange(port, SignedHttp(verbose, port)),
            Forbidden("the Accept header must be signed"));
  // Signed, it works; curl's default "Accept: */*" unsigned means the same as none.
  SignedCall signed_verbose = good;
  signed_verbose.signed_headers.emplace_back("Accept", "application/json; verbose=True");
  EXPECT_THAT(Exchange(port, SignedHttp(signed_verbose, port)), HasSubstr("\"entity_embedding\""));
  SignedCall wildcard = good;
  wildcard.unsigned_headers = {{"Accept", "*/*"}};
  EXPECT_THAT(Exchange(port, SignedHttp(wildcard, port)), StartsWith("200 "));

  // Unknown key and wrong secret: one message, so key IDs cannot be probed.
  SignedCall unknown = good;
  unknown.akid = "AKIDNOBODY";
  SignedCall wrong = good;
  wrong.secret = "not-the-secret";
  EXPECT_EQ(Exchange(port, SignedHttp(unknown, port)), Forbidden("signature does not match"));
  EXPECT_EQ(Exchange(port, SignedHttp(wrong, port)), Forbidden("signature does not match"));
  EXPECT_EQ(server.Stop(), 0);
}

// --- L2 ---------------------------------------------------------------------------------

TEST(AuthServer, MetricsBearerTokenForPrometheus) {
  std::string keys = KeysFile("l2_keys.txt", "AKIDAUTH secret-auth\n");
  std::string token_file = TempDir() + "/metrics_token";
  WriteFile(token_file, "prom-tok-51\n");
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--model", Model(), "--threads", "1", "--auth-keys", keys,
                            "--metrics-token-file", token_file},
                           TempDir() + "/l2.log"));
  std::string url = server.url();
  // What Prometheus sends with `authorization: {credentials_file: ...}`.
  EXPECT_THAT(Curl("-H 'Authorization: Bearer prom-tok-51' " + url + "/metrics"),
              StartsWith("200 # HELP ipinsights_requests_total"));
  EXPECT_THAT(Curl(url + "/metrics"), StartsWith("403 "));
  EXPECT_THAT(Curl("-H 'Authorization: Bearer prom-tok-5' " + url + "/metrics"),
              StartsWith("403 "));
  // The token opens /metrics only.
  EXPECT_THAT(Curl("-H 'Authorization: Bearer prom-tok-51' " + url + "/execution-parameters"),
              StartsWith("403 "));
  EXPECT_THAT(Curl("-H 'Authorization: Bearer prom-tok-51' -H 'Content-Type: text/csv' "
                   "--data-binary 'u,1.2.3.4' " +
                   url + "/invocations"),
              StartsWith("403 "));
  EXPECT_THAT(Cmdline(server.pid()), Not(HasSubstr("prom-tok-51")));
  EXPECT_EQ(server.Stop(), 0);
}

// --- L13: keys reloaded on SIGHUP ---------------------------------------------------------

TEST(AuthServer, SighupReloadsAuthKeys) {
  std::string keys = KeysFile("l13_keys.txt", "AKIDAUTH secret-auth\n");
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--model", Model(), "--threads", "1", "--auth-keys", keys},
                           TempDir() + "/l13.log"));
  int port = server.port();
  SignedCall old_key, new_key;
  new_key.akid = "AKIDROTATED";
  new_key.secret = "secret-rotated";
  EXPECT_THAT(Exchange(port, SignedHttp(old_key, port)), StartsWith("200 "));
  EXPECT_THAT(Exchange(port, SignedHttp(new_key, port)), StartsWith("403 "));
  WriteFile(keys, "AKIDROTATED secret-rotated\n");
  kill(server.pid(), SIGHUP);
  std::string answer;
  for (int i = 0; i < 100; ++i) {
    answer = Exchange(port, SignedHttp(new_key, port));
    if (answer.rfind("200 ", 0) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_THAT(answer, StartsWith("200 "));
  EXPECT_THAT(Exchange(port, SignedHttp(old_key, port)), StartsWith("403 "));
  // A broken keys file: the current keys stay.
  WriteFile(keys, "just-one-field\n");
  kill(server.pid(), SIGHUP);
  for (int i = 0; i < 100 && server.log().find("keys kept") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_THAT(server.log(), HasSubstr("keys kept"));
  EXPECT_THAT(Exchange(port, SignedHttp(new_key, port)), StartsWith("200 "));
  EXPECT_EQ(server.Stop(), 0);
}

// --- L9 ---------------------------------------------------------------------------------

std::string Metric(const std::string& url, const std::string& name) {
  std::string text = RunCommand("curl -s " + url + "/metrics").output;
  size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return "missing";
  size_t end = text.find('\n', at + 1);
  return text.substr(at + name.size() + 2, end - at - name.size() - 2);
}

TEST(AccessLogServer, WriteErrorsAreCountedAndServingGoesOn) {
  if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no writable /dev/full: skipped";
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--model", Model(), "--threads", "1", "--access-log", "/dev/full"},
                           TempDir() + "/l9_full.log"));
  for (int i = 0; i < 5; ++i) EXPECT_THAT(Curl(server.url() + "/ping"), StartsWith("200 "));
  std::string errors = Metric(server.url(), "ipinsights_access_log_errors_total");
  EXPECT_NE(errors, "missing");
  EXPECT_GE(std::atoi(errors.c_str()), 5);
  std::string log = server.log();
  size_t first = log.find("access log");
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_THAT(log, HasSubstr("No space left on device"));
  EXPECT_EQ(log.find("access log", first + 1), std::string::npos) << "warned more than once:\n"
                                                                  << log;
  EXPECT_EQ(server.Stop(), 0);
}

TEST(AccessLogServer, SighupReopensTheLogAfterRotation) {
  std::string path = TempDir() + "/rotate.jsonl";
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--model", Model(), "--threads", "1", "--access-log", path},
                           TempDir() + "/l9_rot.log"));
  EXPECT_THAT(Curl(server.url() + "/ping?before"), StartsWith("200 "));
  std::filesystem::rename(path, path + ".1");
  kill(server.pid(), SIGHUP);
  for (int i = 0; i < 100 && !std::filesystem::exists(path); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_THAT(Curl(server.url() + "/ping?after"), StartsWith("200 "));
  EXPECT_EQ(server.Stop(), 0);
  std::string old_log = ReadFile(path + ".1"), new_log = ReadFile(path);
  EXPECT_THAT(old_log, HasSubstr("/ping?before"));
  EXPECT_THAT(old_log, Not(HasSubstr("/ping?after")));
  EXPECT_THAT(new_log, HasSubstr("/ping?after"));
  EXPECT_THAT(new_log, Not(HasSubstr("/ping?before")));
}

// --- L11 --------------------------------------------------------------------------------

TEST(ServeFlags, OutOfRangeValuesAreUsageErrorsNamingTheFlag) {
  struct Case {
    std::string args, flag;
  };
  for (const Case& c : std::vector<Case>{{"--idle-timeout 1e300", "--idle-timeout"},
                                         {"--idle-timeout nan", "--idle-timeout"},
                                         {"--header-timeout 86401", "--header-timeout"},
                                         {"--body-timeout 0", "--body-timeout"},
                                         {"--max-body-mb 1e20", "--max-body-mb"},
                                         {"--max-body-mb 1025", "--max-body-mb"},
                                         {"--threads 100000", "--threads"},
                                         {"--max-connections 0", "--max-connections"}}) {
    CommandResult result =
        RunCommand("timeout 10 " + std::string(IPINSIGHTS_BINARY) + " serve --model " + Model() +
                   " --port 0 " + c.args + " 2>&1");
    EXPECT_EQ(result.exit_code, 2) << c.args << ": " << result.output;
    EXPECT_THAT(result.output, HasSubstr(c.flag)) << c.args;
  }
}

}  // namespace
}  // namespace ipinsights
