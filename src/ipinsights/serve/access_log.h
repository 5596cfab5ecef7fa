// AccessLog: one JSON object per answered request, one per line, appended to a file.
//
//   {"time":"2026-11-28T05:30:00.123Z","remote":"127.0.0.1:51234","method":"POST",
//    "path":"/invocations","status":200,"route":"/invocations","model":"ct","pairs":1,
//    "bytes":27,"micros":41,"error":"..."}
//
// Each line is one write(2) to a file opened with O_APPEND. A failed or short write (a full
// disk, an I/O error) is counted in ServerMetrics::AccessLogError and warned about on stderr
// once per run of failures (again after a write has succeeded); serving goes on. After a short
// write the next line starts on a fresh line. Reopen() (on SIGHUP) opens the path again, so
// log rotation works: move the file away, send SIGHUP, new lines go to a new file.
//
// Thread-safety: Write and Reopen may be called from any thread; lines never interleave.
//
//   AccessLog log("access.jsonl", &metrics);   // throws Error when the file cannot be opened
//   log.Write(entry);
//   log.Reopen();                              // after logrotate moved the file
#pragma once

#include <cstdint>
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
  std::string_view error;  // the error message (escaped here), or empty
};

class ServerMetrics;

class AccessLog {
 public:
  // `metrics` (may be null) counts the lines that could not be written.
  explicit AccessLog(const std::string& path, ServerMetrics* metrics = nullptr);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void Write(const AccessLogEntry& entry);

  // Opens the path again (creating it) and writes there from now on. Throws Error, and keeps
  // writing to the current file, when it cannot be opened.
  void Reopen();

 private:
  void Failed(int error);

  std::string path_;
  ServerMetrics* metrics_;
  std::mutex mutex_;
  int fd_;                 // guarded by mutex_
  bool warned_ = false;    // guarded by mutex_: a warning for the current run of failures
  bool line_cut_ = false;  // guarded by mutex_: the last line was written only in part
};

}  // namespace ipinsights
