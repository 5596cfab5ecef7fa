#include "ipinsights/storage/sigv4.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "s3_test_support.h"

namespace ipinsights {
namespace {

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
      out += buffer;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out + "\"";
}

std::string JsonPairs(const HeaderList& pairs) {
  std::string out = "[";
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i) out += ",";
    out += "[" + JsonString(pairs[i].first) + "," + JsonString(pairs[i].second) + "]";
  }
  return out + "]";
}

// Reads "field": "value" from one line of the script's JSON output.
std::string Field(const std::string& json, const std::string& name) {
  std::string marker = "\"" + name + "\": \"";
  size_t start = json.find(marker);
  if (start == std::string::npos) return "";
  start += marker.size();
  return json.substr(start, json.find('"', start) - start);
}

struct Case {
  std::string method;
  std::string host;
  std::string bucket;
  std::string key;
  HeaderList query;
  HeaderList headers;
  std::string body;
  std::string token;
  std::string region;
  bool sign_payload;
};

std::vector<Case> Cases() {
  return {
      {"GET",
       "127.0.0.1:9000",
       "trail-bucket",
       "AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/01/x.json.gz",
       {},
       {},
       "",
       "",
       "us-east-1",
       false},
      {"GET",
       "127.0.0.1:9000",
       "trail-bucket",
       "",
       {{"list-type", "2"},
        {"prefix", "AWSLogs/12 34/é+=&?"},
        {"delimiter", "/"},
        {"encoding-type", "url"},
        {"continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="}},
       {},
       "",
       "",
       "eu-west-1",
       false},
      {"GET",
       "s3.eu-central-1.amazonaws.com",
       "my.dotted.bucket",
       "dir/a b+c=d@e,f;g:h$i!j*k'l(m)n~o%p",
       {},
       {{"Range", "bytes=100-199"}, {"If-Match", "\"0123456789abcdef\""}},
       "",
       "FwoGZXIvYXdzEJr//////////wEaDOfake+session/token==",
       "eu-central-1",
       false},
      {"PUT",
       "127.0.0.1:9000",
       "out-bucket",
       "models/model.ipim",
       {{"partNumber", "3"}, {"uploadId", "2~abc/def+ghi=="}},
       {},
       std::string(1000, 'x') + "\n\x01\t",
       "",
       "us-east-1",
       true},
      {"POST",
       "127.0.0.1:9000",
       "out-bucket",
       "training/part 1.csv",
       {{"uploads", ""}},
       {},
       "",
       "",
       "ap-southeast-2",
       true},
      {"POST",
       "127.0.0.1:9000",
       "out-bucket",
       "k",
       {{"uploadId", "xyz"}},
       {{"Content-Type", "application/xml"}},
       "<CompleteMultipartUpload></CompleteMultipartUpload>",
       "token",
       "us-west-2",
       true},
      {"DELETE",
       "127.0.0.1:9000",
       "out-bucket",
       "日本/ключ.txt",
       {{"uploadId", "xyz"}},
       {},
       "",
       "",
       "us-east-1",
       false},
  };
}

TEST(UriEncode, KeepsUnreservedAndEncodesEverythingElse) {
  EXPECT_EQ(UriEncode("aZ09-_.~", false), "aZ09-_.~");
  EXPECT_EQ(UriEncode("a b/c+d=e", false), "a%20b%2Fc%2Bd%3De");
  EXPECT_EQ(UriEncodePath("a b/c+d"), "a%20b/c%2Bd");
  EXPECT_EQ(UriEncode("é", false), "%C3%A9");
}

TEST(UriEncode, DecodeInvertsEncode) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  EXPECT_EQ(UriDecode(UriEncode(all, false)), all);
  EXPECT_EQ(UriDecode("100%"), "100%");  // a stray percent stays
}

TEST(SigV4, AmzDateIsUtcBasicFormat) { EXPECT_EQ(AmzDate(1714564800), "20240501T120000Z"); }

TEST(SigV4, Sha256OfEmptyBody) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SigV4, SessionTokenIsSentAndSigned) {
  AwsCredentials credentials{"AKIDEXAMPLE", "secret", "the-token", std::nullopt, "test"};
  SignableRequest request{"GET", "h", "/b/k", {}, {}, std::string(kUnsignedPayload)};
  HeaderList headers = SignV4(request, credentials, "us-east-1", "s3", 1714564800);
  std::string authorization;
  bool token = false;
  for (const auto& [name, value] : headers) {
    if (name == "Authorization") authorization = value;
    if (name == "x-amz-security-token" && value == "the-token") token = true;
  }
  EXPECT_TRUE(token);
  EXPECT_NE(authorization.find("x-amz-security-token"), std::string::npos);
  EXPECT_EQ(authorization.find("secret"), std::string::npos);
}

TEST(SigV4, MatchesBotocore) {
  if (!s3test::PythonHas("botocore")) {
    GTEST_SKIP() << "botocore is not installed for python3: cannot compare with its SigV4 signer";
  }
  const int64_t now = 1714564800;
  AwsCredentials credentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "",
                             std::nullopt, "test"};
  std::string input;
  for (const Case& c : Cases()) {
    input += "{\"method\":" + JsonString(c.method) + ",\"host\":" + JsonString(c.host) +
             ",\"bucket\":" + JsonString(c.bucket) + ",\"key\":" + JsonString(c.key) +
             ",\"query\":" + JsonPairs(c.query) + ",\"headers\":" + JsonPairs(c.headers) +
             ",\"body\":" + JsonString(c.body) +
             ",\"access_key\":" + JsonString(credentials.access_key_id) +
             ",\"secret_key\":" + JsonString(credentials.secret_access_key) +
             ",\"token\":" + JsonString(c.token) + ",\"region\":" + JsonString(c.region) +
             ",\"time\":" + std::to_string(now) +
             ",\"sign_payload\":" + (c.sign_payload ? "true" : "false") + "}\n";
  }
  std::string input_path =
      ::testing::TempDir() + "sigv4_cases_" + std::to_string(::getpid()) + ".jsonl";
  std::ofstream(input_path) << input;
  int status = 0;
  std::string output = s3test::RunCommand(
      "python3 " + s3test::HelperScript("botocore_sign.py") + " < " + input_path, &status);
  std::remove(input_path.c_str());
  if (status == 3) GTEST_SKIP() << "botocore is not importable: cannot compare signatures";
  ASSERT_EQ(status, 0) << output;

  std::vector<std::string> lines;
  for (size_t start = 0; start < output.size();) {
    size_t end = output.find('\n', start);
    lines.push_back(output.substr(start, end - start));
    start = end == std::string::npos ? output.size() : end + 1;
  }
  const std::vector<Case> cases = Cases();
  ASSERT_EQ(lines.size(), cases.size()) << output;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    std::string path = "/" + c.bucket + (c.key.empty() ? "" : "/" + UriEncodePath(c.key));
    EXPECT_EQ(path, Field(lines[i], "path")) << "case " << i;
    AwsCredentials with_token = credentials;
    with_token.session_token = c.token;
    SignableRequest request{
        c.method, c.host,    path,
        c.query,  c.headers, c.sign_payload ? Sha256Hex(c.body) : std::string(kUnsignedPayload)};
    std::string authorization;
    for (const auto& [name, value] : SignV4(request, with_token, c.region, "s3", now)) {
      if (name == "Authorization") authorization = value;
    }
    EXPECT_EQ(authorization, Field(lines[i], "authorization")) << "case " << i;
  }
}

}  // namespace
}  // namespace ipinsights
