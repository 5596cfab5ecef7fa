#include "ipinsights/serve/http_request_parser.h"

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

namespace ipinsights {

namespace http = boost::beast::http;

namespace {

// Boost 1.74's beast::string_view is boost::string_view.
std::string_view Sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

}  // namespace

HttpRequestParser::HttpRequestParser(size_t header_limit, size_t body_limit,
                                     ByteBudget* body_budget)
    : body_budget_(body_budget) {
  this->header_limit(static_cast<uint32_t>(header_limit));
  this->body_limit(body_limit);
}

HttpRequestParser::~HttpRequestParser() {
  if (body_budget_ != nullptr) body_budget_->Give(charged_);
}

size_t HttpRequestParser::Put(std::string_view bytes, error_code& ec) {
  bool header_was_done = is_header_done();
  input_ = bytes;
  size_t used = put(boost::asio::const_buffer(bytes.data(), bytes.size()), ec);
  input_ = {};
  // Views come from the header only (the request line, then the fields; not eager, so a
  // call that parses header stops at its end). All calls between two pins see one buffer.
  if (!header_was_done && used > 0) {
    const char* end = bytes.data() + used;
    if (unpinned_begin_ == nullptr || bytes.data() < unpinned_begin_)
      unpinned_begin_ = bytes.data();
    if (unpinned_end_ == nullptr || end > unpinned_end_) unpinned_end_ = end;
  }
  return used;
}

void HttpRequestParser::PinHeader() {
  if (unpinned_begin_ == nullptr) return;
  std::string_view from(unpinned_begin_, static_cast<size_t>(unpinned_end_ - unpinned_begin_));
  const std::string& to = pinned_.emplace_front(from);
  unpinned_begin_ = unpinned_end_ = nullptr;
  // A view that lies in `from` moves to the same place in `to`.
  auto move = [&](std::string_view& view) {
    if (Within(from, view)) view = {to.data() + (view.data() - from.data()), view.size()};
  };
  move(view_.method);
  move(view_.target);
  move(view_.content_type);
  move(view_.accept);
  move(view_.authorization);
  move(view_.admin_token);
  for (auto& [name, value] : view_.headers) {
    move(name);
    move(value);
  }
}

void HttpRequestParser::on_request_impl(http::verb method, boost::beast::string_view method_str,
                                        boost::beast::string_view target, int version,
                                        error_code&) {
  method_ = method;
  version_ = version;
  view_.method = Keep(method_str);
  view_.target = Keep(target);
}

void HttpRequestParser::on_response_impl(int, boost::beast::string_view, int, error_code& ec) {
  ec = http::error::bad_method;  // never called for requests
}

void HttpRequestParser::on_field_impl(http::field name, boost::beast::string_view name_string,
                                      boost::beast::string_view value, error_code&) {
  std::string_view v = Keep(value);
  view_.headers.emplace_back(Keep(name_string), v);
  switch (name) {
    case http::field::content_type:
      view_.content_type = v;
      break;
    case http::field::accept:
      view_.accept = v;
      break;
    case http::field::authorization:
      view_.authorization = v;
      break;
    case http::field::expect:
      expects_continue_ = boost::beast::iequals(value, "100-continue");
      break;
    default:
      if (name_string.size() == 13 && boost::beast::iequals(name_string, "x-admin-token"))
        view_.admin_token = v;
  }
}

void HttpRequestParser::on_header_impl(error_code&) {}

void HttpRequestParser::on_body_init_impl(boost::optional<std::uint64_t> const& content_length,
                                          error_code&) {
  content_length_ = content_length ? *content_length : 0;
}

size_t HttpRequestParser::on_body_impl(boost::beast::string_view body, error_code& ec) {
  if (body_.empty() && view_.body.empty() && body.size() == content_length_) {
    view_.body = Sv(body);  // the whole body in one piece: no copy
  } else if (!AppendBody(Sv(body), ec)) {
    return 0;
  }
  return body.size();
}

void HttpRequestParser::on_chunk_header_impl(std::uint64_t, boost::beast::string_view,
                                             error_code&) {}

size_t HttpRequestParser::on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                                             error_code& ec) {
  return AppendBody(Sv(body), ec) ? body.size() : 0;
}

void HttpRequestParser::on_finish_impl(error_code&) {}

std::string_view HttpRequestParser::KeepCopy(std::string_view text) {
  if (text.empty()) return {};
  return pinned_.emplace_front(text);
}

bool HttpRequestParser::AppendBody(std::string_view piece, error_code& ec) {
  // (A body taken as a view was whole: no piece follows it.)
  size_t needed = body_.size() + piece.size();
  if (needed > body_.capacity()) {
    // Grow in doubling steps (from 64 KiB, at most to Content-Length): a client that
    // announces 6 MB and sends 1 KB holds 64 KiB, not 6 MB, of the budget.
    size_t target = std::max({needed, 2 * body_.capacity(), size_t{64} << 10});
    if (content_length_ > 0)
      target = std::max<size_t>(needed, std::min<uint64_t>(target, content_length_));
    if (body_budget_ != nullptr && target > charged_) {
      if (!body_budget_->TryTake(target - charged_)) {
        over_budget_ = true;
        ec = http::error::body_limit;
        return false;
      }
      charged_ = target;
    }
    body_.reserve(target);
    // std::string may round the capacity up (to twice the old one).
    if (body_budget_ != nullptr && body_.capacity() > charged_) {
      body_budget_->Take(body_.capacity() - charged_);
      charged_ = body_.capacity();
    }
  }
  body_.append(piece);
  view_.body = body_;
  return true;
}

}  // namespace ipinsights
