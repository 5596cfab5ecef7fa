#include "ipinsights/serve/http_types.h"

#include <string_view>

#include "ipinsights/base/json_text.h"

#include "ipinsights/serve/response_codec.h"

namespace ipinsights {

namespace {

// The error codes SageMaker Runtime answers with (botocore reads the code from this header,
// the text from the body's "message").
const char* ErrorType(int status) {
  switch (status) {
    case 403: return "AccessDeniedException";
    case 500: return "InternalFailure";
    case 503: return "ServiceUnavailable";
    default: return status >= 500 ? "InternalFailure" : "ValidationError";
  }
}

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
  std::erase_if(response->headers, [](const auto& header) { return std::string_view(header.first) == "x-amzn-ErrorType"; });
  response->headers.emplace_back("x-amzn-ErrorType", ErrorType(status));
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

}  // namespace ipinsights
