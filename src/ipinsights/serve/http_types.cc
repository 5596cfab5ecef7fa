#include "ipinsights/serve/http_types.h"

#include <string_view>

#include "ipinsights/base/json_text.h"

namespace ipinsights {
namespace {

// botocore's rest-json parser takes the error code from this header.
constexpr char kErrorTypeHeader[] = "x-amzn-ErrorType";

}  // namespace

void SetError(int status, std::string_view message, HttpResponse* response) {
  response->status = status;
  response->content_type = "application/json";
  response->error.assign(message);
  response->body.clear();
  response->body += "{\"error\":";
  AppendJsonString(&response->body, message);
  response->body += ",\"message\":";
  AppendJsonString(&response->body, message);
  response->body += '}';
  std::erase_if(response->headers, [](const auto& header) {
    return std::string_view(header.first) == std::string_view(kErrorTypeHeader);
  });
  response->headers.emplace_back(kErrorTypeHeader, AwsErrorType(status));
}

const char* AwsErrorType(int status) {
  // The error shapes of botocore's sagemaker-runtime model (InvokeEndpoint): ValidationError
  // (400), InternalFailure (500), ServiceUnavailable (503); AccessDeniedException is what AWS
  // services answer to a refused signature. ModelError (424) means "the container answered an
  // error" and is SageMaker's to send, not the container's.
  if (status == 403) return "AccessDeniedException";
  if (status == 503) return "ServiceUnavailable";
  if (status >= 500) return "InternalFailure";
  return "ValidationError";
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

}  // namespace ipinsights
