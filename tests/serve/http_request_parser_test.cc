#include "ipinsights/serve/http_request_parser.h"

#include <gtest/gtest.h>

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <vector>

namespace ipinsights {
namespace {

namespace http = boost::beast::http;

constexpr size_t kHeaderLimit = 16 << 10;
constexpr size_t kBodyLimit = 1 << 20;

// What a parsed request says, copied out (so it outlives the parser's input).
struct Parsed {
  std::string method, target, content_type, accept, authorization, admin_token, body;
  std::vector<std::pair<std::string, std::string>> headers;
  int version = 0;
  bool keep_alive = false, expects_continue = false;
  bool operator==(const Parsed&) const = default;
};

Parsed Copy(const HttpRequestParser& parser) {
  const HttpRequestView& v = parser.view();
  Parsed p{std::string(v.method),
           std::string(v.target),
           std::string(v.content_type),
           std::string(v.accept),
           std::string(v.authorization),
           std::string(v.admin_token),
           std::string(v.body),
           {},
           parser.version(),
           parser.keep_alive(),
           parser.expects_continue()};
  for (const auto& [name, value] : v.headers) p.headers.emplace_back(name, value);
  return p;
}

// Feeds `request` in pieces of `piece` bytes through one reused buffer, the way the server
// does: unparsed bytes stay, the header is pinned before more bytes come, and the buffer's old
// contents are overwritten.
Parsed ParseInPieces(const std::string& request, size_t piece, boost::beast::error_code* error) {
  HttpRequestParser parser(kHeaderLimit, kBodyLimit);
  std::string buffer;
  size_t start = 0;  // bytes of `buffer` already used (they stay in place, like flat_buffer's)
  size_t fed = 0;
  while (!parser.is_done()) {
    if (fed == request.size()) {
      *error = http::error::partial_message;
      break;
    }
    parser.PinHeader();
    std::string fresh = buffer.substr(start) + request.substr(fed, piece);
    std::fill(buffer.begin(), buffer.end(), '#');  // whatever the views pointed at is gone
    buffer = fresh;
    start = 0;
    fed += std::min(piece, request.size() - fed);
    boost::beast::error_code ec;
    while (start < buffer.size() && !parser.is_done()) {
      start += parser.Put(std::string_view(buffer).substr(start), ec);
      if (ec == http::error::need_more) break;
      if (ec) {
        *error = ec;
        return {};
      }
    }
  }
  return Copy(parser);
}

const std::string kRequest =
    "POST /endpoints/ct/invocations HTTP/1.1\r\n"
    "Host: localhost\r\n"
    "Content-Type: text/csv\r\n"
    "Accept: application/jsonlines; verbose=True\r\n"
    "X-Admin-Token: s3cret\r\n"
    "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261128/eu-west-1/sagemaker/aws4_request\r\n"
    "Content-Length: 27\r\n"
    "\r\n"
    "user1,1.2.3.4\nuser2,::1\nu,1";

TEST(HttpRequestParser, WholeRequestIsViewsIntoTheInput) {
  HttpRequestParser parser(kHeaderLimit, kBodyLimit);
  boost::beast::error_code ec;
  size_t used = parser.Put(kRequest, ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(parser.is_header_done());
  if (!parser.is_done()) used += parser.Put(std::string_view(kRequest).substr(used), ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(parser.is_done());
  EXPECT_EQ(used, kRequest.size());
  const HttpRequestView& view = parser.view();
  EXPECT_EQ(view.method, "POST");
  EXPECT_EQ(view.target, "/endpoints/ct/invocations");
  EXPECT_EQ(view.content_type, "text/csv");
  EXPECT_EQ(view.accept, "application/jsonlines; verbose=True");
  EXPECT_EQ(view.admin_token, "s3cret");
  EXPECT_EQ(view.authorization.substr(0, 16), "AWS4-HMAC-SHA256");
  EXPECT_EQ(view.body, "user1,1.2.3.4\nuser2,::1\nu,1");
  ASSERT_EQ(view.headers.size(), 6u);
  EXPECT_EQ(view.headers[0].first, "Host");
  EXPECT_EQ(view.headers[5].second, "27");
  EXPECT_EQ(parser.version(), 11);
  EXPECT_TRUE(parser.keep_alive());
  EXPECT_FALSE(parser.expects_continue());
  // No copy: the body is the input's own bytes.
  EXPECT_GE(view.body.data(), kRequest.data());
  EXPECT_LT(view.body.data(), kRequest.data() + kRequest.size());
}

TEST(HttpRequestParser, AnyPieceSizeWithPinningGivesTheSameRequest) {
  boost::beast::error_code whole_error;
  Parsed whole = ParseInPieces(kRequest, kRequest.size(), &whole_error);
  ASSERT_FALSE(whole_error);
  EXPECT_EQ(whole.body, "user1,1.2.3.4\nuser2,::1\nu,1");
  for (size_t piece : {1u, 2u, 3u, 7u, 50u, 200u}) {
    boost::beast::error_code error;
    EXPECT_TRUE(ParseInPieces(kRequest, piece, &error) == whole) << "pieces of " << piece;
    EXPECT_FALSE(error) << error.message();
  }
}

TEST(HttpRequestParser, ChunkedBodyIsJoined) {
  std::string request =
      "POST /invocations HTTP/1.1\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n"
      "6\r\nuser1,\r\n7\r\n1.2.3.4\r\n0\r\n\r\n";
  for (size_t piece : {size_t{1}, size_t{5}, request.size()}) {
    boost::beast::error_code error;
    Parsed parsed = ParseInPieces(request, piece, &error);
    EXPECT_FALSE(error) << error.message();
    EXPECT_EQ(parsed.body, "user1,1.2.3.4");
    EXPECT_EQ(parsed.content_type, "text/csv");
  }
}

TEST(HttpRequestParser, Http10ExpectContinueAndNoBody) {
  HttpRequestParser parser(kHeaderLimit, kBodyLimit);
  boost::beast::error_code ec;
  parser.Put("GET /ping HTTP/1.0\r\nExpect: 100-Continue\r\n\r\n", ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(parser.is_done());
  EXPECT_EQ(parser.method(), http::verb::get);
  EXPECT_EQ(parser.version(), 10);
  EXPECT_FALSE(parser.keep_alive());
  EXPECT_TRUE(parser.expects_continue());
  EXPECT_TRUE(parser.view().body.empty());
}

// The same headers and body as Beast's own request_parser reads, folded header values
// included (Beast rebuilds those in a buffer of its own, which must not be referred to).
TEST(HttpRequestParser, ReadsWhatBeastsRequestParserReads) {
  for (std::string request :
       {kRequest, std::string("GET /ping HTTP/1.1\r\nX-Folded: one\r\n two\r\n\tthree\r\n"
                              "Authorization: AWS4-HMAC-SHA256\r\n Credential=x\r\n\r\n")}) {
    http::request_parser<http::string_body> beast;
    beast.eager(true);
    boost::beast::error_code beast_ec;
    beast.put(boost::asio::buffer(request), beast_ec);
    ASSERT_FALSE(beast_ec) << beast_ec.message();
    HttpRequestParser parser(kHeaderLimit, kBodyLimit);
    boost::beast::error_code ec;
    size_t used = parser.Put(request, ec);
    if (!ec && !parser.is_done()) parser.Put(std::string_view(request).substr(used), ec);
    ASSERT_FALSE(ec) << ec.message();
    // Another parse over the same stack: a view of Beast's own folding buffer would now show it.
    HttpRequestParser other(kHeaderLimit, kBodyLimit);
    other.Put(
        "GET / HTTP/1.1\r\nX-Other: zzzzzzzzzzzzzzzzzzzzzzz\r\n "
        "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\r\n\r\n",
        ec);
    std::vector<std::pair<std::string, std::string>> expected;
    for (const auto& field : beast.get()) expected.emplace_back(field.name_string(), field.value());
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& [name, value] : parser.view().headers) headers.emplace_back(name, value);
    EXPECT_EQ(headers, expected);
    EXPECT_EQ(parser.view().body, beast.get().body());
  }
}

TEST(HttpRequestParser, LimitsAndMalformedInputAreErrors) {
  {
    HttpRequestParser parser(64, kBodyLimit);
    boost::beast::error_code ec;
    parser.Put("GET /ping HTTP/1.1\r\nX-Filler: " + std::string(100, 'a') + "\r\n", ec);
    EXPECT_EQ(ec, http::error::header_limit);
  }
  {
    HttpRequestParser parser(kHeaderLimit, 10);
    boost::beast::error_code ec;
    parser.Put("POST /invocations HTTP/1.1\r\nContent-Length: 11\r\n\r\n", ec);
    EXPECT_EQ(ec, http::error::body_limit);
  }
  {
    HttpRequestParser parser(kHeaderLimit, kBodyLimit);
    boost::beast::error_code ec;
    parser.Put(std::string("\x16\x03\x01\x00\xff\x00garbage\r\n\r\n", 18), ec);
    EXPECT_TRUE(ec);
    EXPECT_NE(ec, http::error::need_more);
  }
  {
    HttpRequestParser parser(kHeaderLimit, kBodyLimit);
    boost::beast::error_code ec;
    // The request line is parsed (and used) before the rest of the header is here.
    EXPECT_EQ(parser.Put("POST /invocations HTTP/1.1\r\nContent-Le", ec), 28u);
    EXPECT_EQ(ec, http::error::need_more);
    EXPECT_FALSE(parser.is_header_done());
  }
}

}  // namespace
}  // namespace ipinsights
