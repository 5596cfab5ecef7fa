// `ipinsights serve`: the SageMaker-compatible inference server (see serve/router.h for the
// routes and serve/http_server.h for the connection handling).
//
// Signals are taken synchronously by this thread (sigwait) while the server threads run:
// SIGHUP reloads every model here, off the I/O threads, so no request waits for a reload;
// SIGTERM / SIGINT stop accepting, drain in-flight requests and return (exit 0).
// A --model location that is a registry model (REGISTRY/NAME with a `current` pointer) serves
// the current version; --poll-registry re-reads the pointers on a thread of its own.
#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "ipinsights/base/error.h"
#include "ipinsights/base/parallel.h"
#include "ipinsights/cli/commands.h"
#include "ipinsights/model/model_file.h"
#include "ipinsights/serve/access_log.h"
#include "ipinsights/serve/http_server.h"
#include "ipinsights/serve/metrics.h"
#include "ipinsights/serve/model_registry.h"
#include "ipinsights/serve/model_scorer.h"
#include "ipinsights/serve/registry_poller.h"
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
  // Secrets and authentication scope (review M9, L1, L2): secrets come from files or the
  // environment, never from the command line, which every local user can read in /proc.
  std::string admin_token_file;
  std::string auth_host;
  std::string auth_region;
  std::string metrics_token_file;
  double poll_registry_s = 0;  // 0: no polling
};

constexpr const char* kAdminTokenEnv = "IPINSIGHTS_ADMIN_TOKEN";

// The secret in `path`: the file's text without trailing blanks and newlines. A file that
// others may read is worth a warning; an empty one is a usage error.
std::string ReadSecretFile(const std::string& path, const char* flag) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr)
    throw Error(ErrnoMessage(fmt::format("serve: {} {}: cannot open", flag, path), errno));
  std::string text;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0 && text.size() < (1 << 16))
    text.append(buffer, n);
  bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) throw Error(fmt::format("serve: {} {}: cannot read", flag, path));
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (text.empty()) throw UsageError(fmt::format("serve: {} {}: the file is empty", flag, path));
  if (text.find_first_of("\r\n") != std::string::npos)
    throw UsageError(fmt::format("serve: {} {}: expected one line", flag, path));
  std::error_code ec;
  auto permissions = std::filesystem::status(path, ec).permissions();
  using std::filesystem::perms;
  if (!ec && (permissions & (perms::group_read | perms::others_read)) != perms::none)
    std::fprintf(stderr, "serve: warning: %s %s can be read by other users (chmod 600 it)\n", flag,
                 path.c_str());
  return text;
}

// The admin token from exactly one of --admin-token-file, IPINSIGHTS_ADMIN_TOKEN or the
// deprecated --admin-token; empty when none is given.
std::string AdminToken(const ServeFlags& flags) {
  const char* env = std::getenv(kAdminTokenEnv);
  bool has_env = env != nullptr && *env != '\0';
  if (!flags.admin_token.empty() && !flags.admin_token_file.empty())
    throw UsageError("serve: give --admin-token-file or --admin-token, not both");
  if (!flags.admin_token_file.empty())
    return ReadSecretFile(flags.admin_token_file, "--admin-token-file");
  if (!flags.admin_token.empty()) {
    std::fprintf(stderr,
                 "serve: warning: --admin-token is visible to every local user in "
                 "/proc/PID/cmdline and ps; it "
                 "is deprecated: use --admin-token-file FILE or %s\n",
                 kAdminTokenEnv);
    return flags.admin_token;
  }
  if (has_env) {
    std::string token = env;
    unsetenv(kAdminTokenEnv);  // before any thread starts; not passed on to children
    return token;
  }
  return "";
}

// Every numeric flag within a sane range (review L11): 1e300 seconds overflowed the
// millisecond count, a huge body size the size_t.
void CheckServeFlagRanges(const ServeFlags& flags) {
  constexpr double kDay = 86400;
  auto seconds = [&](double value, const char* flag) {
    if (!(value > 0 && value <= kDay))
      throw UsageError(
          fmt::format("serve: {} must be more than 0 and at most {} seconds (a day), got {}", flag,
                      kDay, value));
  };
  seconds(flags.idle_timeout_s, "--idle-timeout");
  seconds(flags.header_timeout_s, "--header-timeout");
  seconds(flags.body_timeout_s, "--body-timeout");
  if (!(flags.max_body_mb > 0 && flags.max_body_mb <= 1024))
    throw UsageError(
        fmt::format("serve: --max-body-mb must be more than 0 and at most 1024 (1 GiB), got {}",
                    flags.max_body_mb));
  if (flags.threads > 1024)
    throw UsageError(fmt::format("serve: --threads must be at most 1024 (0: every core), got {}",
                                 flags.threads));
  if (flags.poll_registry_s != 0) seconds(flags.poll_registry_s, "--poll-registry");
  if (flags.max_connections < 1 || flags.max_connections > 1000000)
    throw UsageError(fmt::format("serve: --max-connections must be from 1 to 1000000, got {}",
                                 flags.max_connections));
}

// SageMaker container mode: every *.ipinsights in $SM_ROOT/model (default /opt/ml/model).
std::vector<std::string> ContainerModels() {
  const char* root = std::getenv("SM_ROOT");
  std::filesystem::path dir =
      std::filesystem::path(root != nullptr && *root != '\0' ? root : "/opt/ml") / "model";
  std::vector<std::string> files;
  std::error_code ec;
  // Outside a container (no $SM_ROOT, no /opt/ml) the user simply forgot --model.
  if ((root == nullptr || *root == '\0') && !std::filesystem::exists("/opt/ml", ec)) {
    throw UsageError(
        "serve: give the model to serve: --model model/model.ipinsights, or --model NAME=FILE "
        "for each of several (without --model, serve runs in SageMaker container mode and "
        "serves $SM_ROOT/model, default /opt/ml/model)");
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".ipinsights") continue;
    // Only model files: `train` keeps the training history (history.ipinsights) beside the
    // model, and serve never reads it.
    char magic[sizeof(kModelFileMagic)] = {};
    std::ifstream(entry.path(), std::ios::binary).read(magic, sizeof(magic));
    if (std::memcmp(magic, kModelFileMagic, sizeof(magic)) != 0) continue;
    files.push_back(entry.path().string());
  }
  if (ec)
    throw Error(fmt::format("{}: cannot list the model folder: {}", dir.string(), ec.message()));
  if (files.empty())
    throw UsageError(
        fmt::format("serve: no --model given and no *.ipinsights in {}", dir.string()));
  std::sort(files.begin(), files.end());
  return files;
}

// " (version V)" for a registry model, else "".
std::string VersionNote(const ModelRegistry& registry, const std::string& name) {
  std::string version = registry.version(name);
  return version.empty() ? "" : fmt::format(" (version {})", version);
}

void LogReload(const ModelRegistry& registry, const ModelRegistry::ReloadResult& result) {
  for (const std::string& name : result.reloaded)
    std::fprintf(stderr, "serve: reloaded model %s%s\n", name.c_str(),
                 VersionNote(registry, name).c_str());
  for (const std::string& failure : result.failed)
    std::fprintf(stderr, "serve: reload failed, the previous model keeps serving: %s\n",
                 failure.c_str());
  std::fflush(stderr);
}

std::chrono::milliseconds Millis(double seconds, const char* flag) {
  if (!(seconds > 0 && seconds <= 86400))
    throw UsageError(fmt::format("serve: {} must be positive, at most a day", flag));
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// A server-wide memory budget in MB: at least 1, at most 1 TiB.
size_t BudgetBytes(double mb, const char* flag) {
  if (!(mb >= 1 && mb <= 1 << 20))
    throw UsageError(fmt::format("serve: {} must be between 1 and 1048576", flag));
  return static_cast<size_t>(mb * (1 << 20));
}

void RunServe(const ServeFlags& flags) {
  CheckServeFlagRanges(flags);
  std::string admin_token = AdminToken(flags);
  SigV4Verifier::Options auth_options;
  auth_options.host = flags.auth_host;
  auth_options.region = flags.auth_region;
  if (!flags.metrics_token_file.empty())
    auth_options.metrics_token = ReadSecretFile(flags.metrics_token_file, "--metrics-token-file");
  if (flags.auth_keys.empty() &&
      (!flags.auth_host.empty() || !flags.auth_region.empty() || !flags.metrics_token_file.empty()))
    throw UsageError("serve: --auth-host, --auth-region and --metrics-token-file need --auth-keys");

  bool container_mode = flags.models.empty();
  std::vector<std::string> model_args = container_mode ? ContainerModels() : flags.models;
  std::vector<ModelSpec> specs;
  std::vector<std::string> names;
  bool any_registry = false;
  for (const std::string& arg : model_args) {
    specs.push_back(ParseModelSpec(arg));
    names.push_back(specs.back().name);
    if (!container_mode) specs.back().registry = IsRegistryModelLocation(specs.back().location);
    any_registry |= specs.back().registry;
  }
  if (flags.poll_registry_s > 0 && !any_registry)
    throw UsageError(
        "serve: --poll-registry needs a registry model (--model NAME=REGISTRY/NAME, a location "
        "with a `current` pointer)");
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
  if (!flags.auth_keys.empty())
    verifier =
        std::make_unique<SigV4Verifier>(SigV4Verifier::FromKeysFile(flags.auth_keys, auth_options));
  std::unique_ptr<AccessLog> access_log;
  if (!flags.access_log.empty())
    access_log = std::make_unique<AccessLog>(flags.access_log, &metrics);

  // Answers in flight: charged by the server, looked at by the router before a large answer.
  ByteBudget answer_budget(BudgetBytes(flags.response_budget_mb, "--response-budget-mb"));
  RouterOptions router_options;
  router_options.max_body_bytes = max_body_bytes;
  router_options.answer_budget = &answer_budget;
  router_options.admin_token = admin_token;
  router_options.verifier = verifier.get();
  router_options.on_reload = [&registry](const ModelRegistry::ReloadResult& result) {
    LogReload(registry, result);
  };
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
  for (const ModelSpec& spec : specs)
    model_list += fmt::format("{}{}={}{}", model_list.empty() ? "" : ", ", spec.name, spec.location,
                              VersionNote(registry, spec.name));
  std::fprintf(stderr, "serve: listening on %s://%s:%u (%zu threads%s%s), models: %s\n",
               options.tls_cert_file.empty() ? "http" : "https", options.host.c_str(), port,
               options.threads, verifier ? ", SigV4 auth" : "",
               admin_token.empty() ? "" : ", admin reload", model_list.c_str());
  std::fflush(stderr);

  std::unique_ptr<RegistryPoller> poller;
  if (flags.poll_registry_s > 0) {
    poller = std::make_unique<RegistryPoller>(
        &registry, std::chrono::milliseconds(static_cast<int64_t>(flags.poll_registry_s * 1000)),
        [&registry](const ModelRegistry::ReloadResult& result) { LogReload(registry, result); });
  }

  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGHUP) {
      std::fprintf(stderr, "serve: SIGHUP: reloading models\n");
      LogReload(registry, registry.Reload());
      // Log rotation and key rotation ride on the same signal; a failure keeps the old one.
      if (access_log) {
        try {
          access_log->Reopen();
        } catch (const Error& e) {
          std::fprintf(stderr, "serve: the access log stays on the old file: %s\n", e.what());
        }
      }
      if (verifier) {
        try {
          verifier->ReloadKeysFile();
          std::fprintf(stderr, "serve: reloaded the --auth-keys file\n");
        } catch (const Error& e) {
          std::fprintf(stderr, "serve: --auth-keys reload failed, the current keys kept: %s\n",
                       e.what());
        }
      }
      std::fflush(stderr);
      continue;
    }
    std::fprintf(stderr, "serve: %s: finishing in-flight requests\n",
                 signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
    if (poller) poller->Stop();
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
  command->add_option(
      "--model", flags->models,
      "[NAME=]FILE or [NAME=]REGISTRY/NAME, repeatable; a bare FILE is named after its stem. "
      "REGISTRY/NAME (a local folder or s3://bucket/prefix/NAME with a `current` pointer, see "
      "docs/formats/registry.md) serves its current version and follows it on reload. POST "
      "/invocations uses the first. None: every *.ipinsights in $SM_ROOT/model (default "
      "/opt/ml/model), on 0.0.0.0");
  command->add_option("--host", flags->host,
                      "address to bind (default 127.0.0.1; 0.0.0.0 in container mode)");
  command->add_option("--port", flags->port, "port (default 8080; 0 picks a free one)");
  command->add_option("--threads", flags->threads, "I/O threads (default: every core)");
  command->add_option("--max-body-mb", flags->max_body_mb,
                      "largest request body in MB (default 6)");
  command->add_option("--max-connections", flags->max_connections,
                      "open connections cap (default 4096; lowered to fit the open-file limit)");
  command->add_option(
      "--body-budget-mb", flags->body_budget_mb,
      "MB of request bodies all connections together may have buffered; 503 beyond (default 1024)");
  command->add_option(
      "--response-budget-mb", flags->response_budget_mb,
      "MB of answers (of 64 KiB or more) all connections together may have unsent; 503 beyond "
      "(default 1024)");
  command->add_option("--idle-timeout", flags->idle_timeout_s,
                      "seconds a keep-alive connection may idle (default 60)");
  command->add_option("--header-timeout", flags->header_timeout_s,
                      "seconds to receive a request header (default 10)");
  command->add_option("--body-timeout", flags->body_timeout_s,
                      "seconds to receive a body / send a response (default 60)");
  command->add_option(
      "--admin-token", flags->admin_token,
      "deprecated (visible in ps and /proc): use --admin-token-file or $IPINSIGHTS_ADMIN_TOKEN");
  command->add_option(
      "--auth-keys", flags->auth_keys,
      "file of 'ACCESS_KEY_ID SECRET' lines: every request but /ping needs an AWS SigV4 signature "
      "(service sagemaker) by one of them; re-read on SIGHUP");
  command->add_option("--tls-cert", flags->tls_cert, "PEM certificate chain: serve HTTPS");
  command->add_option("--tls-key", flags->tls_key, "PEM private key for --tls-cert");
  command->add_option(
      "--access-log", flags->access_log,
      "append one JSON line per request to FILE (reopened on SIGHUP, for log rotation)");
  // Secrets from files or the environment; authentication scope (review M9, L1, L2).
  command->add_option(
      "--admin-token-file", flags->admin_token_file,
      "enables POST /admin/reload with 'Authorization: Bearer TOKEN' or 'X-Admin-Token: TOKEN', "
      "TOKEN being the file's one line (or set $IPINSIGHTS_ADMIN_TOKEN)");
  command->add_option(
      "--auth-host", flags->auth_host,
      "with --auth-keys: the signed Host header must be this HOST[:PORT] (default: any)");
  command->add_option("--auth-region", flags->auth_region,
                      "with --auth-keys: the signature's region must be this (default: any)");
  command->add_option(
      "--metrics-token-file", flags->metrics_token_file,
      "with --auth-keys: GET /metrics also accepts 'Authorization: Bearer TOKEN', TOKEN being the "
      "file's one line (Prometheus: authorization: {credentials_file: FILE})");
  command->add_option(
      "--poll-registry", flags->poll_registry_s,
      "every SECONDS, re-read the `current` pointer of each registry model and switch the names "
      "whose version changed (default: only on SIGHUP or POST /admin/reload)");
  command->callback([flags] { RunServe(*flags); });
}

}  // namespace ipinsights
