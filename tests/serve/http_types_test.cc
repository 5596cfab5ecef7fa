// SetError writes the error shape SageMaker Runtime's clients parse (botocore's rest-json
// parser: the code from x-amzn-ErrorType, the text from "message"); AwsErrorType maps each
// status the server answers to its code.
#include "ipinsights/serve/http_types.h"

#include <gtest/gtest.h>

#include <string>

namespace ipinsights {
namespace {

// Every value of the header `name`, joined by '|'.
std::string Headers(const HttpResponse& response, std::string_view name) {
  std::string values;
  for (const auto& [key, value] : response.headers) {
    if (key != name) continue;
    if (!values.empty()) values += '|';
    values += value;
  }
  return values;
}

TEST(SetError, BodyHasErrorAndMessageAndHeaderHasTheErrorType) {
  HttpResponse response;
  SetError(415, "unsupported Content-Type \"image/png\"", &response);
  EXPECT_EQ(response.status, 415);
  EXPECT_STREQ(response.content_type, "application/json");
  EXPECT_EQ(response.body,
            "{\"error\":\"unsupported Content-Type \\\"image/png\\\"\","
            "\"message\":\"unsupported Content-Type \\\"image/png\\\"\"}");
  EXPECT_EQ(Headers(response, "x-amzn-ErrorType"), "ValidationError");
  EXPECT_EQ(response.error, "unsupported Content-Type \"image/png\"");
}

TEST(SetError, ReplacesAnEarlierErrorAndKeepsOtherHeaders) {
  HttpResponse response;
  response.body = "{\"predictions\":[]}";
  response.headers.emplace_back("X-Amzn-Invoked-Production-Variant", "AllTraffic");
  SetError(400, "first", &response);
  SetError(500, "internal error: second", &response);
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body,
            "{\"error\":\"internal error: second\",\"message\":\"internal error: second\"}");
  EXPECT_EQ(Headers(response, "x-amzn-ErrorType"), "InternalFailure");
  EXPECT_EQ(Headers(response, "X-Amzn-Invoked-Production-Variant"), "AllTraffic");
  EXPECT_EQ(response.error, "internal error: second");
}

TEST(SetError, ResetClearsTheError) {
  HttpResponse response;
  SetError(404, "not found: /x", &response);
  response.Reset();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.error, "");
  EXPECT_TRUE(response.headers.empty());
}

TEST(AwsErrorType, ForbiddenIsAccessDeniedException) {
  EXPECT_STREQ(AwsErrorType(403), "AccessDeniedException");
}

TEST(AwsErrorType, ServiceUnavailableIs503) {
  EXPECT_STREQ(AwsErrorType(503), "ServiceUnavailable");
}

TEST(AwsErrorType, OtherServerErrorsAreInternalFailure) {
  EXPECT_STREQ(AwsErrorType(500), "InternalFailure");
  EXPECT_STREQ(AwsErrorType(502), "InternalFailure");
}

TEST(AwsErrorType, OtherClientErrorsAreValidationError) {
  for (int status : {400, 404, 405, 406, 413, 415, 429, 431}) {
    EXPECT_STREQ(AwsErrorType(status), "ValidationError") << status;
  }
}

}  // namespace
}  // namespace ipinsights
