#include "ipinsights/serve/access_log.h"
#include "ipinsights/base/json_text.h"

#include <cerrno>
#include <chrono>

#include <fmt/format.h>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/serve/response_codec.h"

namespace ipinsights {

AccessLog::AccessLog(const std::string& path) : file_(std::fopen(path.c_str(), "a")) {
  if (file_ == nullptr) throw Error(ErrnoMessage(path + ": cannot open the access log", errno));
}

AccessLog::~AccessLog() { std::fclose(file_); }

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
  line += fmt::format(",\"pairs\":{},\"bytes\":{},\"micros\":{}", entry.pairs, entry.response_bytes, entry.micros);
  if (!entry.error.empty()) {
    line += ",\"error\":";
    line += entry.error;  // already a JSON string literal
  }
  line += "}\n";
  std::lock_guard<std::mutex> lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace ipinsights
