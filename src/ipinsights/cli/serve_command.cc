// `ipinsights serve`: the SageMaker-compatible inference server (see serve/router.h for the
// routes and serve/http_server.h for the connection handling).
//
// Signals are taken synchronously by this thread (sigwait) while the server threads run:
// SIGHUP reloads every model here, off the I/O threads, so no request waits for a reload;
// SIGTERM / SIGINT stop accepting, drain in-flight requests and return (exit 0).
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "ipinsights/base/error.h"
#include "ipinsights/base/parallel.h"
#include "ipinsights/cli/commands.h"
#include "ipinsights/serve/access_log.h"
#include "ipinsights/serve/http_server.h"
#include "ipinsights/serve/metrics.h"
#include "ipinsights/serve/model_registry.h"
#include "ipinsights/serve/model_scorer.h"
#include "ipinsights/serve/router.h"
#include "ipinsights/serve/sigv4_verifier.h"

namespace ipinsights {
namespace {

struct ServeFlags {
  std::vector<std::string> models;
  std::string host;
  uint16_t port = 8080;
  size_t threads = 0;
  double max_body_mb = 6;
  size_t max_connections = 4096;
  double body_budget_mb = 1024;
  double response_budget_mb = 1024;
  double idle_timeout_s = 60;
  double header_timeout_s = 10;
  double body_timeout_s = 60;
  std::string admin_token;
  std::string auth_keys;
  std::string tls_cert;
  std::string tls_key;
  std::string access_log;
};

// SageMaker container mode: every *.ipinsights in $SM_ROOT/model (default /opt/ml/model).
std::vector<std::string> ContainerModels() {
  const char* root = std::getenv("SM_ROOT");
  std::filesystem::path dir = std::filesystem::path(root != nullptr && *root != '\0' ? root : "/opt/ml") / "model";
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".ipinsights") files.push_back(entry.path().string());
  }
  if (ec) throw Error(fmt::format("{}: cannot list the model folder: {}", dir.string(), ec.message()));
  if (files.empty()) throw UsageError(fmt::format("serve: no --model given and no *.ipinsights in {}", dir.string()));
  std::sort(files.begin(), files.end());
  return files;
}

void LogReload(const ModelRegistry::ReloadResult& result) {
  for (const std::string& name : result.reloaded) std::fprintf(stderr, "serve: reloaded model %s\n", name.c_str());
  for (const std::string& failure : result.failed)
    std::fprintf(stderr, "serve: reload failed, the previous model keeps serving: %s\n", failure.c_str());
}

std::chrono::milliseconds Millis(double seconds, const char* flag) {
  if (!(seconds > 0)) throw UsageError(fmt::format("serve: {} must be positive", flag));
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// A server-wide memory budget in MB: at least 1, at most 1 TiB.
size_t BudgetBytes(double mb, const char* flag) {
  if (!(mb >= 1 && mb <= 1 << 20)) throw UsageError(fmt::format("serve: {} must be between 1 and 1048576", flag));
  return static_cast<size_t>(mb * (1 << 20));
}

void RunServe(const ServeFlags& flags) {
  bool container_mode = flags.models.empty();
  std::vector<std::string> model_args = container_mode ? ContainerModels() : flags.models;
  std::vector<ModelSpec> specs;
  std::vector<std::string> names;
  for (const std::string& arg : model_args) {
    specs.push_back(ParseModelSpec(arg));
    names.push_back(specs.back().name);
  }
  if (!(flags.max_body_mb > 0)) throw UsageError("serve: --max-body-mb must be positive");
  size_t max_body_bytes = static_cast<size_t>(flags.max_body_mb * (1 << 20));

  // Block the signals before any thread starts so that only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  ServerMetrics metrics(names);
  ModelRegistry registry(specs, LoadModelScorer, &metrics);
  registry.LoadAll();

  std::unique_ptr<SigV4Verifier> verifier;
  if (!flags.auth_keys.empty()) verifier = std::make_unique<SigV4Verifier>(SigV4Verifier::FromKeysFile(flags.auth_keys));
  std::unique_ptr<AccessLog> access_log;
  if (!flags.access_log.empty()) access_log = std::make_unique<AccessLog>(flags.access_log);

  // Answers in flight: charged by the server, looked at by the router before a large answer.
  ByteBudget answer_budget(BudgetBytes(flags.response_budget_mb, "--response-budget-mb"));
  RouterOptions router_options;
  router_options.max_body_bytes = max_body_bytes;
  router_options.answer_budget = &answer_budget;
  router_options.admin_token = flags.admin_token;
  router_options.verifier = verifier.get();
  router_options.on_reload = LogReload;
  Router router(&registry, &metrics, router_options);

  HttpServerOptions options;
  options.host = !flags.host.empty() ? flags.host : container_mode ? "0.0.0.0" : "127.0.0.1";
  options.port = flags.port;
  options.threads = flags.threads == 0 ? HardwareThreads() : flags.threads;
  options.max_body_bytes = max_body_bytes;
  options.max_connections = flags.max_connections;
  options.max_buffered_body_bytes = BudgetBytes(flags.body_budget_mb, "--body-budget-mb");
  options.response_budget = &answer_budget;
  options.idle_timeout = Millis(flags.idle_timeout_s, "--idle-timeout");
  options.header_timeout = Millis(flags.header_timeout_s, "--header-timeout");
  options.body_timeout = Millis(flags.body_timeout_s, "--body-timeout");
  options.tls_cert_file = flags.tls_cert;
  options.tls_key_file = flags.tls_key;
  HttpServer server(router, metrics, access_log.get(), options);
  uint16_t port = server.Start();

  std::string model_list;
  for (const ModelSpec& spec : specs) model_list += fmt::format("{}{}={}", model_list.empty() ? "" : ", ", spec.name, spec.location);
  std::fprintf(stderr, "serve: listening on %s://%s:%u (%zu threads%s%s), models: %s\n",
               options.tls_cert_file.empty() ? "http" : "https", options.host.c_str(), port, options.threads,
               verifier ? ", SigV4 auth" : "", flags.admin_token.empty() ? "" : ", admin reload", model_list.c_str());
  std::fflush(stderr);

  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGHUP) {
      std::fprintf(stderr, "serve: SIGHUP: reloading models\n");
      LogReload(registry.Reload());
      continue;
    }
    std::fprintf(stderr, "serve: %s: finishing in-flight requests\n", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
    server.Stop();
    server.Wait();
    std::fprintf(stderr, "serve: stopped\n");
    return;
  }
}

}  // namespace

void AddServeCommand(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* command = app.add_subcommand(
      "serve",
      "HTTP inference server speaking SageMaker's hosting contract (/ping, /invocations, "
      "/endpoints/NAME/invocations, /execution-parameters, /metrics)");
  command->add_option("--model", flags->models,
                      "[NAME=]FILE, repeatable; a bare FILE is named after its stem. POST /invocations uses the "
                      "first. None: every *.ipinsights in $SM_ROOT/model (default /opt/ml/model), on 0.0.0.0");
  command->add_option("--host", flags->host, "address to bind (default 127.0.0.1; 0.0.0.0 in container mode)");
  command->add_option("--port", flags->port, "port (default 8080; 0 picks a free one)");
  command->add_option("--threads", flags->threads, "I/O threads (default: every core)");
  command->add_option("--max-body-mb", flags->max_body_mb, "largest request body in MB (default 6)");
  command->add_option("--max-connections", flags->max_connections,
                      "open connections cap (default 4096; lowered to fit the open-file limit)");
  command->add_option("--body-budget-mb", flags->body_budget_mb,
                      "MB of request bodies all connections together may have buffered; 503 beyond (default 1024)");
  command->add_option("--response-budget-mb", flags->response_budget_mb,
                      "MB of answers (of 64 KiB or more) all connections together may have unsent; 503 beyond "
                      "(default 1024)");
  command->add_option("--idle-timeout", flags->idle_timeout_s, "seconds a keep-alive connection may idle (default 60)");
  command->add_option("--header-timeout", flags->header_timeout_s, "seconds to receive a request header (default 10)");
  command->add_option("--body-timeout", flags->body_timeout_s, "seconds to receive a body / send a response (default 60)");
  command->add_option("--admin-token", flags->admin_token,
                      "enables POST /admin/reload with 'Authorization: Bearer TOKEN' or 'X-Admin-Token: TOKEN'");
  command->add_option("--auth-keys", flags->auth_keys,
                      "file of 'ACCESS_KEY_ID SECRET' lines: every request but /ping needs an AWS SigV4 signature "
                      "(service sagemaker) by one of them");
  command->add_option("--tls-cert", flags->tls_cert, "PEM certificate chain: serve HTTPS");
  command->add_option("--tls-key", flags->tls_key, "PEM private key for --tls-cert");
  command->add_option("--access-log", flags->access_log, "append one JSON line per request to FILE");
  command->callback([flags] { RunServe(*flags); });
}

}  // namespace ipinsights
