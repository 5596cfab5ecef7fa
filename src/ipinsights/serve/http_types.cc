#include "ipinsights/serve/http_types.h"
#include "ipinsights/base/json_text.h"

#include "ipinsights/serve/response_codec.h"

namespace ipinsights {

void SetError(int status, std::string_view message, HttpResponse* response) {
  response->status = status;
  response->content_type = "application/json";
  response->error.assign(message);
  response->body.clear();
  response->body += "{\"error\":";
  AppendJsonString(&response->body, message);
  response->body += '}';
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
