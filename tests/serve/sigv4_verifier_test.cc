#include "ipinsights/serve/sigv4_verifier.h"
#include "ipinsights/storage/sigv4.h"

#include <gtest/gtest.h>

namespace ipinsights {
namespace {

// AWS's published SigV4 test suite, case "get-vanilla".
TEST(SigV4Verifier, MatchesAwsTestSuiteGetVanilla) {
  SignedRequestView request;
  request.method = "GET";
  request.target = "/";
  request.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  std::string canonical = SigV4Verifier::CanonicalRequest(request, {"host", "x-amz-date"}, Sha256Hex(""));
  EXPECT_EQ(canonical,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  std::string string_to_sign = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" +
                               Sha256Hex(canonical);
  EXPECT_EQ(SigV4Verifier::Sign("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "service",
                                string_to_sign),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

class SigV4VerifierTest : public ::testing::Test {
 protected:
  // A request signed the way botocore signs sagemaker-runtime InvokeEndpoint.
  SignedRequestView Signed(std::string_view secret, std::string_view body) {
    body_ = body;
    request_.method = "POST";
    request_.target = "/endpoints/ct/invocations";
    request_.headers = {{"Host", "127.0.0.1:8080"}, {"Content-Type", "text/csv"}, {"X-Amz-Date", "20261128T052659Z"}};
    std::vector<std::string> signed_headers = {"content-type", "host", "x-amz-date"};
    std::string canonical = SigV4Verifier::CanonicalRequest(request_, signed_headers, Sha256Hex(body_));
    std::string string_to_sign = "AWS4-HMAC-SHA256\n20261128T052659Z\n20261128/eu-west-1/sagemaker/aws4_request\n" +
                                 Sha256Hex(canonical);
    authorization_ = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261128/eu-west-1/sagemaker/aws4_request, "
                     "SignedHeaders=content-type;host;x-amz-date, Signature=" +
                     SigV4Verifier::Sign(secret, "20261128", "eu-west-1", "sagemaker", string_to_sign);
    request_.headers.emplace_back("Authorization", authorization_);
    request_.body = body_;
    return request_;
  }

  static constexpr std::time_t kNow = 1795843619;  // 2026-11-28T05:26:59Z
  SigV4Verifier verifier_{{{"AKIDTEST", "secret-one"}}};
  SignedRequestView request_;
  std::string body_;
  std::string authorization_;
};

TEST_F(SigV4VerifierTest, AcceptsAValidSignature) {
  EXPECT_EQ(verifier_.Verify(Signed("secret-one", "u,1.2.3.4"), kNow), std::nullopt);
}

TEST_F(SigV4VerifierTest, RejectsWrongSecret) {
  EXPECT_EQ(verifier_.Verify(Signed("secret-two", "u,1.2.3.4"), kNow), "signature does not match");
}

TEST_F(SigV4VerifierTest, RejectsAlteredBody) {
  SignedRequestView request = Signed("secret-one", "u,1.2.3.4");
  request.body = "u,6.6.6.6";
  EXPECT_EQ(verifier_.Verify(request, kNow), "signature does not match");
}

TEST_F(SigV4VerifierTest, RejectsSkewedClock) {
  EXPECT_EQ(verifier_.Verify(Signed("secret-one", "x"), kNow + 3600), "request time too skewed (X-Amz-Date)");
}

TEST_F(SigV4VerifierTest, RejectsMissingHeader) {
  SignedRequestView request;
  request.method = "POST";
  request.target = "/invocations";
  EXPECT_EQ(verifier_.Verify(request, kNow), "missing Authorization (AWS SigV4) header");
}

}  // namespace
}  // namespace ipinsights
