// A small blocking HTTP client over libcurl (the one adapter of curl's errors to ours).
//
// Each thread keeps one curl handle; live keep-alive connections, DNS answers and TLS
// sessions sit in one cache shared by all threads, so a request reuses a warm connection
// whichever thread sends it. A 2xx body can be streamed to a sink as it arrives (nothing staged);
// other bodies (S3 error documents) are collected in HttpClientResponse::body, capped at 1 MiB.
// Failures below HTTP (refused, reset, timed out, body shorter than Content-Length) throw
// HttpTransportError; an HTTP error status is not an exception, the caller decides.
//
// Thread-safety: HttpPerform may be called from any number of threads at once.
//
//   HttpRequest request;
//   request.url = "http://127.0.0.1:9000/bucket/key";
//   HttpClientResponse response = HttpPerform(request, [&](std::string_view chunk) { out += chunk;
//   });
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ipinsights/base/error.h"

namespace ipinsights {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string url;
  HttpHeaders headers;
  std::string_view body;  // sent with PUT and POST; must outlive the call
  long connect_timeout_ms = 10'000;
  long timeout_ms = 0;        // the whole request; 0 = no limit (the stall limit applies)
  long stall_seconds = 60;    // abort when under 1 byte/s for this long
  bool bypass_proxy = false;  // ignore http_proxy/https_proxy (link-local metadata services)
  // Called once with the status and headers of a 2xx response, before its first body byte
  // (to reserve memory from Content-Length, or to check an ETag).
  std::function<void(long status, const HttpHeaders& headers)> on_headers;
};

// Not "HttpResponse": serve/http_types.h has one, and two types of one name in one binary
// (an ODR violation) made the debug ipinsights free the wrong vector and crash under ASan.
struct HttpClientResponse {
  long status = 0;
  HttpHeaders headers;      // names in lower case
  std::string body;         // the body when no sink took it (error documents)
  uint64_t body_bytes = 0;  // bytes of body received (streamed or not)

  // The header's value, or "" when absent. `name` in lower case.
  std::string Header(std::string_view name) const;
};

// Receives the body of a 2xx response, chunk by chunk. May throw; the transfer stops and
// the exception propagates out of HttpPerform.
using HttpBodySink = std::function<void(std::string_view chunk)>;

class HttpTransportError : public Error {
 public:
  using Error::Error;
  HttpTransportError(const std::string& message, bool refused)
      : Error(message), connection_refused_(refused) {}
  // Nothing listens at the address (the connection was refused): no server is running.
  bool connection_refused() const { return connection_refused_; }

 private:
  bool connection_refused_ = false;
};

// Performs the request. Throws HttpTransportError when no complete response arrived.
HttpClientResponse HttpPerform(const HttpRequest& request, const HttpBodySink& sink = {});

}  // namespace ipinsights
