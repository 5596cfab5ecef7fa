// AccessLog: one JSON object per answered request, one per line, appended to a file.
//
//   {"time":"2026-11-28T05:30:00.123Z","remote":"127.0.0.1:51234","method":"POST",
//    "path":"/invocations","status":200,"route":"/invocations","model":"ct","pairs":1,
//    "bytes":27,"micros":41,"error":"..."}
//
// Thread-safety: Write may be called from any thread; lines never interleave.
//
//   AccessLog log("access.jsonl");   // throws Error when the file cannot be opened
//   log.Write(entry);
#pragma once

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace ipinsights {

struct AccessLogEntry {
  std::string_view remote;
  std::string_view method;
  std::string_view target;
  int status = 0;
  std::string_view route;
  std::string_view model;
  size_t pairs = 0;
  size_t response_bytes = 0;
  int64_t micros = 0;
  std::string_view error;  // a JSON string literal (already quoted) or empty
};

class AccessLog {
 public:
  explicit AccessLog(const std::string& path);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void Write(const AccessLogEntry& entry);

 private:
  std::FILE* file_;
  std::mutex mutex_;
};

}  // namespace ipinsights
