#include "ipinsights/serve/router.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <chrono>
#include <exception>

#include "ipinsights/base/json_text.h"
#include "ipinsights/base/strings.h"
#include "ipinsights/serve/media_type.h"
#include "ipinsights/serve/request_codec.h"
#include "ipinsights/serve/response_codec.h"

namespace ipinsights {
namespace {

constexpr std::string_view kEndpointsPrefix = "/endpoints/";
// Answers from this (estimated) size on are checked against RouterOptions::answer_budget.
constexpr size_t kLargeAnswerBytes = 64 << 10;
constexpr std::string_view kInvocationsSuffix = "/invocations";

// The path of a request target: origin-form (/ping?x) or, as RFC 7230 section 5.3.2 asks
// servers to accept, absolute-form (http://host/ping?x, whose authority is ignored).
std::string_view PathOf(std::string_view target) {
  if (!target.empty() && target.front() != '/') {
    size_t scheme_end = target.find("://");
    std::string_view scheme = target.substr(0, scheme_end);
    if (scheme_end != std::string_view::npos &&
        (EqualsIgnoreCase(scheme, "http") || EqualsIgnoreCase(scheme, "https"))) {
      size_t slash = target.find_first_of("/?", scheme_end + 3);
      if (slash == std::string_view::npos) return "/";
      target = target.substr(slash);
      if (target.front() == '?') return "/";
    }
  }
  size_t question = target.find('?');
  return question == std::string_view::npos ? target : target.substr(0, question);
}

// The NAME of /endpoints/NAME/invocations, or empty.
std::string_view EndpointName(std::string_view path) {
  if (path.size() <= kEndpointsPrefix.size() + kInvocationsSuffix.size()) return {};
  if (path.substr(0, kEndpointsPrefix.size()) != kEndpointsPrefix) return {};
  if (path.substr(path.size() - kInvocationsSuffix.size()) != kInvocationsSuffix) return {};
  std::string_view name = path.substr(
      kEndpointsPrefix.size(), path.size() - kEndpointsPrefix.size() - kInvocationsSuffix.size());
  if (name.find('/') != std::string_view::npos) return {};
  return name;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void MethodNotAllowed(const char* allow, HttpResponse* response) {
  SetError(405, fmt::format("method not allowed; use {}", allow), response);
  response->headers.emplace_back("Allow", allow);
}

// Per-thread scratch reused across requests: no allocation per request once warm.
struct Scratch {
  PairBatch batch;
  std::vector<float> scores;
  std::vector<float> entity_embeddings;
  std::vector<float> ip_embeddings;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// Scratch can grow to hundreds of MB on a huge verbose request; give it back afterwards.
void TrimScratch(Scratch& scratch) {
  constexpr size_t kKeep = 1 << 20;
  if (scratch.entity_embeddings.capacity() > kKeep)
    std::vector<float>().swap(scratch.entity_embeddings);
  if (scratch.ip_embeddings.capacity() > kKeep) std::vector<float>().swap(scratch.ip_embeddings);
  if (scratch.scores.capacity() > kKeep) std::vector<float>().swap(scratch.scores);
  if (scratch.batch.ips.capacity() > kKeep) {
    std::vector<IpAddress>().swap(scratch.batch.ips);
    std::vector<std::string_view>().swap(scratch.batch.entities);
  }
}

}  // namespace

Router::Router(ModelRegistry* registry, ServerMetrics* metrics, RouterOptions options)
    : registry_(registry), metrics_(metrics), options_(std::move(options)) {
  execution_parameters_ = fmt::format(
      "{{\"MaxConcurrentTransforms\":4,\"BatchStrategy\":\"MULTI_RECORD\",\"MaxPayloadInMB\":{}}}",
      options_.max_body_bytes >> 20);
}

Route Router::RouteOf(std::string_view target) {
  std::string_view path = PathOf(target);
  if (path == "/invocations") return Route::kInvocations;
  if (path == "/ping") return Route::kPing;
  if (!EndpointName(path).empty()) return Route::kEndpointInvocations;
  if (path == "/execution-parameters") return Route::kExecutionParameters;
  if (path == "/metrics") return Route::kMetrics;
  if (path == "/admin/reload") return Route::kAdminReload;
  return Route::kOther;
}

RequestOutcome Router::Handle(const HttpRequestView& request, HttpResponse* response) const {
  auto start = std::chrono::steady_clock::now();
  response->Reset();
  RequestOutcome outcome;
  std::string_view path = PathOf(request.target);
  outcome.route = RouteOf(path);
  bool is_get = request.method == "GET" || request.method == "HEAD";
  bool is_post = request.method == "POST";

  auto authenticated = [&]() {
    if (options_.verifier == nullptr) return true;
    SignedRequestView signed_request{request.method, request.target, request.headers, request.body};
    std::time_t now = options_.clock ? options_.clock() : std::time(nullptr);
    if (std::optional<std::string> error = options_.verifier->Verify(signed_request, now)) {
      SetError(403, "forbidden: " + *error, response);
      return false;
    }
    return true;
  };

  switch (outcome.route) {
    case Route::kPing:
      if (!is_get) {
        MethodNotAllowed("GET", response);
      } else if (registry_->AllLoaded()) {
        response->body = "{\"status\":\"healthy\"}";
      } else {
        SetError(503, "models not loaded", response);
      }
      break;
    case Route::kInvocations:
      if (!is_post) {
        MethodNotAllowed("POST", response);
      } else if (authenticated()) {
        Score(request, registry_->first_name(), response, &outcome);
      }
      break;
    case Route::kEndpointInvocations:
      if (!is_post) {
        MethodNotAllowed("POST", response);
      } else if (authenticated()) {
        Score(request, EndpointName(path), response, &outcome);
      }
      break;
    case Route::kExecutionParameters:
      if (!is_get) {
        MethodNotAllowed("GET", response);
      } else if (authenticated()) {
        response->body = execution_parameters_;
        if (registry_->has_registry_models()) {
          // Which registry version each name serves (null: a model file).
          std::string& body = response->body;
          body.pop_back();  // '}'
          body += ",\"ModelVersions\":{";
          bool first = true;
          for (const ModelSpec& spec : registry_->specs()) {
            if (!first) body += ',';
            first = false;
            AppendJsonString(&body, spec.name);
            body += ':';
            std::string version = registry_->version(spec.name);
            if (spec.registry && !version.empty())
              AppendJsonString(&body, version);
            else
              body += "null";
          }
          body += "}}";
        }
      }
      break;
    case Route::kMetrics:
      if (!is_get) {
        MethodNotAllowed("GET", response);
      } else if (authenticated()) {
        response->content_type = "text/plain; version=0.0.4";
        response->body = metrics_->Render();
      }
      break;
    case Route::kAdminReload: {
      std::string_view token = request.admin_token;
      constexpr std::string_view kBearer = "Bearer ";
      if (token.empty() && request.authorization.substr(0, kBearer.size()) == kBearer)
        token = request.authorization.substr(kBearer.size());
      if (options_.admin_token.empty()) {
        SetError(404, "not found: /admin/reload is off (start serve with --admin-token)", response);
      } else if (!is_post) {
        MethodNotAllowed("POST", response);
      } else if (!ConstantTimeEquals(token, options_.admin_token)) {
        SetError(403, "forbidden: wrong or missing admin token", response);
      } else {
        ModelRegistry::ReloadResult result = registry_->Reload();
        if (options_.on_reload) options_.on_reload(result);
        response->status = result.failed.empty() ? 200 : 500;
        std::string& body = response->body;
        body = "{\"reloaded\":[";
        for (size_t i = 0; i < result.reloaded.size(); ++i) {
          if (i > 0) body += ',';
          AppendJsonString(&body, result.reloaded[i]);
        }
        body += "],\"failed\":[";
        for (size_t i = 0; i < result.failed.size(); ++i) {
          if (i > 0) body += ',';
          AppendJsonString(&body, result.failed[i]);
        }
        body += "]}";
      }
      break;
    }
    case Route::kOther:
    case Route::kCount:
      SetError(404, fmt::format("not found: {}", path.substr(0, 200)), response);
      break;
  }
  outcome.error = response->error;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_->RecordRequest(outcome.route, response->status, seconds);
  return outcome;
}

void Router::Score(const HttpRequestView& request, std::string_view model_name,
                   HttpResponse* response, RequestOutcome* outcome) const {
  std::shared_ptr<const Scorer> scorer = registry_->Get(model_name);
  if (scorer == nullptr) {
    SetError(404, fmt::format("no model named \"{}\"", model_name.substr(0, 100)), response);
    return;
  }
  outcome->model = model_name;
  std::optional<ResponseFormat> format = ParseAccept(request.accept);
  if (!format) {
    SetError(406,
             fmt::format("unsupported Accept \"{}\"; use application/json or application/jsonlines",
                         request.accept.substr(0, 100)),
             response);
    return;
  }
  std::optional<RequestFormat> input = ParseContentType(request.content_type);
  if (!input) {
    SetError(415,
             fmt::format("unsupported Content-Type \"{}\"; use text/csv, application/json or "
                         "application/jsonlines",
                         request.content_type.substr(0, 100)),
             response);
    return;
  }
  if (request.body.size() > options_.max_body_bytes) {
    SetError(413,
             fmt::format("request body of {} bytes is over the limit of {} bytes",
                         request.body.size(), options_.max_body_bytes),
             response);
    return;
  }
  Scratch& scratch = ThreadScratch();
  PairBatch& batch = scratch.batch;
  batch.Clear();
  if (std::optional<std::string> error = DecodeRequest(*input, request.body, &batch)) {
    SetError(400, *error, response);
    return;
  }
  if (batch.size() == 0) {
    SetError(400, "no (entity, ip) pairs in the request body", response);
    return;
  }
  size_t n = batch.size();
  // verbose=True prints 2 * dim floats per pair: a 6 MB body of short rows could otherwise
  // ask for gigabytes of response. 2^24 floats is about 200 MB of JSON.
  constexpr size_t kMaxVerboseFloats = size_t{1} << 24;
  if (format->verbose && 2 * n * static_cast<size_t>(scorer->vector_dim()) > kMaxVerboseFloats) {
    SetError(
        413,
        fmt::format(
            "verbose=True for {} pairs of dimension {} is over the limit of {} embedding values; "
            "send at most {} pairs per verbose request",
            n, scorer->vector_dim(), kMaxVerboseFloats,
            kMaxVerboseFloats / (2 * static_cast<size_t>(scorer->vector_dim()))),
        response);
    return;
  }
  // A large answer that the server could not hold while it is sent is refused before it is
  // built (the server charges the real size once built; this estimate is on the high side).
  if (options_.answer_budget != nullptr) {
    size_t dim = static_cast<size_t>(scorer->vector_dim());
    size_t estimate = n * (format->verbose ? 2 * dim * 14 + 80 : 32);
    if (estimate >= kLargeAnswerBytes && estimate > options_.answer_budget->left()) {
      SetError(503,
               "server busy: answers in flight are over the server's memory budget; retry later",
               response);
      response->headers.emplace_back("Retry-After", "1");
      TrimScratch(scratch);
      return;
    }
  }
  try {
    scratch.scores.resize(n);
    int dim = scorer->vector_dim();
    if (format->verbose) {
      scratch.entity_embeddings.resize(n * dim);
      scratch.ip_embeddings.resize(n * dim);
      for (size_t i = 0; i < n; ++i) {
        float* entity = scratch.entity_embeddings.data() + i * dim;
        float* ip = scratch.ip_embeddings.data() + i * dim;
        scorer->EntityEmbedding(batch.entities[i], entity);
        scorer->IpEmbedding(batch.ips[i], ip);
        // The dot product of exactly the floats we print, summed in double and rounded once,
        // so a client recomputing it from the response gets the same float.
        double dot = 0;
        for (int k = 0; k < dim; ++k) dot += static_cast<double>(entity[k]) * ip[k];
        scratch.scores[i] = static_cast<float>(dot);
      }
    } else {
      scorer->ScoreBatch(batch.entities.data(), batch.ips.data(), n, scratch.scores.data());
    }
    response->content_type = ResponseContentType(*format);
    response->headers.emplace_back("X-Amzn-Invoked-Production-Variant", "AllTraffic");
    EncodeResponse(*format, scratch.scores, scratch.entity_embeddings, scratch.ip_embeddings, dim,
                   &response->body);
  } catch (const std::exception& e) {
    SetError(500, fmt::format("scoring failed: {}", e.what()), response);
    TrimScratch(scratch);
    return;
  }
  if (ModelMetrics* model = metrics_->model(std::string(model_name))) {
    model->requests.fetch_add(1, std::memory_order_relaxed);
    model->pairs_scored.fetch_add(n, std::memory_order_relaxed);
  }
  outcome->pairs = n;
  TrimScratch(scratch);
}

}  // namespace ipinsights
