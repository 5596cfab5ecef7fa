// ScanLogs: reads many log objects in parallel and delivers their events in listing order.
//
// Objects are handed to `threads` workers (each with its own LogFileReader, so buffers and
// parsers are reused). Each object's events go to a FileOutput (from the caller's factory,
// recycled between objects); outputs are written out strictly in listing order, each
// object's events in record order, so the result is identical for any thread count. Memory
// stays bounded: at most a window of 2 x threads objects is in flight, and an object whose
// buffered output grows past `flush_bytes` waits for its turn and writes out early.
//
// Problems (malformed input) are collected in listing order; with `strict` the first one
// found ends the scan with an Error carrying its message. The pairs of an object with a
// corrupt gzip member are dropped unless `keep_corrupt`.
//
// Thread-safety: FileOutput::Add runs on worker threads (one object per output at a time);
// WriteOut calls are serialised, in order.
//
//   ScanSummary summary = ScanLogs(objects, nullptr, reader_options, scan_options,
//                                  [&] { return std::make_unique<MyOutput>(...); });
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ipinsights/logs/log_reader.h"

namespace ipinsights {

class Progress;

// One object's buffered events.
class FileOutput : public EventSink {
 public:
  // Bytes buffered so far (checked now and then to bound memory).
  virtual size_t BufferedBytes() const = 0;
  // Writes the buffered events to their destination and empties the buffer.
  virtual void WriteOut() = 0;
  // Drops the buffered events (those of an object whose gzip check failed).
  virtual void Discard() = 0;
};

struct ScanOptions {
  size_t threads = 0;  // 0: all cores
  bool strict = false;
  // Keep the pairs of an object whose gzip CRC32 / ISIZE check failed. Without it they are
  // dropped (counted as malformed), and when some were already written out (an object
  // whose rows passed flush_bytes) the scan ends with an Error.
  bool keep_corrupt = false;
  Progress* progress = nullptr;
  size_t flush_bytes = size_t{16} << 20;
  size_t max_problems = 1000;  // messages kept (all are counted)
};

struct ScanSummary {
  uint64_t files = 0;         // objects listed (digest objects included)
  uint64_t digest_files = 0;
  uint64_t stored_bytes = 0;  // as read from storage (compressed)
  uint64_t json_bytes = 0;    // decompressed JSON
  uint64_t records = 0;
  uint64_t pairs = 0;
  SkipCounts skipped;
  uint64_t problem_count = 0;
  std::vector<std::string> problems;  // the first max_problems, in listing order
  std::vector<std::string> warnings;  // the first max_problems, in listing order
  std::string json_kernel;
};

// `storage`: where the objects are read from; nullptr picks OpenStorage(location) per object.
ScanSummary ScanLogs(const std::vector<ObjectInfo>& objects, Storage* storage,
                     const LogReaderOptions& reader_options, const ScanOptions& options,
                     const std::function<std::unique_ptr<FileOutput>()>& new_output);

}  // namespace ipinsights
