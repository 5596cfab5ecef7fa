// HttpRequestView / HttpResponse: the transport-neutral request and response the router
// works on, so that routing is a pure function testable without sockets (and without Beast
// types in our headers). SetError writes every error answer, in SageMaker Runtime's shape.
//
// Thread-safety: plain values, used by one request at a time.
//
//   HttpRequestView request{"POST", "/invocations"};
//   request.content_type = "text/csv";
//   request.body = "user1,1.2.3.4\n";
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ipinsights {

struct HttpRequestView {
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // path and query, as received
  std::string_view content_type;
  std::string_view accept;
  std::string_view authorization;
  std::string_view admin_token;  // X-Admin-Token
  // Every header, in the order received (SigV4 needs them all); may be left empty when
  // authentication is off.
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string_view body;
};

struct HttpResponse {
  int status = 200;
  const char* content_type = "application/json";
  std::string body;
  // Extra headers (name: a static string, value).
  std::vector<std::pair<const char*, std::string>> headers;
  // An error answer's message, as SetError put it in the body (unescaped); empty otherwise.
  // The access log takes it from here.
  std::string error;

  void Reset() {
    status = 200;
    content_type = "application/json";
    body.clear();
    headers.clear();
    error.clear();
  }
};

// Fills `response` with an error answer in the shape SageMaker Runtime's clients parse: the
// header x-amzn-ErrorType: AwsErrorType(status) (replacing an earlier one) and the body
// {"error": message, "message": message}. boto3 and the AWS CLI read "message" (and the
// code from the header); "error" is for curl users and scripts written against earlier
// versions. Other headers already set are kept. Sets response->error to `message`.
void SetError(int status, std::string_view message, HttpResponse* response);

// The x-amzn-ErrorType of an error status, from SageMaker Runtime's service model:
// 403 AccessDeniedException, 503 ServiceUnavailable, other 5xx InternalFailure, other 4xx
// ValidationError.
const char* AwsErrorType(int status);

// The reason phrase of a status code ("Not Found").
const char* ReasonPhrase(int status);

}  // namespace ipinsights
