// HttpServer: the HTTP/1.1 listener behind `ipinsights serve` (Asio sockets and Beast's
// HTTP parser inside the .cc; per connection: read into a buffer, parse every whole request
// in it, answer each with one non-blocking write when the socket takes it, read again).
//
// - A fixed pool of threads, each running its own io_context; one acceptor hands each new
//   connection to the next thread in turn, and the connection stays there (no locks on the
//   request path, no thread per connection).
// - Keep-alive and pipelining (requests on one connection are answered in order), Expect:
//   100-continue, bodies up to max_body_bytes (413 beyond, without reading the body).
// - Timeouts: idle keep-alive, header, body; a slow or silent client is dropped (the connection is
//   closed), checked by one sweep per thread (up to an eighth of the shortest timeout late).
//   Header size is capped (431), and so are a chunk line (extensions) and a trailer: a
//   connection never buffers more than max_header_bytes + 64 KiB of unparsed input.
//   Malformed HTTP gets 400 and a close.
// - Server-wide memory budgets (503 with Retry-After beyond them): request bodies being
//   received (charged as they grow), and answers of 64 KiB or more until fully written.
// - A cap on open connections (split evenly over the threads, each thread enforcing its
//   share alone): at the cap a new connection first evicts the oldest idle keep-alive
//   connection of its thread, else the one whose request header has been pending longest,
//   else it is closed at once. Start() raises the soft RLIMIT_NOFILE to the hard limit and
//   lowers the cap (with a warning on stderr) to what the descriptor limit allows. When
//   accept still runs out of descriptors, accepting pauses for 100 ms and the oldest idle
//   connection of each thread is closed (one line on stderr per episode).
// - Optional TLS (PEM certificate chain and key).
// - Stop(): stop accepting, close idle connections, let in-flight requests finish (their
//   response says Connection: close), then the threads end and Wait() returns.
//
// Thread-safety: Start, Stop and Wait from one controlling thread; Stop may also be called
// from a signal-handling thread.
//
//   HttpServer server(router, metrics, nullptr, options);
//   uint16_t port = server.Start();   // throws Error when it cannot bind
//   ... server.Stop(); server.Wait();
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "ipinsights/serve/access_log.h"
#include "ipinsights/serve/byte_budget.h"
#include "ipinsights/serve/metrics.h"
#include "ipinsights/serve/router.h"

namespace ipinsights {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (see Start's result)
  size_t threads = 0;    // 0: every hardware thread
  size_t max_body_bytes = 6u << 20;
  size_t max_header_bytes = 16u << 10;
  size_t max_connections = 4096;                     // lowered to fit RLIMIT_NOFILE
  size_t max_buffered_body_bytes = size_t{1} << 30;  // request bodies, all connections
  size_t max_response_bytes = size_t{1} << 30;       // answers in flight, all connections
  // When set (it must outlive the server), the budget for answers in flight, shared with the
  // router (RouterOptions::answer_budget); max_response_bytes is then unused.
  ByteBudget* response_budget = nullptr;
  std::chrono::milliseconds idle_timeout{60000};    // waiting for the next request
  std::chrono::milliseconds header_timeout{10000};  // from its first byte to the end of its header
  std::chrono::milliseconds body_timeout{60000};    // reading the body
  std::string tls_cert_file;                        // both set: HTTPS
  std::string tls_key_file;
};

class HttpServer {
 public:
  // `access_log` may be null. The router, metrics and log must outlive the server.
  HttpServer(const Router& router, ServerMetrics& metrics, AccessLog* access_log,
             HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the threads. Returns the bound port. Throws Error.
  uint16_t Start();
  // Begins the graceful stop (idempotent, returns at once).
  void Stop();
  // Blocks until every thread has ended.
  void Wait();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipinsights
