#include "ipinsights/serve/http_server.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <list>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "ipinsights/base/error.h"
#include "ipinsights/base/parallel.h"
#include "ipinsights/serve/http_request_parser.h"
#include "ipinsights/serve/read_error.h"

namespace ipinsights {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// Streams bound to a concrete io_context executor rather than the type-erased
// any_io_executor: copying and destroying that erased executor on every operation showed
// up at about 7% of the CPU in profiles of one-pair requests.
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using PlainStream = Socket;
using TlsStream = beast::ssl_stream<Socket>;
using Clock = std::chrono::steady_clock;
using namespace std::string_view_literals;

namespace {

class SessionBase;

// Request bodies from this size on are handled on the batch pool, off the I/O threads.
constexpr size_t kOffloadBodyBytes = 64 << 10;
// Bytes asked of the socket per read (more when the buffer already has room).
constexpr size_t kReadBytes = 64 << 10;
// How long an answered error request may keep sending what we will not read.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr Clock::time_point kNever = Clock::time_point::max();
// Answers from this size on are charged to the response budget until fully written.
constexpr size_t kChargedResponseBytes = 64 << 10;
// How long accepting pauses when the process is out of file descriptors.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);
// At most one line per this interval about failing accepts.
constexpr auto kAcceptLogEvery = std::chrono::seconds(10);
using Timer = asio::basic_waitable_timer<Clock, asio::wait_traits<Clock>, Executor>;

// One thread and its io_context; the sessions it owns are touched only on its thread.
// Timeouts are deadlines on the sessions, checked by one periodic sweep per thread, rather
// than a timer armed and cancelled around every read and write: on one-pair requests those
// timer operations cost more than the request's own work.
struct Worker {
  asio::io_context ioc{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard{
      ioc.get_executor()};
  Timer sweep_timer{ioc.get_executor()};
  Clock::duration sweep_interval{};
  std::list<SessionBase*> sessions;
  size_t active = 0;  // sessions not yet closing: what the connection cap counts
  bool draining = false;
  std::thread thread;

  void Sweep();
  // The oldest idle keep-alive connection, or null.
  SessionBase* OldestIdle() const;
  // The connection whose request header (or TLS handshake) has waited longest, or null.
  SessionBase* LongestHeaderPending() const;
  // Closes the oldest idle keep-alive connection, if any; true when one was closed.
  bool CloseOldestIdle();
};

}  // namespace

struct HttpServer::Impl {
  Impl(const Router& router, ServerMetrics& metrics, AccessLog* access_log,
       HttpServerOptions options)
      : router(router),
        metrics(metrics),
        access_log(access_log),
        options(std::move(options)),
        body_budget(this->options.max_buffered_body_bytes),
        own_response_budget(this->options.max_response_bytes),
        response_budget(this->options.response_budget != nullptr ? this->options.response_budget
                                                                 : &own_response_budget) {}

  void DoAccept();
  // accept failed with `ec` (other than a cancel): wait, and make room when out of descriptors.
  void OnAcceptError(error_code ec);
  void StartSession(Worker& worker, Socket socket);
  // Lowers options.max_connections to what RLIMIT_NOFILE allows (raising the soft limit first).
  void FitConnectionsToFileLimit();

  const Router& router;
  ServerMetrics& metrics;
  AccessLog* access_log;
  HttpServerOptions options;
  ByteBudget body_budget;
  ByteBudget own_response_budget;
  ByteBudget* response_budget;  // options.response_budget, or own_response_budget
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<tcp::acceptor> acceptor;  // runs on workers[0]
  std::optional<Timer> accept_timer;      // the pause after an accept error, on workers[0]
  size_t accept_failures = 0;             // since the last line logged about them (at most
                                          // one per kAcceptLogEvery)
  std::optional<Clock::time_point> accept_logged_at;  // when that line was logged
  std::optional<asio::ssl::context> tls;
  std::optional<asio::thread_pool> batch_pool;
  std::atomic<size_t> open_connections{0};
  std::atomic<bool> stopping{false};
  size_t next_worker = 0;
  bool started = false;
};

namespace {

using Impl = HttpServer::Impl;

class SessionBase {
 public:
  SessionBase(Impl& server, Worker& worker) : server_(server), worker_(worker) {
    position_ = worker_.sessions.insert(worker_.sessions.end(), this);
    ++worker_.active;
    server_.open_connections.fetch_add(1, std::memory_order_relaxed);
    server_.metrics.ConnectionOpened();
  }
  virtual ~SessionBase() {
    if (!closing_) --worker_.active;
    worker_.sessions.erase(position_);
    server_.open_connections.fetch_sub(1, std::memory_order_relaxed);
    server_.metrics.ConnectionClosed();
    // Draining and the last connection gone: nothing is left for the sweep to watch.
    if (worker_.draining && worker_.sessions.empty()) worker_.sweep_timer.cancel();
  }
  // Waiting for the first byte of a next request: safe to close without losing anything.
  bool idle() const { return idle_ && !closing_; }
  // Since when the request header (or the TLS handshake) has been awaited; kNever when no
  // header is pending.
  Clock::time_point header_since() const { return closing_ ? kNever : header_since_; }
  Clock::time_point deadline() const { return deadline_; }
  // Cancels every pending operation; the session then ends (on its worker's thread).
  virtual void Close() = 0;
  // The deadline passed: cancels the pending operation, whose handler sees timed_out_.
  virtual void Expire() = 0;

 protected:
  // From here on the session no longer counts against the connection cap.
  void SetClosing() {
    if (!closing_) --worker_.active;
    closing_ = true;
  }

  Impl& server_;
  Worker& worker_;
  Clock::time_point deadline_ = kNever;
  Clock::time_point header_since_ = kNever;
  bool idle_ = false;
  bool closing_ = false;
  bool timed_out_ = false;

 private:
  std::list<SessionBase*>::iterator position_;
};

void Worker::Sweep() {
  sweep_timer.expires_after(sweep_interval);
  sweep_timer.async_wait([this](error_code ec) {
    if (ec) return;
    Clock::time_point now = Clock::now();
    // Expire only cancels I/O (handlers run later), so the list does not change here.
    for (SessionBase* session : sessions) {
      if (session->deadline() <= now) session->Expire();
    }
    if (!(draining && sessions.empty())) Sweep();
  });
}

SessionBase* Worker::OldestIdle() const {
  for (SessionBase* session : sessions) {
    if (session->idle()) return session;
  }
  return nullptr;
}

SessionBase* Worker::LongestHeaderPending() const {
  SessionBase* longest = nullptr;
  for (SessionBase* session : sessions) {
    if (session->header_since() != kNever &&
        (longest == nullptr || session->header_since() < longest->header_since())) {
      longest = session;
    }
  }
  return longest;
}

bool Worker::CloseOldestIdle() {
  SessionBase* session = OldestIdle();
  if (session != nullptr) session->Close();
  return session != nullptr;
}

// One connection: read a request, route it, write the response, repeat. Requests are parsed
// straight from the connection's buffer (HttpRequestParser: views, no copies); a response
// that the socket takes at once (the usual case) is written without a round trip through the
// event loop, and the next pipelined request is then parsed in the same loop.
template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  template <class... Args>
  Session(Impl& server, Worker& worker, Args&&... args)
      : SessionBase(server, worker), stream_(std::forward<Args>(args)...) {}

  void Run() {
    if (server_.access_log != nullptr) {
      error_code ec;
      tcp::endpoint remote = socket().remote_endpoint(ec);
      if (!ec) remote_ = fmt::format("{}:{}", remote.address().to_string(), remote.port());
    }
    if constexpr (kTls) {
      header_since_ = Clock::now();
      deadline_ = header_since_ + server_.options.header_timeout;
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](error_code ec) {
                                if (ec) return self->Shutdown();
                                self->Pump();
                              });
    } else {
      // Responses are first tried with a non-blocking write (see WriteResponse).
      error_code ec;
      socket().non_blocking(true, ec);
      Pump();
    }
  }

  void Close() override {
    SetClosing();
    error_code ec;
    socket().close(ec);
  }

  ~Session() override { ReleaseResponse(); }

  void Expire() override {
    timed_out_ = true;
    deadline_ = kNever;
    error_code ec;
    socket().close(ec);
  }

 private:
  enum class Parsed { kRequest, kNeedMore, kStop };

  Socket& socket() { return beast::get_lowest_layer(stream_); }

  // Runs every request the buffer holds; reads when it needs more. Returns when a read or a
  // write is pending, a request went to the batch pool, or the session is ending.
  void Pump() {
    while (!closing_) {
      Parsed parsed = ParseBuffered();
      if (parsed == Parsed::kStop) return;
      if (parsed == Parsed::kNeedMore) return Read();
      if (!Process()) return;
    }
  }

  // Feeds the buffered bytes to the parser of the current request.
  Parsed ParseBuffered() {
    if (!parser_) {
      parser_.emplace(server_.options.max_header_bytes, server_.options.max_body_bytes,
                      &server_.body_budget);
      if (buffer_.size() > 0) StartClock();  // a pipelined request: already begun
    }
    while (!parser_->is_done()) {
      if (buffer_.size() == 0) return Parsed::kNeedMore;
      error_code ec;
      const bool had_header = parser_->is_header_done();
      size_t used =
          parser_->Put({static_cast<const char*>(buffer_.data().data()), buffer_.size()}, ec);
      buffer_.consume(used);
      if (ec == http::error::need_more) return Parsed::kNeedMore;
      if (ec) {
        OnReadError(ec, /*request_started=*/true);
        return Parsed::kStop;
      }
      if (used == 0) return Parsed::kNeedMore;
      if (!had_header && parser_->is_header_done()) {
        header_since_ = kNever;
        if (parser_->is_done()) break;
        deadline_ = Clock::now() + server_.options.body_timeout;
        if (parser_->expects_continue()) {
          static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
          asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                            [self = this->shared_from_this()](error_code ec, size_t) {
                              if (ec) return self->Shutdown();
                              self->Pump();
                            });
          return Parsed::kStop;
        }
      }
    }
    return Parsed::kRequest;
  }

  // A request's first bytes are here: its header timeout (and its latency) starts.
  void StartClock() {
    start_ = Clock::now();
    header_since_ = start_;
    deadline_ = start_ + server_.options.header_timeout;
  }

  void Read() {
    // Beast consumes body bytes as they come, so only a line it cannot end yet (the header,
    // a chunk line with its extensions, a trailer) stays in the buffer. The header has its
    // own limit; the other two would grow without one.
    if (buffer_.size() >= server_.options.max_header_bytes + kReadBytes) {
      return OnReadError(http::error::header_limit, /*request_started=*/true);
    }
    // The parsed header's views point into the buffer, which the read may overwrite or move.
    parser_->PinHeader();
    bool started = buffer_.size() > 0 || parser_->got_some();
    if (!started) {
      // Keep-alive idle: wait for the first byte under the idle timeout; only then does the
      // (shorter) header timeout start.
      idle_ = true;
      header_since_ = kNever;
      deadline_ = Clock::now() + server_.options.idle_timeout;
    }
    size_t room = std::max(kReadBytes, buffer_.capacity() - buffer_.size());
    stream_.async_read_some(
        buffer_.prepare(room),
        [self = this->shared_from_this()](error_code ec, size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(error_code ec, size_t n) {
    bool was_idle = idle_;
    idle_ = false;
    if (ec) {
      if (timed_out_) ec = beast::error::timeout;
      if (ec == asio::error::eof && !was_idle) {
        // The client ended mid-request: let the parser say whether the message was whole.
        parser_->put_eof(ec);
        if (!ec) ec = http::error::partial_message;
      }
      return OnReadError(ec, /*request_started=*/!was_idle);
    }
    buffer_.commit(n);
    if (was_idle) StartClock();
    Pump();
  }

  // A read failed: the client went away, timed out, or sent something that is not HTTP.
  void OnReadError(error_code ec, bool request_started) {
    const ReadErrorState state = ReadState(request_started);
    ReadErrorAnswer answer = ClassifyReadError(ec, state);
    std::string_view target = state.header_done ? parser_->view().target : std::string_view();
    if (answer.count == ReadErrorAnswer::kProtocolError) server_.metrics.ProtocolError();
    if (answer.count == ReadErrorAnswer::kRequest)
      server_.metrics.RecordRequest(Router::RouteOf(target), answer.status, 0.0);
    if (answer.action == ReadErrorAnswer::kNothing) return;
    if (answer.action == ReadErrorAnswer::kClose) return Shutdown();
    header_since_ = kNever;
    response_.headers.clear();  // none left over from the previous answer
    SetError(answer.status, answer.message, &response_);
    if (answer.retry_after) response_.headers.emplace_back("Retry-After", "1");
    keep_alive_ = false;
    linger_ = true;
    outcome_ = RequestOutcome();
    outcome_.error = response_.error;
    LogAccess(target, /*routed=*/false);
    WriteResponse(/*head=*/false, /*http10=*/false);
  }

  // What ClassifyReadError needs to know of this connection.
  ReadErrorState ReadState(bool request_started) const {
    return {.closing = closing_,
            .timed_out = timed_out_,
            .request_started = request_started,
            .buffer_empty = buffer_.size() == 0,
            .header_done = parser_ && parser_->is_header_done(),
            .over_budget = parser_ && parser_->over_budget(),
            .max_body_bytes = server_.options.max_body_bytes,
            .max_header_bytes = server_.options.max_header_bytes};
  }

  // A whole request is parsed: route it and answer. Returns true when the answer is written
  // and the next request may be read.
  bool Process() {
    const HttpRequestView& view = parser_->view();
    // The answers in flight already fill their budget: do not build another (maybe large) one.
    if (server_.response_budget->used() >= server_.response_budget->limit()) {
      ipinsights::Route route = Router::RouteOf(view.target);
      if (route == ipinsights::Route::kInvocations ||
          route == ipinsights::Route::kEndpointInvocations) {
        outcome_ = RequestOutcome();
        outcome_.route = route;
        Busy();
        server_.metrics.RecordRequest(route, 503, 0.0);
        return Respond();
      }
    }
    // Large batches (and model reloads) run on the batch pool, so that the other connections
    // of this I/O thread keep being served meanwhile. The work guard keeps this thread's
    // io_context running (even while draining) until the answer has been handed back.
    if (view.body.size() >= kOffloadBodyBytes || view.target.substr(0, 7) == "/admin/") {
      deadline_ = kNever;
      asio::post(*server_.batch_pool, [self = this->shared_from_this(),
                                       guard = asio::make_work_guard(worker_.ioc)]() mutable {
        self->Route();
        Worker& worker = self->worker_;
        asio::post(worker.ioc, [self = std::move(self), guard = std::move(guard)] {
          if (self->Respond()) self->Pump();
        });
      });
      return false;
    }
    Route();
    return Respond();
  }

  void Route() {
    outcome_ = RequestOutcome();
    try {
      outcome_ = server_.router.Handle(parser_->view(), &response_);
    } catch (const std::exception& e) {
      SetError(500, std::string("internal error: ") + e.what(), &response_);
      outcome_.error = response_.error;
    }
  }

  // Answers 503 (retry later) in place of what response_ held.
  void Busy() {
    std::string().swap(response_.body);  // give back a large refused answer's memory now
    response_.headers.clear();
    SetError(503, "server busy: answers in flight are over the server's memory budget; retry later",
             &response_);
    response_.headers.emplace_back("Retry-After", "1");
    outcome_.error = response_.error;
    outcome_.pairs = 0;
  }

  void ReleaseResponse() {
    server_.response_budget->Give(response_charge_);
    response_charge_ = 0;
  }

  bool Respond() {
    // A large answer may wait on a slow reader: it counts against the response budget until
    // it is written.
    if (response_.body.size() >= kChargedResponseBytes && parser_->method() != http::verb::head) {
      if (server_.response_budget->TryTake(response_.body.size())) {
        response_charge_ = response_.body.size();
      } else {
        Busy();
      }
    }
    keep_alive_ = parser_->keep_alive() && !worker_.draining;
    bool head = parser_->method() == http::verb::head;
    LogAccess(parser_->view().target, /*routed=*/true);
    return WriteResponse(head, parser_->version() == 10);
  }

  // The one access-log writer (nothing without --access-log): a line for the answer in
  // response_ and outcome_. `routed`: the request was read whole and routed, so its method,
  // answer size and latency are logged; an answer to a request whose read failed logs the
  // target (when its header arrived), route "other", and 0 bytes and micros.
  void LogAccess(std::string_view target, bool routed) {
    if (server_.access_log == nullptr) return;
    AccessLogEntry entry;
    entry.remote = remote_;
    entry.target = target;
    entry.status = response_.status;
    entry.route = RouteName(outcome_.route);
    entry.model = outcome_.model;
    entry.pairs = outcome_.pairs;
    entry.error = outcome_.error;
    if (routed) {
      entry.method = parser_->view().method;
      entry.response_bytes = response_.body.size();
      entry.micros =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_).count();
    }
    server_.access_log->Write(entry);
  }

  // Serialises the status line and headers by hand (a few appends into a reused string) and
  // writes them with the body in one gather write. Returns true when the whole response went
  // out at once and the session may go on to its next request.
  bool WriteResponse(bool head, bool http10) {
    header_.clear();
    header_.append(http10 ? "HTTP/1.0 " : "HTTP/1.1 ", 9);
    char number[24];
    header_.append(number,
                   std::to_chars(number, number + sizeof(number), response_.status).ptr - number);
    header_ += ' ';
    header_ += ReasonPhrase(response_.status);
    header_ += "\r\nServer: ipinsights\r\nContent-Type: "sv;
    header_ += response_.content_type;
    header_ += "\r\nContent-Length: "sv;
    header_.append(
        number, std::to_chars(number, number + sizeof(number), response_.body.size()).ptr - number);
    for (const auto& [name, value] : response_.headers) {
      header_ += "\r\n"sv;
      header_ += name;
      header_ += ": "sv;
      header_ += value;
    }
    if (!keep_alive_) {
      header_ += "\r\nConnection: close"sv;
    } else if (http10) {
      header_ += "\r\nConnection: keep-alive"sv;
    }
    header_ += "\r\n\r\n"sv;
    std::string_view body(response_.body.data(), head ? 0 : response_.body.size());
    size_t written = 0;
    if constexpr (!kTls) {
      // Most responses fit the socket's send buffer: one sendmsg, no event-loop round trip.
      std::array<asio::const_buffer, 2> buffers = {asio::buffer(header_),
                                                   asio::buffer(body.data(), body.size())};
      error_code ec;
      written = socket().write_some(buffers, ec);
      if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
        Shutdown();
        return false;
      }
      if (written == header_.size() + body.size()) return AfterWrite();
    }
    // The rest waits for the socket, under the body timeout.
    size_t header_left = header_.size() - std::min(written, header_.size());
    size_t body_skip = written - (header_.size() - header_left);
    std::array<asio::const_buffer, 2> rest = {
        asio::buffer(header_.data() + header_.size() - header_left, header_left),
        asio::buffer(body.data() + body_skip, body.size() - body_skip)};
    deadline_ = Clock::now() + server_.options.body_timeout;
    asio::async_write(stream_, rest, [self = this->shared_from_this()](error_code ec, size_t) {
      if (ec) return self->Shutdown();
      if (self->AfterWrite()) self->Pump();
    });
    return false;
  }

  // The response is out. Returns true when the session goes on to its next request.
  bool AfterWrite() {
    ReleaseResponse();
    parser_.reset();
    if (linger_) {
      Linger();
      return false;
    }
    if (!keep_alive_ || worker_.draining) {
      Shutdown();
      return false;
    }
    // Large bodies: do not keep a 6 MB request buffer per idle connection.
    if (buffer_.capacity() > (64u << 10) && buffer_.size() == 0) buffer_ = beast::flat_buffer();
    // Nor an answer's memory beyond what goes uncharged (up to 64 KiB per connection).
    if (response_.body.capacity() > kChargedResponseBytes) std::string().swap(response_.body);
    return true;
  }

  // After an error answer to a request whose body was not read (413, 400), closing at once
  // would make the kernel reset the connection over the unread bytes, and the client could
  // lose the answer. So: half-close, then discard what still arrives for a moment.
  void Linger() {
    if constexpr (kTls) {
      return Shutdown();
    } else {
      // Still counts against the connection cap (and cannot be evicted) until it closes, so
      // a flood of bad requests cannot open more sockets than the cap.
      linger_ = false;
      header_since_ = kNever;
      error_code ignored;
      socket().shutdown(Socket::shutdown_send, ignored);
      deadline_ = Clock::now() + kLingerTime;
      DiscardInput();
    }
  }

  void DiscardInput() {
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(kReadBytes),
                            [self = this->shared_from_this()](error_code ec, size_t) {
                              if (ec) {
                                error_code ignored;
                                self->SetClosing();
                                self->socket().close(ignored);
                                return;
                              }
                              self->DiscardInput();
                            });
  }

  void Shutdown() {
    deadline_ = kNever;
    if constexpr (kTls) {
      if (!closing_) {
        SetClosing();
        deadline_ = Clock::now() + kLingerTime;
        stream_.async_shutdown([self = this->shared_from_this()](error_code) {
          error_code ignored;
          self->socket().close(ignored);
        });
        return;
      }
    }
    SetClosing();
    error_code ignored;
    socket().shutdown(Socket::shutdown_send, ignored);
    socket().close(ignored);
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<HttpRequestParser> parser_;
  HttpResponse response_;
  RequestOutcome outcome_;
  size_t response_charge_ = 0;  // taken from the response budget for response_.body
  std::string header_;
  std::string remote_;
  Clock::time_point start_;
  bool keep_alive_ = true;
  bool linger_ = false;
};

}  // namespace

void HttpServer::Impl::DoAccept() {
  Worker& target = *workers[next_worker++ % workers.size()];
  // The new connection's socket lives on its worker's io_context from the start.
  auto socket = std::make_shared<Socket>(target.ioc.get_executor());
  acceptor->async_accept(*socket, [this, &target, socket](error_code ec) {
    if (ec == asio::error::operation_aborted || stopping.load()) return;
    if (ec == asio::error::connection_aborted || ec == asio::error::interrupted ||
        ec == asio::error::try_again) {
      return DoAccept();  // that one client is gone; the next may be there
    }
    if (ec) return OnAcceptError(ec);
    asio::post(target.ioc, [this, &target, socket] { StartSession(target, std::move(*socket)); });
    DoAccept();
  });
}

void HttpServer::Impl::OnAcceptError(error_code ec) {
  // EMFILE and the like: the pending connection stays queued, so trying again at once would
  // fail again at once (a busy loop). Pause; meanwhile each thread closes its oldest idle
  // keep-alive connection, and a thread that did so ends the pause early (one retry per
  // descriptor freed). One line per episode (failures less than kAcceptLogEvery apart).
  Clock::time_point now = Clock::now();
  ++accept_failures;
  if (!accept_logged_at || now - *accept_logged_at >= kAcceptLogEvery) {
    std::fprintf(
        stderr,
        "serve: accept: %s: pausing new connections up to %lld ms at a time and closing idle ones "
        "(%zu failed accepts since the last such line)\n",
        ec.message().c_str(), static_cast<long long>(kAcceptPause.count()), accept_failures);
    accept_failures = 0;
    accept_logged_at = now;
  }
  metrics.ConnectionRejected();
  if (ec == asio::error::no_descriptors || ec.value() == ENFILE ||
      ec == asio::error::no_buffer_space || ec == asio::error::no_memory) {
    for (auto& worker : workers) {
      Worker* w = worker.get();
      asio::post(w->ioc, [this, w] {
        if (w->CloseOldestIdle()) asio::post(workers[0]->ioc, [this] { accept_timer->cancel(); });
      });
    }
  }
  accept_timer->expires_after(kAcceptPause);
  accept_timer->async_wait([this](error_code) {
    // Expired, or cancelled because a descriptor was freed (or by Stop).
    if (stopping.load()) return;
    DoAccept();
  });
}

void HttpServer::Impl::StartSession(Worker& worker, Socket socket) {
  error_code ec;
  if (worker.draining) {
    socket.close(ec);
    return;
  }
  // The cap is split evenly across the threads, so that each thread decides alone.
  size_t cap = std::max<size_t>(1, (options.max_connections + workers.size() - 1) / workers.size());
  if (worker.active >= cap) {
    // At the cap: the oldest idle keep-alive connection makes room; without one, the
    // connection whose request header has been pending longest (so that connections that
    // trickle partial headers cannot lock new clients out); without one, refuse.
    SessionBase* victim = worker.OldestIdle();
    if (victim == nullptr) victim = worker.LongestHeaderPending();
    if (victim == nullptr) {
      metrics.ConnectionRejected();
      socket.close(ec);
      return;
    }
    victim->Close();
  }
  socket.set_option(tcp::no_delay(true), ec);
  if (tls) {
    std::make_shared<Session<TlsStream>>(*this, worker, std::move(socket), *tls)->Run();
  } else {
    std::make_shared<Session<PlainStream>>(*this, worker, std::move(socket))->Run();
  }
}

void HttpServer::Impl::FitConnectionsToFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    // The soft limit is often 1,024 while the hard one is much higher: take what is allowed.
    // (An unlimited hard limit cannot be the soft one: the kernel caps it at nr_open.)
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? std::max<rlim_t>(limit.rlim_cur, 1 << 20)
                                                      : limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur == RLIM_INFINITY) return;
  // Descriptors for everything but connections: models, logs, epoll and eventfds, TLS files.
  size_t reserve = std::min<size_t>(64, limit.rlim_cur / 4);
  size_t fits = limit.rlim_cur > reserve ? limit.rlim_cur - reserve : 1;
  if (options.max_connections > fits) {
    std::fprintf(stderr,
                 "serve: warning: %zu connections do not fit the open-file limit of %llu "
                 "(RLIMIT_NOFILE, less %zu "
                 "for the server's own files): capping connections at %zu\n",
                 options.max_connections, static_cast<unsigned long long>(limit.rlim_cur), reserve,
                 fits);
    options.max_connections = fits;
  }
}

HttpServer::HttpServer(const Router& router, ServerMetrics& metrics, AccessLog* access_log,
                       HttpServerOptions options)
    : impl_(std::make_unique<Impl>(router, metrics, access_log, std::move(options))) {}

HttpServer::~HttpServer() {
  if (impl_->started) {
    Stop();
    Wait();
  }
}

uint16_t HttpServer::Start() {
  Impl& s = *impl_;
  size_t threads = s.options.threads == 0 ? HardwareThreads() : s.options.threads;
  for (size_t i = 0; i < threads; ++i) s.workers.push_back(std::make_unique<Worker>());
  s.batch_pool.emplace(threads);
  try {
    if (!s.options.tls_cert_file.empty() || !s.options.tls_key_file.empty()) {
      if (s.options.tls_cert_file.empty() || s.options.tls_key_file.empty())
        throw UsageError("serve: --tls-cert and --tls-key go together");
      s.tls.emplace(asio::ssl::context::tls_server);
      s.tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1 | asio::ssl::context::no_compression);
      // TLS 1.2: forward-secret AEAD suites only (TLS 1.3's are all AEAD and ECDHE).
      if (SSL_CTX_set_cipher_list(s.tls->native_handle(), "ECDHE+AESGCM:ECDHE+CHACHA20") != 1)
        throw Error("serve: this OpenSSL has no ECDHE AEAD cipher suite");
      try {
        s.tls->use_certificate_chain_file(s.options.tls_cert_file);
      } catch (const boost::system::system_error& e) {
        throw Error(s.options.tls_cert_file + ": cannot use the TLS certificate: " + e.what());
      }
      try {
        s.tls->use_private_key_file(s.options.tls_key_file, asio::ssl::context::pem);
      } catch (const boost::system::system_error& e) {
        throw Error(s.options.tls_key_file + ": cannot use the TLS key: " + e.what());
      }
    }
    tcp::resolver resolver(s.workers[0]->ioc);
    auto endpoints = resolver.resolve(s.options.host, std::to_string(s.options.port),
                                      tcp::resolver::passive | tcp::resolver::numeric_service);
    tcp::endpoint endpoint = endpoints.begin()->endpoint();
    s.acceptor.emplace(s.workers[0]->ioc);
    s.acceptor->open(endpoint.protocol());
    s.acceptor->set_option(asio::socket_base::reuse_address(true));
    s.acceptor->bind(endpoint);
    s.acceptor->listen(asio::socket_base::max_listen_connections);
  } catch (const boost::system::system_error& e) {
    throw Error(fmt::format("serve: cannot listen on {}:{}: {}", s.options.host, s.options.port,
                            e.code().message()));
  }
  uint16_t port = s.acceptor->local_endpoint().port();
  s.FitConnectionsToFileLimit();
  s.accept_timer.emplace(s.workers[0]->ioc.get_executor());
  s.DoAccept();
  s.started = true;
  // Deadlines are checked 8 times per shortest timeout, at most every 250 ms and at least
  // every 10 ms: a timeout fires up to an eighth late.
  auto shortest =
      std::min({s.options.idle_timeout, s.options.header_timeout, s.options.body_timeout});
  auto interval = std::clamp<Clock::duration>(shortest / 8, std::chrono::milliseconds(10),
                                              std::chrono::milliseconds(250));
  for (auto& worker : s.workers) {
    Worker* w = worker.get();
    w->sweep_interval = interval;
    w->Sweep();
    w->thread = std::thread([w] {
      for (;;) {
        try {
          w->ioc.run();
          return;
        } catch (const std::exception& e) {
          std::fprintf(stderr, "serve: unexpected error in a connection: %s\n", e.what());
        }
      }
    });
  }
  return port;
}

void HttpServer::Stop() {
  Impl& s = *impl_;
  if (!s.started || s.stopping.exchange(true)) return;
  asio::post(s.workers[0]->ioc, [&s] {
    error_code ec;
    s.acceptor->close(ec);
    s.accept_timer->cancel();
  });
  for (auto& worker : s.workers) {
    Worker* w = worker.get();
    asio::post(w->ioc, [w] {
      w->draining = true;
      // Idle connections close now; busy ones close after their response.
      std::vector<SessionBase*> idle;
      for (SessionBase* session : w->sessions) {
        if (session->idle()) idle.push_back(session);
      }
      for (SessionBase* session : idle) session->Close();
      if (w->sessions.empty()) w->sweep_timer.cancel();
      w->guard.reset();
    });
  }
}

void HttpServer::Wait() {
  for (auto& worker : impl_->workers) {
    if (worker->thread.joinable()) worker->thread.join();
  }
  // Every batch has been answered (its work guard kept its I/O thread alive until then).
  if (impl_->batch_pool) impl_->batch_pool->join();
}

}  // namespace ipinsights
