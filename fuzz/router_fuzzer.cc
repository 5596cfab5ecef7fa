// Fuzzes the serve HTTP path end to end, minus the socket: the bytes are parsed as an
// HTTP/1.1 request by the parser the server uses (HttpRequestParser, same body and header
// limits), also fed in pieces through a reused buffer as the server reads them (the same
// requests accepted, the same request read: else the pinning of views is wrong), and handled by a
// Router over a real (tiny, randomly initialised) model — once without authentication and with an
// admin token, once with a SigV4 verifier. Invariants: every answer has a status the server knows;
// an error answer is {"error": ...}; a JSON or JSON-lines answer is valid JSON (UTF-8
// included: simdjson validates it).
#include <simdjson.h>

#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "fuzz/fuzz_util.h"
#include "ipinsights/base/error.h"
#include "ipinsights/model/hyperparameters.h"
#include "ipinsights/model/model.h"
#include "ipinsights/serve/http_request_parser.h"
#include "ipinsights/serve/metrics.h"
#include "ipinsights/serve/model_registry.h"
#include "ipinsights/serve/model_scorer.h"
#include "ipinsights/serve/router.h"
#include "ipinsights/serve/sigv4_verifier.h"

namespace http = boost::beast::http;
using namespace ipinsights;

namespace {

constexpr size_t kMaxBodyBytes = 1 << 20;  // the server's 6 MiB default is more than a fuzzer needs
constexpr std::time_t kNow = 1795843620;   // 2026-11-28T05:27:00Z, the seeds' X-Amz-Date

std::shared_ptr<const Scorer> TinyModel(const std::string& location) {
  Hyperparameters hp;
  hp.num_entity_vectors = 64;
  hp.vector_dim = 4;
  hp.ip_hash_buckets = 1024;
  return std::make_shared<ModelScorer>(Model::Create(hp, location.size()));
}

struct Server {
  Server()
      : metrics({"ct", "waf"}),
        registry({{"ct", "1"}, {"waf", "22"}}, TinyModel, &metrics),
        verifier(std::map<std::string, std::string>{{"AKIDTEST", "secret-one"}}),
        open(&registry, &metrics, OpenOptions()),
        signed_only(&registry, &metrics, SignedOptions(&verifier)) {
    registry.LoadAll();
  }
  static RouterOptions OpenOptions() {
    RouterOptions options;
    options.max_body_bytes = kMaxBodyBytes;
    options.admin_token = "fuzz-admin-token";
    return options;
  }
  static RouterOptions SignedOptions(const SigV4Verifier* verifier) {
    RouterOptions options;
    options.max_body_bytes = kMaxBodyBytes;
    options.verifier = verifier;
    options.clock = [] { return kNow; };
    return options;
  }
  ServerMetrics metrics;
  ModelRegistry registry;
  SigV4Verifier verifier;
  Router open;
  Router signed_only;
};

// Feeds all of `bytes` at once, the way a request that arrives in one read is parsed.
boost::beast::error_code ParseWhole(std::string_view bytes, HttpRequestParser& parser) {
  boost::beast::error_code ec;
  size_t offset = 0;
  while (offset < bytes.size() && !parser.is_done()) {
    size_t used = parser.Put(bytes.substr(offset), ec);
    offset += used;
    if (ec || used == 0) break;
  }
  if (ec == http::error::need_more) ec = {};
  if (!ec && !parser.is_done() && parser.got_some()) parser.put_eof(ec);
  return ec;
}

// Feeds `bytes` `piece` at a time through one buffer, as the server does: the used bytes
// stay in place until more are read, the header is pinned before each read, and the read
// overwrites the buffer (here: a new one, the old one scribbled over).
boost::beast::error_code ParseInPieces(std::string_view bytes, size_t piece,
                                       HttpRequestParser& parser, std::string& buffer) {
  boost::beast::error_code ec;
  size_t start = 0, fed = 0;
  while (!parser.is_done() && fed < bytes.size()) {
    parser.PinHeader();
    std::string next = buffer.substr(start);
    next.append(bytes.substr(fed, piece));
    std::fill(buffer.begin(), buffer.end(), '\x7f');
    buffer.swap(next);
    start = 0;
    fed += std::min(piece, bytes.size() - fed);
    while (start < buffer.size() && !parser.is_done()) {
      size_t used = parser.Put(std::string_view(buffer).substr(start), ec);
      start += used;
      if (ec == http::error::need_more) {
        ec = {};
        break;
      }
      if (ec) return ec;
      if (used == 0) break;
    }
  }
  if (!parser.is_done() && parser.got_some()) parser.put_eof(ec);
  return ec;
}

// Everything the server reads from a parsed request, in one string.
std::string Describe(const HttpRequestParser& parser) {
  const HttpRequestView& v = parser.view();
  std::string text;
  for (std::string_view part :
       {v.method, v.target, v.content_type, v.accept, v.authorization, v.admin_token, v.body}) {
    text.append(part).push_back('\0');
  }
  for (const auto& [name, value] : v.headers)
    text.append(name).append(": ").append(value).push_back('\0');
  text += std::to_string(parser.version()) + (parser.keep_alive() ? "k" : "c") +
          (parser.expects_continue() ? "e" : "");
  return text;
}

void CheckJson(std::string_view text, simdjson::dom::parser& parser) {
  auto result = parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true);
  if (result.error()) {
    std::fprintf(stderr, "not valid JSON (%s): %.*s\n", simdjson::error_message(result.error()),
                 static_cast<int>(std::min<size_t>(text.size(), 2000)), text.data());
    FUZZ_CHECK(false, "a JSON answer is valid JSON");
  }
}

void CheckResponse(const HttpResponse& response) {
  bool known = false;
  for (int status : ServerMetrics::kStatuses) known = known || status == response.status;
  FUZZ_CHECK(known, "a status the server knows");
  static simdjson::dom::parser parser;
  const std::string_view body = response.body;
  if (response.status >= 400) {
    FUZZ_CHECK(body.substr(0, 9) == "{\"error\":", "an error answer is {\"error\": ...}");
  }
  if (std::strcmp(response.content_type, "application/json") == 0) {
    CheckJson(body, parser);
  } else if (std::strcmp(response.content_type, "application/jsonlines") == 0) {
    for (std::string_view rest = body; !rest.empty();) {
      size_t newline = rest.find('\n');
      std::string_view line = rest.substr(0, newline);
      rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
      if (!line.empty()) CheckJson(line, parser);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Server* server =
      new Server();  // built once; leaked on purpose (no exit-time order issues)

  std::string_view bytes = fuzz::AsText(data, size);
  HttpRequestParser parser(16u << 10, kMaxBodyBytes);
  boost::beast::error_code ec = ParseWhole(bytes, parser);
  // In pieces through one reused buffer, as the server reads them, it is the same request.
  size_t piece = size == 0 ? 1 : 1 + data[size - 1] % 97;
  HttpRequestParser in_pieces(16u << 10, kMaxBodyBytes);
  std::string buffer;
  boost::beast::error_code pieces_ec = ParseInPieces(bytes, piece, in_pieces, buffer);
  // Which error a malformed request gets may depend on how it arrives (Beast waits for the
  // whole header once a first piece left the request line incomplete), but a good request is
  // good either way and is the same request.
  bool whole_ok = !ec && parser.is_done();
  bool pieces_ok = !pieces_ec && in_pieces.is_done();
  FUZZ_CHECK(whole_ok == pieces_ok, "parsing in pieces accepts the same requests");
  if (whole_ok)
    FUZZ_CHECK(Describe(in_pieces) == Describe(parser), "parsing in pieces gives the same request");
  if (ec || !parser.is_done()) return 0;  // the server answers 400/413/431 itself
  const HttpRequestView& view = parser.view();

  for (const Router* router : {&server->open, &server->signed_only}) {
    HttpResponse response;
    try {
      router->Handle(view, &response);
    } catch (const Error&) {
      // The server turns an Error from a route into a 500; it is not a crash.
      continue;
    }
    CheckResponse(response);
  }
  return 0;
}
