// Fuzzes the serve HTTP path end to end, minus the socket: the bytes are parsed as an
// HTTP/1.1 request by the same Beast parser the server uses (same body and header limits),
// turned into an HttpRequestView the way http_server.cc does, and handled by a Router over a
// real (tiny, randomly initialised) model — once without authentication and with an admin
// token, once with a SigV4 verifier. Invariants: every answer has a status the server knows;
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

std::string_view Sv(boost::beast::string_view s) { return std::string_view(s.data(), s.size()); }

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
  static Server* server = new Server();  // built once; leaked on purpose (no exit-time order issues)

  http::request_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(kMaxBodyBytes);
  parser.header_limit(16u << 10);
  boost::beast::error_code ec;
  size_t offset = 0;
  while (offset < size && !parser.is_done()) {
    size_t used = parser.put(boost::asio::buffer(data + offset, size - offset), ec);
    offset += used;
    if (ec || used == 0) break;
  }
  if (!ec && !parser.is_done() && parser.got_some()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;  // the server answers 400/413/431 itself

  const auto& request = parser.get();
  HttpRequestView view;
  view.method = Sv(request.method_string());
  view.target = Sv(request.target());
  for (const auto& field : request) {
    std::string_view name = Sv(field.name_string());
    std::string_view value = Sv(field.value());
    view.headers.emplace_back(name, value);
    switch (field.name()) {
      case http::field::content_type: view.content_type = value; break;
      case http::field::accept: view.accept = value; break;
      case http::field::authorization: view.authorization = value; break;
      default:
        if (boost::beast::iequals(field.name_string(), "x-admin-token")) view.admin_token = value;
    }
  }
  view.body = request.body();

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
