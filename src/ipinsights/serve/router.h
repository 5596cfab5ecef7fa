// Router: one HTTP request → one response, for the SageMaker hosting contract.
//
//   GET  /ping                           200 when every model is loaded (503 otherwise)
//   POST /invocations                    score with the first model
//   POST /endpoints/NAME/invocations     score with model NAME (SageMaker Runtime's path)
//   GET  /execution-parameters           batch-transform parameters (and, when a model comes
//                                        from a registry, "ModelVersions": {NAME: VERSION})
//   GET  /metrics                        Prometheus text
//   POST /admin/reload                   re-read every model (only with an admin token)
// Errors: 400 malformed body (which line / instance), 403 authentication, 404 unknown route or
// model, 405 wrong method (with Allow), 406 Accept, 413 body too large (or a verbose=True
// answer over 2^24 embedding values), 415 Content-Type, 503 a large answer while the server's
// answer budget is spent (RouterOptions::answer_budget). Error answers are SetError's
// (x-amzn-ErrorType and {"error": message, "message": message}, which boto3 and the AWS CLI
// show as the reason), except /admin/reload's 500, which lists the models that failed.
// With a SigV4 verifier, every route but /ping needs a valid signature; /admin/reload is
// authorised by its token (Authorization: Bearer TOKEN, or X-Admin-Token: TOKEN) instead.
//
// Handle() is a pure function of the request and the registry's current models; it records
// the request in the metrics.
//
// Thread-safety: Handle may run on any number of threads at once.
//
//   Router router(&registry, &metrics, {});
//   HttpResponse response;
//   RequestOutcome outcome = router.Handle(request, &response);
#pragma once

#include <cstddef>
#include <ctime>
#include <functional>
#include <string>

#include "ipinsights/serve/byte_budget.h"
#include "ipinsights/serve/http_types.h"
#include "ipinsights/serve/metrics.h"
#include "ipinsights/serve/model_registry.h"
#include "ipinsights/serve/sigv4_verifier.h"

namespace ipinsights {

struct RouterOptions {
  size_t max_body_bytes = 6u << 20;
  std::string admin_token;                  // empty: POST /admin/reload is 404
  const SigV4Verifier* verifier = nullptr;  // null: no authentication
  std::function<std::time_t()> clock;       // for SigV4; null: time(nullptr)
  // Called after an admin reload (for the log); may be null.
  std::function<void(const ModelRegistry::ReloadResult&)> on_reload;
  // The server's budget for answers in flight (HttpServerOptions::response_budget); may be
  // null. An answer estimated at 64 KiB or more that would not fit in what is left of it gets
  // 503 (with Retry-After) before it is built.
  const ByteBudget* answer_budget = nullptr;
};

// What happened, for the access log.
struct RequestOutcome {
  Route route = Route::kOther;
  std::string_view model;  // empty when no model was used
  size_t pairs = 0;
  // The answer's error message (a view of HttpResponse::error, valid while the response
  // is unchanged), or empty.
  std::string_view error;
};

class Router {
 public:
  Router(ModelRegistry* registry, ServerMetrics* metrics, RouterOptions options);

  RequestOutcome Handle(const HttpRequestView& request, HttpResponse* response) const;

  // The route a target maps to (for requests the server answers itself, e.g. 413).
  static Route RouteOf(std::string_view target);

 private:
  void Score(const HttpRequestView& request, std::string_view model_name, HttpResponse* response,
             RequestOutcome* outcome) const;

  ModelRegistry* registry_;
  ServerMetrics* metrics_;
  RouterOptions options_;
  std::string execution_parameters_;
};

}  // namespace ipinsights
