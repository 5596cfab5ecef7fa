// HttpRequestParser: one HTTP/1.1 request, parsed by Beast's basic_parser straight into an
// HttpRequestView. Internal to the server (http_server.cc); Beast types are visible here.
//
// Why not Beast's http::request_parser: it builds a basic_fields container (an allocation
// per header field, a lookup set) and copies every body into a string. On one-pair requests
// that was a quarter of the server's own instructions. Here the method, target, header fields
// and, when it arrived whole in one piece, the body are views into the caller's bytes: a
// small request is served without copying it.
//
// The caller keeps the bytes given to Put alive and unmoved until the request is done, or
// calls PinHeader before it reuses them: what the header's views point at is then copied
// (the request line and the fields may come from different Put calls; body pieces that
// arrive in several reads are always copied).
//
// A body that is copied (it arrived in pieces) is charged to an optional server-wide
// ByteBudget as it grows (in doubling steps, never all of Content-Length at once); over the
// budget, Put fails with body_limit and over_budget() says why. The destructor gives the
// charge back.
//
// Thread-safety: one request, one thread (the ByteBudget is shared and thread-safe).
//
//   HttpRequestParser parser(16 << 10, 6 << 20);
//   size_t used = parser.Put(bytes, ec);   // ec: http::error::need_more = feed more bytes
//   if (parser.is_done()) Handle(parser.view());
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <cstddef>
#include <cstdint>
#include <forward_list>
#include <string>
#include <string_view>

#include "ipinsights/serve/byte_budget.h"
#include "ipinsights/serve/http_types.h"

namespace ipinsights {

class HttpRequestParser : public boost::beast::http::basic_parser<true> {
 public:
  using error_code = boost::beast::error_code;

  // `body_budget` may be null (no server-wide limit); it must outlive the parser.
  HttpRequestParser(size_t header_limit, size_t body_limit, ByteBudget* body_budget = nullptr);
  ~HttpRequestParser() override;
  HttpRequestParser(const HttpRequestParser&) = delete;
  HttpRequestParser& operator=(const HttpRequestParser&) = delete;

  // Parses what it can of `bytes`; returns how many it used. ec as basic_parser::put
  // (need_more: give the unused bytes again with more after them).
  size_t Put(std::string_view bytes, error_code& ec);

  // Copies what the views made so far point at, so that the bytes given to Put may be
  // reused (call it before reading more into the same buffer while the request is not done).
  void PinHeader();

  // The request so far: method and target once the request line is parsed, the headers once
  // the header is, the body once is_done().
  const HttpRequestView& view() const { return view_; }
  boost::beast::http::verb method() const { return method_; }
  int version() const { return version_; }  // 10 or 11
  bool expects_continue() const { return expects_continue_; }
  // Put failed (with body_limit) because the server-wide body budget is spent.
  bool over_budget() const { return over_budget_; }

 private:
  void on_request_impl(boost::beast::http::verb method, boost::beast::string_view method_str,
                       boost::beast::string_view target, int version, error_code& ec) override;
  void on_response_impl(int code, boost::beast::string_view reason, int version,
                        error_code& ec) override;
  void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string,
                     boost::beast::string_view value, error_code& ec) override;
  void on_header_impl(error_code& ec) override;
  void on_body_init_impl(boost::optional<std::uint64_t> const& content_length,
                         error_code& ec) override;
  size_t on_body_impl(boost::beast::string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t size, boost::beast::string_view extensions,
                            error_code& ec) override;
  size_t on_chunk_body_impl(std::uint64_t remain, boost::beast::string_view body,
                            error_code& ec) override;
  void on_finish_impl(error_code& ec) override;

  // Appends a piece of the body to the owned copy; false (ec set) over the body budget.
  bool AppendBody(std::string_view piece, error_code& ec);
  // `text` when it lies in the bytes being parsed; else (a folded header value, which Beast
  // rebuilds in a buffer of its own) a copy that lives as long as the parser.
  std::string_view Keep(boost::beast::string_view text) {
    std::string_view view(text.data(), text.size());
    return Within(input_, view) ? view : KeepCopy(view);
  }
  static bool Within(std::string_view outer, std::string_view inner) {
    return inner.data() >= outer.data() &&
           inner.data() + inner.size() <= outer.data() + outer.size();
  }
  std::string_view KeepCopy(std::string_view text);

  HttpRequestView view_;
  boost::beast::http::verb method_ = boost::beast::http::verb::unknown;
  int version_ = 11;
  bool expects_continue_ = false;
  std::string_view input_;  // the bytes of the Put call in progress
  // The header bytes given to Put since the last PinHeader: the newer views point there.
  const char* unpinned_begin_ = nullptr;
  const char* unpinned_end_ = nullptr;
  // Copies that pinned views point into (nodes: stable addresses; empty costs nothing).
  std::forward_list<std::string> pinned_;
  std::string body_;             // the body, when it did not arrive in one piece
  uint64_t content_length_ = 0;  // 0 when unknown (chunked)
  ByteBudget* body_budget_ = nullptr;
  size_t charged_ = 0;  // taken from body_budget_ for body_'s capacity
  bool over_budget_ = false;
};

}  // namespace ipinsights
