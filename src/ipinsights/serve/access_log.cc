#include "ipinsights/serve/access_log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/serve/metrics.h"
#include "ipinsights/serve/response_codec.h"

namespace ipinsights {

namespace {

int OpenLog(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(ErrnoMessage(path + ": cannot open the access log", errno));
  return fd;
}

}  // namespace

AccessLog::AccessLog(const std::string& path, ServerMetrics* metrics)
    : path_(path), metrics_(metrics), fd_(OpenLog(path)) {}

AccessLog::~AccessLog() { ::close(fd_); }

void AccessLog::Reopen() {
  int fd = OpenLog(path_);
  std::lock_guard<std::mutex> lock(mutex_);
  ::close(fd_);
  fd_ = fd;
  warned_ = false;
  line_cut_ = false;
}

void AccessLog::Failed(int error) {
  if (metrics_ != nullptr) metrics_->AccessLogError();
  if (warned_) return;
  warned_ = true;
  std::fprintf(
      stderr,
      "serve: warning: cannot write the access log %s: %s (lines are dropped and counted in "
      "ipinsights_access_log_errors_total; warned once until a write succeeds)\n",
      path_.c_str(), std::strerror(error));
}

void AccessLog::Write(const AccessLogEntry& entry) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  int64_t millis = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  std::string timestamp = FormatTimestamp(millis / 1000);  // "...:00Z"
  timestamp.insert(timestamp.size() - 1, fmt::format(".{:03d}", millis % 1000));
  std::string line;
  line.reserve(256);
  line += "{\"time\":\"" + timestamp + "\",\"remote\":";
  AppendJsonString(&line, entry.remote);
  line += ",\"method\":";
  AppendJsonString(&line, entry.method);
  line += ",\"path\":";
  AppendJsonString(&line, entry.target.substr(0, 1024));
  line += fmt::format(",\"status\":{},\"route\":", entry.status);
  AppendJsonString(&line, entry.route);
  if (!entry.model.empty()) {
    line += ",\"model\":";
    AppendJsonString(&line, entry.model);
  }
  line += fmt::format(",\"pairs\":{},\"bytes\":{},\"micros\":{}", entry.pairs, entry.response_bytes,
                      entry.micros);
  if (!entry.error.empty()) {
    line += ",\"error\":";
    AppendJsonString(&line, entry.error);
  }
  line += "}\n";
  std::lock_guard<std::mutex> lock(mutex_);
  // After a short write, end the cut line first so this one stays parsable on its own.
  if (line_cut_) line.insert(0, 1, '\n');
  std::string_view text = line;
  ssize_t written;
  do {
    written = ::write(fd_, text.data(), text.size());
  } while (written < 0 && errno == EINTR);
  if (written == static_cast<ssize_t>(text.size())) {
    warned_ = false;
    line_cut_ = false;
    return;
  }
  if (written > 0) line_cut_ = true;
  Failed(written < 0 ? errno : ENOSPC);
}

}  // namespace ipinsights
