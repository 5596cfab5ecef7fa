// The real binary on a real port: curl, boto3, the AWS CLI, raw sockets, signals.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../testing/temp_dir.h"
#include "ipinsights/serve/response_codec.h"
#include "serve_test_util.h"
#include "server_process.h"

namespace ipinsights {
namespace {

using namespace serve_test;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using ipinsights::testing::TempDir;

// The score the server must answer for (entity, ip) with the model in `file`.
std::string ExpectedScore(const std::string& file, std::string_view entity, std::string_view ip) {
  ModelScorer scorer(Model::Load(file));
  IpAddress address = *IpAddress::Parse(ip);
  float score = 0;
  scorer.ScoreBatch(&entity, &address, 1, &score);
  std::string text;
  AppendFloat(score, &text);
  return text;
}

std::string Prediction(const std::string& score) {
  return "{\"predictions\":[{\"dot_product\":" + score + "}]}";
}

// A python with boto3, or empty.
std::string PythonWithBoto3() {
  for (std::string python : {"python3", "python", "/root/.pyenv/shims/python3"}) {
    if (RunCommand(python + " -c 'import boto3' 2>/dev/null").exit_code == 0) return python;
  }
  return "";
}

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ct_ = TempDir() + "/ct.ipinsights";
    waf_ = TempDir() + "/waf.ipinsights";
    SmallModel(11)->Save(ct_);
    SmallModel(22)->Save(waf_);
    server_ = new ServerProcess();
    ASSERT_TRUE(
        server_->Start({"--model", ct_, "--model", "waf=" + waf_, "--threads", "2", "--max-body-mb",
                        "8", "--max-connections", "16", "--header-timeout", "1", "--idle-timeout",
                        "3", "--access-log", TempDir() + "/access.jsonl"},
                       TempDir() + "/main.log"));
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // curl; returns "STATUS BODY".
  static std::string Curl(const std::string& args) {
    CommandResult result = RunCommand("curl -s -w ' %{http_code}' " + args);
    // Move the status to the front for readable assertions.
    size_t space = result.output.rfind(' ');
    return result.output.substr(space + 1) + " " + result.output.substr(0, space);
  }
  static std::string Url(const std::string& path) { return "'" + server_->url() + path + "'"; }

  static inline std::string ct_, waf_;
  static inline ServerProcess* server_ = nullptr;
};

TEST_F(ServerTest, CurlPing) { EXPECT_EQ(Curl(Url("/ping")), "200 {\"status\":\"healthy\"}"); }

TEST_F(ServerTest, CurlInvocationsCsvLikeTheOriginalLogFunctions) {
  // No Accept header, one line, read predictions[0].dot_product.
  EXPECT_EQ(
      Curl("-H 'Content-Type: text/csv' -H 'Accept:' --data-binary 'AIDAEXAMPLE,203.0.113.7' " +
           Url("/invocations")),
      "200 " + Prediction(ExpectedScore(ct_, "AIDAEXAMPLE", "203.0.113.7")));
}

TEST_F(ServerTest, CurlEndpointPathUsesNamedModel) {
  EXPECT_EQ(Curl("-H 'Content-Type: text/csv' --data-binary 'u, 2001:db8::1' " +
                 Url("/endpoints/waf/invocations")),
            "200 " + Prediction(ExpectedScore(waf_, "u", "2001:db8::1")));
  EXPECT_EQ(Curl("-H 'Content-Type: text/csv' --data-binary 'u,1.2.3.4' " +
                 Url("/endpoints/ct/invocations")),
            "200 " + Prediction(ExpectedScore(ct_, "u", "1.2.3.4")));
}

TEST_F(ServerTest, CurlJsonInJsonLinesOutVerbose) {
  std::string out = Curl(
      "-H 'Content-Type: application/json' -H 'Accept: application/jsonlines;verbose=True' "
      "--data-binary '{\"instances\": [{\"features\": [\"u\", \"1.2.3.4\"]}, "
      "{\"data\": {\"features\": {\"values\": [\"v\", \"::1\"]}}}]}' " +
      Url("/invocations"));
  EXPECT_THAT(out, StartsWith("200 {\"dot_product\":"));
  EXPECT_THAT(out, HasSubstr("\"entity_embedding\":["));
  EXPECT_THAT(out, HasSubstr("\"ip_embedding\":["));
}

TEST_F(ServerTest, CurlExecutionParametersAndMetrics) {
  EXPECT_EQ(
      Curl(Url("/execution-parameters")),
      "200 "
      "{\"MaxConcurrentTransforms\":4,\"BatchStrategy\":\"MULTI_RECORD\",\"MaxPayloadInMB\":8}");
  std::string metrics = Curl(Url("/metrics"));
  EXPECT_THAT(metrics, StartsWith("200 "));
  EXPECT_THAT(metrics, HasSubstr("ipinsights_pairs_scored_total{model=\"ct\"}"));
  EXPECT_THAT(
      metrics,
      HasSubstr("ipinsights_request_duration_seconds_bucket{route=\"/invocations\",le=\"0.001\"}"));
}

TEST_F(ServerTest, CurlErrorStatuses) {
  WriteFile(TempDir() + "/bad_line.csv", "a,1.2.3.4\nb,1.2.3\n");
  EXPECT_THAT(Curl("-H 'Content-Type: text/csv' --data-binary @" + TempDir() + "/bad_line.csv " +
                   Url("/invocations")),
              StartsWith("400 {\"error\":\"line 2: bad IP"));
  EXPECT_THAT(Curl("-H 'Content-Type: application/json' --data-binary '{\"instances\": [' " +
                   Url("/invocations")),
              StartsWith("400 {\"error\":\"invalid JSON"));
  EXPECT_THAT(Curl("-H 'Content-Type: text/csv' --data-binary 'a,1.2.3.4' " +
                   Url("/endpoints/nope/invocations")),
              StartsWith("404 "));
  EXPECT_THAT(Curl(Url("/nothing")), StartsWith("404 "));
  EXPECT_THAT(Curl(Url("/invocations")), StartsWith("405 "));
  EXPECT_THAT(Curl("-H 'Content-Type: text/csv' -H 'Accept: text/html' --data-binary 'a,1.2.3.4' " +
                   Url("/invocations")),
              StartsWith("406 "));
  EXPECT_THAT(Curl("-H 'Content-Type: image/png' --data-binary 'a,1.2.3.4' " + Url("/invocations")),
              StartsWith("415 "));
  // 9 MB against an 8 MB limit: answered 413 from the Content-Length, the body is not read.
  std::string big = TempDir() + "/big.csv";
  WriteFile(big, std::string(9 << 20, 'x'));
  EXPECT_THAT(Curl("-H 'Content-Type: text/csv' --data-binary @" + big + " " + Url("/invocations")),
              StartsWith("413 "));
  // Without Expect: 100-continue the client sends it all anyway; the 413 still arrives.
  EXPECT_EQ(Curl("-H 'Expect:' -H 'Content-Type: text/csv' --data-binary @" + big + " " +
                 Url("/invocations")),
            "413 {\"error\":\"request body over the limit of 8388608 bytes\","
            "\"message\":\"request body over the limit of 8388608 bytes\"}");
  EXPECT_THAT(Curl(Url("/ping")), StartsWith("200 "));
}

// Error answers, routed or refused while reading, carry SageMaker Runtime's x-amzn-ErrorType.
TEST_F(ServerTest, ErrorAnswersHaveTheAwsErrorTypeHeader) {
  auto head = [](const std::string& args) {
    return RunCommand("curl -s -o /dev/null -D - " + args).output;
  };
  EXPECT_THAT(head("-H 'Content-Type: text/csv' --data-binary 'a,1.2.3.4' " +
                   Url("/endpoints/nope/invocations")),
              HasSubstr("\r\nx-amzn-ErrorType: ValidationError\r\n"));
  std::string big = TempDir() + "/big_typed.csv";
  WriteFile(big, std::string(9 << 20, 'x'));
  std::string too_large =
      head("-H 'Content-Type: text/csv' --data-binary @" + big + " " + Url("/invocations"));
  EXPECT_THAT(too_large, StartsWith("HTTP/1.1 413 "));
  EXPECT_THAT(too_large, HasSubstr("\r\nx-amzn-ErrorType: ValidationError\r\n"));
  int garbage = Connect(server_->port());
  SendAll(garbage, "BAD\x01 / HTTP/1.1\r\n\r\n");
  std::string malformed = ReadUntilClose(garbage, 3000);
  close(garbage);
  EXPECT_THAT(malformed, StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(malformed, HasSubstr("\r\nx-amzn-ErrorType: ValidationError\r\n"));
  EXPECT_THAT(malformed, HasSubstr("\"message\":\"malformed HTTP request: bad method\"}"));
  // Answers that are not errors have none.
  EXPECT_THAT(head(Url("/ping")), Not(HasSubstr("x-amzn-ErrorType")));
}

TEST_F(ServerTest, Csv200000RowsInOneRequest) {
  std::string body;
  for (int i = 0; i < 200000; ++i)
    body += "user" + std::to_string(i % 1000) + ",10.1." + std::to_string(i % 256) + ".7\n";
  std::string file = TempDir() + "/rows.csv";
  WriteFile(file, body);
  std::string out =
      Curl("-H 'Content-Type: text/csv' --data-binary @" + file + " " + Url("/invocations"));
  ASSERT_THAT(out, StartsWith("200 {\"predictions\":["));
  size_t count = 0;
  for (size_t at = out.find("dot_product"); at != std::string::npos;
       at = out.find("dot_product", at + 1))
    ++count;
  EXPECT_EQ(count, 200000u);
  EXPECT_THAT(
      out, HasSubstr("{\"dot_product\":" +
                     ExpectedScore(ct_, "user999", "10.1." + std::to_string(199999 % 256) + ".7") +
                     "}]}"));
}

TEST_F(ServerTest, KeepAliveAndPipelining) {
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  std::string request =
      "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: "
      "9\r\n\r\nu,1.2.3.4";
  ASSERT_TRUE(SendAll(fd, request + request + request));
  std::string pending;
  for (int i = 0; i < 3; ++i) {
    std::string response = ReadResponse(fd, &pending);
    EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK")) << i;
    EXPECT_THAT(response, HasSubstr(Prediction(ExpectedScore(ct_, "u", "1.2.3.4"))));
  }
  close(fd);
}

TEST_F(ServerTest, HostileInputNeverStopsTheServer) {
  // Garbage bytes: 400 and close.
  int garbage = Connect(server_->port());
  SendAll(garbage, std::string("\x16\x03\x01\x00\xff\x00garbage\r\n\r\n", 18));
  EXPECT_THAT(ReadUntilClose(garbage, 3000), StartsWith("HTTP/1.1 400"));
  close(garbage);
  // A header that never ends: 431 once over the header limit.
  int endless = Connect(server_->port());
  SendAll(endless, "GET /ping HTTP/1.1\r\n");
  std::string filler;
  for (int i = 0; i < 2000; ++i) filler += "X-Filler-" + std::to_string(i) + ": aaaaaaaaaa\r\n";
  SendAll(endless, filler);
  EXPECT_THAT(ReadUntilClose(endless, 3000), StartsWith("HTTP/1.1 431"));
  close(endless);
  // A slow header: dropped after the header timeout (1 s).
  int slow = Connect(server_->port());
  SendAll(slow, "GET /ping HTTP/1.1\r\nHost");
  auto slow_start = std::chrono::steady_clock::now();
  EXPECT_EQ(ReadUntilClose(slow, 5000), "");
  EXPECT_LT(std::chrono::steady_clock::now() - slow_start, std::chrono::milliseconds(2500));
  close(slow);
  // A body shorter than its Content-Length, then the client leaves.
  int short_body = Connect(server_->port());
  SendAll(short_body,
          "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: "
          "100\r\n\r\nu,1.2");
  close(short_body);
  // More idle connections than the cap (16): new clients still get served.
  std::vector<int> idle;
  for (int i = 0; i < 40; ++i) idle.push_back(Connect(server_->port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Curl(Url("/ping")), "200 {\"status\":\"healthy\"}");
  EXPECT_EQ(Curl("-H 'Content-Type: text/csv' --data-binary 'u,1.2.3.4' " + Url("/invocations")),
            "200 " + Prediction(ExpectedScore(ct_, "u", "1.2.3.4")));
  for (int fd : idle) close(fd);
  // Random byte soup on many connections.
  std::mt19937 random(5);
  for (int i = 0; i < 50; ++i) {
    int fd = Connect(server_->port());
    std::string soup(1 + random() % 3000, '\0');
    for (char& c : soup) c = static_cast<char>(random());
    if (i % 2 == 0)
      soup = "POST /invocations HTTP/1.1\r\nContent-Type: text/csv\r\nContent-Length: " +
             std::to_string(soup.size()) + "\r\n\r\n" + soup;
    SendAll(fd, soup);
    close(fd);
  }
  EXPECT_TRUE(server_->Alive());
  EXPECT_EQ(Curl(Url("/ping")), "200 {\"status\":\"healthy\"}");
}

// Evenly paced keep-alive load from bench/paced_load (the latency benchmark's generator):
// every request is answered, with 200. Also keeps that tool honest.
TEST_F(ServerTest, PacedLoadGetsEveryAnswer) {
  std::string binary = IPINSIGHTS_BINARY;
  std::string paced = binary.substr(0, binary.rfind('/') + 1) + "paced_load";
  if (access(paced.c_str(), X_OK) != 0)
    GTEST_SKIP() << "no " << paced << " (built with IPINSIGHTS_BUILD_BENCH): skipped";
  WriteFile(TempDir() + "/one_pair.csv", "u,1.2.3.4");
  CommandResult result =
      RunCommand(paced + " --port " + std::to_string(server_->port()) +
                 " --path /invocations --rate 2000 --connections 8 --duration 1" +
                 " --header 'Content-Type: text/csv' --body-file " + TempDir() + "/one_pair.csv");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output,
              HasSubstr("\"sent\":2000,\"answered\":2000,\"non_200\":0,\"errors\":0,"));
  EXPECT_EQ(Curl(Url("/ping")), "200 {\"status\":\"healthy\"}");
}

TEST_F(ServerTest, AccessLogHasOneJsonLinePerRequest) {
  Curl("-H 'Content-Type: text/csv' --data-binary 'logged,1.2.3.4' " +
       Url("/endpoints/waf/invocations"));
  std::string log = ReadFile(TempDir() + "/access.jsonl");
  EXPECT_THAT(
      log, HasSubstr("\"method\":\"POST\",\"path\":\"/endpoints/waf/invocations\",\"status\":200,"
                     "\"route\":\"/endpoints/{name}/invocations\",\"model\":\"waf\",\"pairs\":1"));
}

// The error of a routed request and of one whose read failed (413 from the Content-Length,
// refused inside the header: no method or path yet): the answer's message, escaped once.
TEST_F(ServerTest, AccessLogCarriesTheErrorMessage) {
  Curl("-H 'Content-Type: text/csv' --data-binary 'a,1.2.3.4' " +
       Url("/endpoints/no%22pe/invocations"));
  std::string big = TempDir() + "/big_logged.csv";
  WriteFile(big, std::string(9 << 20, 'x'));
  Curl("-H 'Content-Type: text/csv' --data-binary @" + big + " " + Url("/invocations"));
  std::string log = ReadFile(TempDir() + "/access.jsonl");
  EXPECT_THAT(log, HasSubstr("\"path\":\"/endpoints/no%22pe/invocations\",\"status\":404,"
                             "\"route\":\"/endpoints/{name}/invocations\",\"pairs\":0,"));
  EXPECT_THAT(log, HasSubstr(",\"error\":\"no model named \\\"no%22pe\\\"\"}\n"));
  EXPECT_THAT(log, HasSubstr("\"method\":\"\",\"path\":\"\",\"status\":413,\"route\":\"other\","
                             "\"pairs\":0,\"bytes\":0,\"micros\":0,"
                             "\"error\":\"request body over the limit of 8388608 bytes\"}\n"));
}

// boto3's sagemaker-runtime client, unchanged, through --endpoint-url; with and without
// --auth-keys.
class AwsClientTest : public ServerTest {
 protected:
  static std::string InvokeWithBoto3(const std::string& python, const std::string& url,
                                     const std::string& key, const std::string& secret) {
    std::string script = TempDir() + "/invoke.py";
    WriteFile(
        script,
        "import sys, boto3, botocore\n"
        "c = boto3.client('sagemaker-runtime', endpoint_url=sys.argv[1], region_name='eu-west-1',\n"
        "    aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])\n"
        "try:\n"
        "    r = c.invoke_endpoint(EndpointName='ct', ContentType='text/csv', "
        "Accept='application/json',\n"
        "        Body=b'AIDAEXAMPLE,203.0.113.7')\n"
        "    print(r['ContentType'], r['Body'].read().decode())\n"
        "except botocore.exceptions.ClientError as e:\n"
        "    print('ERROR', e.response['ResponseMetadata']['HTTPStatusCode'])\n");
    return RunCommand(python + " " + script + " " + url + " " + key + " " + secret + " 2>&1")
        .output;
  }

  static bool HaveAwsCli() { return RunCommand("aws --version >/dev/null 2>&1").exit_code == 0; }

  // The shell command `aws sagemaker-runtime invoke-endpoint --endpoint-url URL ARGS` with key
  // AKIDSERVE and `secret`, no retry, and no configuration from this machine's files.
  static std::string AwsCliCommand(const std::string& url, const std::string& secret,
                                   const std::string& args) {
    return "AWS_ACCESS_KEY_ID=AKIDSERVE AWS_SECRET_ACCESS_KEY=" + secret +
           " AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1"
           " AWS_CONFIG_FILE=" +
           TempDir() + "/no_aws_config AWS_SHARED_CREDENTIALS_FILE=" + TempDir() +
           "/no_aws_credentials aws sagemaker-runtime invoke-endpoint --endpoint-url " + url + " " +
           args;
  }
  // Runs it; stdout and stderr.
  static CommandResult InvokeWithAwsCli(const std::string& url, const std::string& secret,
                                        const std::string& args) {
    return RunCommand(AwsCliCommand(url, secret, args) + " 2>&1");
  }
};

TEST_F(AwsClientTest, Boto3WithoutAuth) {
  std::string python = PythonWithBoto3();
  if (python.empty()) GTEST_SKIP() << "no python with boto3 on this machine: boto3 test skipped";
  EXPECT_EQ(
      InvokeWithBoto3(python, server_->url(), "AKIDANY", "anything"),
      "application/json " + Prediction(ExpectedScore(ct_, "AIDAEXAMPLE", "203.0.113.7")) + "\n");
}

TEST_F(AwsClientTest, Boto3AndAwsCliWithAuthKeys) {
  std::string python = PythonWithBoto3();
  if (python.empty())
    GTEST_SKIP() << "no python with boto3 on this machine: SigV4 client test skipped";
  std::string keys = TempDir() + "/keys.txt";
  WriteFile(keys, "# access keys\nAKIDSERVE secret-serve\n");
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--model", ct_, "--threads", "1", "--auth-keys", keys},
                           TempDir() + "/auth.log"));
  std::string expected = Prediction(ExpectedScore(ct_, "AIDAEXAMPLE", "203.0.113.7"));
  EXPECT_EQ(InvokeWithBoto3(python, server.url(), "AKIDSERVE", "secret-serve"),
            "application/json " + expected + "\n");
  EXPECT_EQ(InvokeWithBoto3(python, server.url(), "AKIDSERVE", "wrong-secret"), "ERROR 403\n");
  EXPECT_EQ(InvokeWithBoto3(python, server.url(), "AKIDOTHER", "secret-serve"), "ERROR 403\n");
  // Unsigned curl: 403; /ping stays open for health checks.
  EXPECT_THAT(
      RunCommand(
          "curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary 'u,1.2.3.4' " +
          server.url() + "/invocations")
          .output,
      HasSubstr("403"));
  EXPECT_EQ(RunCommand("curl -s -o /dev/null -w '%{http_code}' " + server.url() + "/ping").output,
            "200");

  if (RunCommand("aws --version >/dev/null 2>&1").exit_code != 0) {
    GTEST_SKIP() << "no aws CLI on this machine: aws sagemaker-runtime test skipped";
  }
  std::string out = TempDir() + "/aws_out.json";
  std::string body = TempDir() + "/aws_body.csv";
  WriteFile(body, "AIDAEXAMPLE,203.0.113.7");
  // fileb:// sends the bytes as they are with both CLI v1 and v2.
  auto aws = [&](const std::string& secret) {
    return InvokeWithAwsCli(
        server.url(), secret,
        "--endpoint-name ct --content-type text/csv --body fileb://" + body + " " + out);
  };
  CommandResult result = aws("secret-serve");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(ReadFile(out), expected);
  CommandResult wrong = aws("nope");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_THAT(wrong.output,
              HasSubstr("An error occurred (AccessDeniedException) when calling the InvokeEndpoint "
                        "operation: forbidden: signature does not match"));
  EXPECT_EQ(server.Stop(), 0);
}

// Every error status an InvokeEndpoint call can meet reaches boto3 and the AWS CLI with its
// code and the server's own reason. (With the body {"error": ...} alone, botocore found no
// "message" and no x-amzn-ErrorType: "An error occurred (404) ...: " and nothing more.)
// 413 and 431 are answered while the request is read, the others by the router.
class AwsErrorTest : public AwsClientTest {
 protected:
  struct Case {
    const char* name = "";
    int status = 0;
    const char* code = "";       // e.response['Error']['Code']; the CLI prints it in parentheses
    const char* exception = "";  // the class boto3 raises: the service model's, else ClientError
    std::string message;         // the server's reason; for 400 a part of it (the CSV reader's)
    std::string secret = "secret-serve";
    std::string endpoint = "ct";
    std::string content_type = "text/csv";
    std::string accept = "application/json";
    std::string custom_attributes;
    std::string body = "AIDAEXAMPLE,203.0.113.7";
  };

  static Case Make(const char* name, int status, const char* code, const char* exception,
                   std::string message) {
    Case c;
    c.name = name;
    c.status = status;
    c.code = code;
    c.exception = exception;
    c.message = std::move(message);
    return c;
  }

  static std::vector<Case> Cases() {
    std::string rows;
    for (int i = 0; i < 120000; ++i) rows += "a,1.2.3.4\n";  // 1.2 MB: over --max-body-mb 1
    std::string verbose_rows;
    for (int i = 0; i < 5000; ++i) verbose_rows += "a,1.2.3.4\n";  // about 1.5 MB of verbose answer
    std::vector<Case> cases;
    cases.push_back(Make("bad_ip", 400, "ValidationError", "ValidationError", "300.1.2.3"));
    cases.back().body = "AIDAEXAMPLE,300.1.2.3";
    cases.push_back(Make("wrong_secret", 403, "AccessDeniedException", "ClientError",
                         "forbidden: signature does not match"));
    cases.back().secret = "wrong-secret";
    cases.push_back(
        Make("no_model", 404, "ValidationError", "ValidationError", "no model named \"nosuch\""));
    cases.back().endpoint = "nosuch";
    cases.push_back(
        Make("accept", 406, "ValidationError", "ValidationError",
             "unsupported Accept \"text/html\"; use application/json or application/jsonlines"));
    cases.back().accept = "text/html";
    cases.push_back(Make("too_large", 413, "ValidationError", "ValidationError",
                         "request body over the limit of 1048576 bytes"));
    cases.back().body = rows;
    cases.push_back(Make("content_type", 415, "ValidationError", "ValidationError",
                         "unsupported Content-Type \"image/png\"; use text/csv, application/json "
                         "or application/jsonlines"));
    cases.back().content_type = "image/png";
    cases.push_back(Make("header_too_large", 431, "ValidationError", "ValidationError",
                         "request header too large"));
    cases.back().custom_attributes = std::string(20000, 'x');
    cases.push_back(
        Make("busy", 503, "ServiceUnavailable", "ServiceUnavailable",
             "server busy: answers in flight are over the server's memory budget; retry later"));
    cases.back().accept = "application/json; verbose=True";
    cases.back().body = verbose_rows;
    return cases;
  }

  void SetUp() override {
    python_ = PythonWithBoto3();
    if (python_.empty())
      GTEST_SKIP() << "no python with boto3 on this machine: boto3 and AWS CLI error test skipped";
    std::string keys = TempDir() + "/error_keys.txt";
    WriteFile(keys, "AKIDSERVE secret-serve\n");
    ASSERT_TRUE(error_server_.Start({"--model", ct_, "--threads", "1", "--auth-keys", keys,
                                     "--max-body-mb", "1", "--response-budget-mb", "1"},
                                    TempDir() + "/errors.log"));
    for (const Case& c : Cases()) WriteFile(TempDir() + "/error_" + c.name + ".body", c.body);
  }
  void TearDown() override {
    if (error_server_.pid() > 0) {
      EXPECT_EQ(error_server_.Stop(), 0);
    }
  }

  std::string python_;
  ServerProcess error_server_;
};

TEST_F(AwsErrorTest, Boto3ClientErrorHasTheCodeAndTheServersReason) {
  // One python for every case (a tab-separated line each), three lines printed per case.
  std::string script = TempDir() + "/errors.py";
  WriteFile(
      script,
      "import sys, boto3, botocore\n"
      "for line in open(sys.argv[2]):\n"
      "    secret, endpoint, ctype, accept, attributes, body = line.rstrip('\\n').split('\\t')\n"
      "    c = boto3.client('sagemaker-runtime', endpoint_url=sys.argv[1], "
      "region_name='eu-west-1',\n"
      "        aws_access_key_id='AKIDSERVE', aws_secret_access_key=secret,\n"
      "        config=botocore.config.Config(retries={'total_max_attempts': 1}))\n"
      "    args = dict(EndpointName=endpoint, ContentType=ctype, Accept=accept, Body=open(body, "
      "'rb').read())\n"
      "    if attributes: args['CustomAttributes'] = attributes\n"
      "    try:\n"
      "        c.invoke_endpoint(**args)\n"
      "        print('OK\\n\\n')\n"
      "    except botocore.exceptions.ClientError as e:\n"
      "        print(e.response['ResponseMetadata']['HTTPStatusCode'], type(e).__name__)\n"
      "        print(e.response['Error']['Code'])\n"
      "        print(e.response['Error']['Message'])\n");
  std::vector<Case> cases = Cases();
  std::string table;
  for (const Case& c : cases) {
    table += c.secret + "\t" + c.endpoint + "\t" + c.content_type + "\t" + c.accept + "\t" +
             c.custom_attributes + "\t" + TempDir() + "/error_" + c.name + ".body\n";
  }
  WriteFile(TempDir() + "/errors.tsv", table);
  CommandResult result = RunCommand(python_ + " " + script + " " + error_server_.url() + " " +
                                    TempDir() + "/errors.tsv 2>&1");
  std::istringstream lines(result.output);
  for (const Case& c : cases) {
    std::string status, code, message;
    std::getline(lines, status);
    std::getline(lines, code);
    std::getline(lines, message);
    EXPECT_EQ(status, std::to_string(c.status) + " " + c.exception)
        << c.name << ": " << result.output;
    EXPECT_EQ(code, c.code) << c.name;
    if (c.status == 400) {
      EXPECT_THAT(message, HasSubstr(c.message)) << c.name;
    } else {
      EXPECT_EQ(message, c.message) << c.name;
    }
  }
}

TEST_F(AwsErrorTest, AwsCliPrintsTheCodeAndTheServersReason) {
  if (!HaveAwsCli())
    GTEST_SKIP() << "no aws CLI on this machine: aws sagemaker-runtime error test skipped";
  // Every case at once (each CLI start is about a second of CPU); each prints to its own file,
  // then its exit code.
  std::vector<Case> cases = Cases();
  std::string script;
  for (const Case& c : cases) {
    std::string args = "--endpoint-name " + c.endpoint + " --content-type '" + c.content_type +
                       "' --accept '" + c.accept + "' --body fileb://" + TempDir() + "/error_" +
                       c.name + ".body " + TempDir() + "/cli_" + c.name + ".out";
    if (!c.custom_attributes.empty()) args += " --custom-attributes " + c.custom_attributes;
    std::string printed = TempDir() + "/cli_" + c.name + ".printed";
    script += "(" + AwsCliCommand(error_server_.url(), c.secret, args) + " >" + printed +
              " 2>&1; echo \"exit $?\" >>" + printed + ") &\n";
  }
  RunCommand(script + "wait");
  for (const Case& c : cases) {
    std::string printed = ReadFile(TempDir() + "/cli_" + c.name + ".printed");
    EXPECT_THAT(printed, Not(HasSubstr("exit 0\n"))) << c.name;
    // A retryable code (503) adds " (reached max retries: 0)" before the colon.
    EXPECT_THAT(printed, HasSubstr(std::string("An error occurred (") + c.code +
                                   ") when calling the InvokeEndpoint operation"))
        << c.name;
    EXPECT_THAT(printed, HasSubstr(c.status == 400 ? c.message : ": " + c.message + "\n"))
        << c.name;
  }
}

TEST(ServerReload, SighupUnderLoadSwapsModelsAndLosesNothing) {
  std::string dir = TempDir();
  std::string file = dir + "/reload.ipinsights";
  SmallModel(31)->Save(file);
  std::string old_score = Prediction(ExpectedScore(file, "u", "1.2.3.4"));
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--model", file, "--threads", "2", "--admin-token", "tok"},
                           dir + "/reload.log"));
  Load load(server.port(), 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(load.last(), old_score);
  // Replace the file atomically, then SIGHUP.
  SmallModel(32)->Save(dir + "/reload.tmp");
  std::filesystem::rename(dir + "/reload.tmp", file);
  std::string new_score = Prediction(ExpectedScore(file, "u", "1.2.3.4"));
  ASSERT_NE(new_score, old_score);
  kill(server.pid(), SIGHUP);
  for (int i = 0; i < 200 && load.last() != new_score; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(load.last(), new_score);
  // A broken file: the reload fails, the model keeps serving; then /admin/reload with the token.
  WriteFile(file, "not a model");
  kill(server.pid(), SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(load.last(), new_score);
  EXPECT_THAT(RunCommand("curl -s " + server.url() + "/metrics").output,
              HasSubstr("ipinsights_model_load_failures_total{model=\"reload\"} 1"));
  SmallModel(33)->Save(file);
  EXPECT_EQ(
      RunCommand("curl -s -X POST -H 'Authorization: Bearer tok' " + server.url() + "/admin/reload")
          .output,
      "{\"reloaded\":[\"reload\"],\"failed\":[]}");
  // The load's last answer may be from a request sent before the reload: wait for a newer one.
  const std::string reloaded_score = Prediction(ExpectedScore(file, "u", "1.2.3.4"));
  for (int i = 0; i < 200 && load.last() != reloaded_score; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(load.last(), reloaded_score);
  load.Stop();
  EXPECT_EQ(load.failed_, 0);
  EXPECT_GT(load.ok_, 100);
  EXPECT_THAT(server.log(), HasSubstr("reload failed, the previous model keeps serving: reload:"));
  EXPECT_EQ(server.Stop(), 0);
}

TEST(ServerShutdown, SigtermCompletesInFlightRequestsAndBatchesDoNotBlockOthers) {
  std::string dir = TempDir();
  std::string file = dir + "/term.ipinsights";
  SmallModel(41, 64)->Save(file);
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--model", file, "--threads", "1"}, dir + "/term.log"));
  std::string body;
  for (int i = 0; i < 120000; ++i)
    body += "user" + std::to_string(i) + ",10.0." + std::to_string(i % 256) + ".1\n";
  std::string csv = dir + "/term.csv";
  WriteFile(csv, body);
  // Verbose 120,000 rows of 64-dim embeddings: long enough to be in flight at SIGTERM.
  std::atomic<bool> done{false};
  std::string result;
  std::thread client([&] {
    result =
        RunCommand(
            "curl -s -o /dev/null -w '%{http_code} %{size_download}' -H 'Content-Type: text/csv' "
            "-H 'Accept: application/jsonlines; verbose=True' --data-binary @" +
            csv + " " + server.url() + "/invocations")
            .output;
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  // The batch runs off the (single) I/O thread: a small request is answered while it is
  // still in flight.
  EXPECT_EQ(RunCommand("curl -s " + server.url() + "/ping").output, "{\"status\":\"healthy\"}");
  EXPECT_FALSE(done) << "the batch finished before the ping (or before SIGTERM); make it bigger";
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  client.join();
  EXPECT_THAT(result, StartsWith("200 "));
  EXPECT_GT(std::atoll(result.c_str() + 4), 120000LL * 64 * 2 * 5);
  // Stopped: nothing listens any more.
  EXPECT_EQ(Connect(server.port()), -1);
}

TEST(ServerTls, ServesHttpsWithCertAndKey) {
  std::string dir = TempDir();
  if (RunCommand("openssl version >/dev/null 2>&1").exit_code != 0)
    GTEST_SKIP() << "no openssl CLI: TLS test skipped";
  ASSERT_EQ(
      RunCommand("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -keyout " +
                 dir + "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1")
          .exit_code,
      0);
  std::string file = dir + "/tls.ipinsights";
  SmallModel(61)->Save(file);
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--model", file, "--threads", "1", "--tls-cert", dir + "/cert.pem",
                            "--tls-key", dir + "/key.pem"},
                           dir + "/tls.log"));
  EXPECT_THAT(server.log(), HasSubstr("listening on https://127.0.0.1:"));
  std::string url = "https://127.0.0.1:" + std::to_string(server.port());
  EXPECT_EQ(
      RunCommand(
          "curl -s --cacert " + dir +
          "/cert.pem --resolve localhost:" + std::to_string(server.port()) +
          ":127.0.0.1 -H 'Content-Type: text/csv' --data-binary 'u,1.2.3.4' https://localhost:" +
          std::to_string(server.port()) + "/invocations")
          .output,
      Prediction(ExpectedScore(file, "u", "1.2.3.4")));
  // Plain HTTP to the TLS port is refused without harm.
  EXPECT_NE(
      RunCommand("curl -s -m 3 http://127.0.0.1:" + std::to_string(server.port()) + "/ping").output,
      "{\"status\":\"healthy\"}");
  EXPECT_EQ(RunCommand("curl -s -k " + url + "/ping").output, "{\"status\":\"healthy\"}");
  EXPECT_EQ(server.Stop(), 0);
}

// Review L10: TLS 1.2 offers only forward-secret AEAD suites (static RSA and CBC-SHA1 refused).
TEST(ServerTls, Tls12OffersOnlyForwardSecretAeadSuites) {
  std::string dir = TempDir();
  if (RunCommand("openssl version >/dev/null 2>&1").exit_code != 0)
    GTEST_SKIP() << "no openssl CLI: TLS test skipped";
  ASSERT_EQ(
      RunCommand("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -keyout " +
                 dir + "/suites_key.pem -out " + dir + "/suites_cert.pem >/dev/null 2>&1")
          .exit_code,
      0);
  std::string file = dir + "/suites.ipinsights";
  SmallModel(62)->Save(file);
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--model", file, "--threads", "1", "--tls-cert",
                            dir + "/suites_cert.pem", "--tls-key", dir + "/suites_key.pem"},
                           dir + "/suites.log"));
  auto handshake = [&](const std::string& options) {
    return RunCommand("echo | timeout 10 openssl s_client -connect 127.0.0.1:" +
                      std::to_string(server.port()) + " " + options + " >/dev/null 2>&1")
        .exit_code;
  };
  EXPECT_NE(handshake("-tls1_2 -cipher AES128-SHA"), 0);
  EXPECT_NE(handshake("-tls1_2 -cipher AES256-GCM-SHA384"), 0);  // AEAD, but no forward secrecy
  EXPECT_EQ(handshake("-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256"), 0);
  EXPECT_EQ(handshake("-tls1_3"), 0);
  EXPECT_EQ(server.Stop(), 0);
}

// Review L13: an absolute-form target (RFC 7230 section 5.3.2) is routed by its path.
TEST_F(ServerTest, AbsoluteFormTargetIsRoutedByItsPath) {
  for (std::string target : {"http://evil/ping", "HTTP://evil:80/ping?x=1", "https://h/ping"}) {
    int fd = Connect(server_->port());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, "GET " + target + " HTTP/1.1\r\nHost: evil\r\n\r\n"));
    std::string pending;
    std::string response = ReadResponse(fd, &pending);
    close(fd);
    EXPECT_THAT(response, StartsWith("HTTP/1.1 200 ")) << target;
    EXPECT_THAT(response, HasSubstr("{\"status\":\"healthy\"}")) << target;
  }
  EXPECT_THAT(Curl("-H 'Content-Type: text/csv' --data-binary 'u,1.2.3.4' --request-target "
                   "'http://localhost/endpoints/waf/invocations' " +
                   server_->url()),
              StartsWith("200 {\"predictions\""));
  EXPECT_THAT(Curl("--request-target 'http://localhost' " + server_->url()), StartsWith("404 "));
}

TEST(ServerContainerMode, ServesEveryModelInSmRoot) {
  std::string root = TempDir() + "/opt_ml";
  std::filesystem::create_directories(root + "/model");
  SmallModel(51)->Save(root + "/model/cloudtrail.ipinsights");
  SmallModel(52)->Save(root + "/model/waf.ipinsights");
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--threads", "1"}, TempDir() + "/container.log", {"SM_ROOT=" + root}));
  EXPECT_THAT(server.log(), HasSubstr("listening on http://0.0.0.0:"));
  std::string out = RunCommand("curl -s -H 'Content-Type: text/csv' --data-binary 'u,1.2.3.4' " +
                               server.url() + "/endpoints/waf/invocations")
                        .output;
  EXPECT_EQ(out, Prediction(ExpectedScore(root + "/model/waf.ipinsights", "u", "1.2.3.4")));
  EXPECT_EQ(server.Stop(SIGINT), 0);
}

}  // namespace
}  // namespace ipinsights
