#include "ipinsights/pipeline/server_notifier.h"

#include <fmt/format.h>
#include <signal.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>

#include "ipinsights/base/error.h"
#include "ipinsights/base/strings.h"
#include "ipinsights/storage/http_client.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

std::string AdminToken(const NotifyTarget& target) {
  if (!target.token_file.empty()) {
    return std::string(TrimWhitespace(ReadWholeObject(target.token_file)));
  }
  const char* value = std::getenv(target.token_env.c_str());
  if (value == nullptr || *value == '\0') {
    throw Error(fmt::format("notify {}: the environment variable {} (token_env) is not set",
                            target.url, target.token_env));
  }
  return value;
}

NotifyResult NotifyByHttp(const NotifyTarget& target) {
  const std::string token = AdminToken(target);
  HttpRequest request;
  request.method = "POST";
  request.url = target.url;
  request.headers = {{"X-Admin-Token", token}};
  request.connect_timeout_ms = 5'000;
  request.timeout_ms = 120'000;  // a reload of large models takes a while
  request.bypass_proxy = true;
  std::string body;
  HttpClientResponse response;
  try {
    response = HttpPerform(request, [&](std::string_view chunk) {
      if (body.size() < 4096) body.append(chunk.substr(0, 4096 - body.size()));
    });
  } catch (const HttpTransportError& error) {
    if (error.connection_refused()) {
      return {false, fmt::format("{}: no server is listening (it reads the current version when "
                                 "it starts)",
                                 target.url)};
    }
    throw Error(fmt::format("notify {}: {}", target.url, error.what()));
  }
  if (response.status < 200 || response.status >= 300) {
    const std::string& detail = response.body.empty() ? body : response.body;
    throw Error(fmt::format("notify {}: HTTP {}: {}", target.url, response.status,
                            CollapseBlanks(std::string(TrimWhitespace(detail)))));
  }
  return {true, fmt::format("{}: HTTP {} {}", target.url, response.status,
                            CollapseBlanks(std::string(TrimWhitespace(body))))};
}

// The command line of a process ("prog arg1 arg2"), or nullopt where /proc cannot tell.
std::optional<std::string> ProgramOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  if (!in) return std::nullopt;
  std::string line((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (char& c : line) c = c == '\0' ? ' ' : c;
  return std::string(TrimWhitespace(line));
}

// "…/ipinsights serve …" (any path, any flags).
bool IsIpinsightsServe(const std::string& command_line) {
  const size_t space = command_line.find(' ');
  const std::string program = command_line.substr(0, space);
  const size_t slash = program.rfind('/');
  const std::string name = slash == std::string::npos ? program : program.substr(slash + 1);
  return name.find("ipinsights") != std::string::npos &&
         (" " + command_line + " ").find(" serve ") != std::string::npos;
}

NotifyResult NotifyBySignal(const NotifyTarget& target) {
  if (!std::filesystem::exists(target.pid_file)) {
    return {false, fmt::format("{}: no PID file, so no server is running (it reads the current "
                               "version when it starts)",
                               target.pid_file)};
  }
  const std::string text(TrimWhitespace(ReadWholeObject(target.pid_file)));
  // Strictly a positive decimal that fits pid_t: kill(-1) or kill(0) would signal every
  // process we may signal.
  int64_t pid = 0;
  const bool digits = !text.empty() && text.size() <= 10 &&
                      text.find_first_not_of("0123456789") == std::string::npos;
  if (digits) pid = std::stoll(text);
  if (!digits || pid <= 1 || pid > std::numeric_limits<pid_t>::max()) {
    throw Error(
        fmt::format("notify {}: {} is not a process ID", target.pid_file, QuoteForMessage(text)));
  }
  // A PID file outliving its server may name a process that reused the number: signal only
  // an `ipinsights serve` (SIGHUP would end most other programs).
  if (std::optional<std::string> program = ProgramOf(static_cast<pid_t>(pid))) {
    if (!IsIpinsightsServe(*program)) {
      return {false,
              fmt::format("{}: process {} is not an ipinsights server ({}); a stale PID file "
                          "(a server reads the current version when it starts)",
                          target.pid_file, pid, QuoteForMessage(*program))};
    }
  }
  if (kill(static_cast<pid_t>(pid), SIGHUP) != 0) {
    if (errno == ESRCH) {
      return {false, fmt::format("{}: process {} is not running (a server reads the current "
                                 "version when it starts)",
                                 target.pid_file, pid)};
    }
    throw Error(
        ErrnoMessage(fmt::format("notify {}: SIGHUP to process {}", target.pid_file, pid), errno));
  }
  return {true, fmt::format("{}: SIGHUP sent to process {}", target.pid_file, pid)};
}

}  // namespace

NotifyResult NotifyServer(const NotifyTarget& target) {
  NotifyResult result = target.url.empty() ? NotifyBySignal(target) : NotifyByHttp(target);
  result.target = target.url.empty() ? target.pid_file : target.url;
  return result;
}

std::string NotifyReport::FailureSummary() const {
  if (failures.empty()) return "";
  if (failures.size() == 1) return failures.front();
  return fmt::format("{} (and {} more)", failures.front(), failures.size() - 1);
}

NotifyReport NotifyServers(const std::vector<NotifyTarget>& targets) {
  NotifyReport report;
  for (const NotifyTarget& target : targets) {
    try {
      report.results.push_back(NotifyServer(target));
    } catch (const std::exception& error) {
      report.failures.push_back(error.what());
    }
  }
  return report;
}

}  // namespace ipinsights
