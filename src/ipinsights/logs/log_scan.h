// ScanLogs: reads many log objects in parallel and delivers their events in listing order.
//
// Objects are handed to `threads` workers (each with its own LogFileReader, so buffers and
// parsers are reused). Each object's events go to a FileOutput (from the caller's factory,
// recycled between objects); outputs are written out strictly in listing order, each
// object's events in record order, so the result is identical for any thread count. Memory
// stays bounded: at most a window of 2 x threads objects is in flight, and an object whose
// buffered output grows past `flush_bytes` waits for its turn and writes out early.
//
// Malformed files and records go to ScanOptions::bad_records in listing order, whatever
// the thread count (each object's are held until its turn, at most kBadRecordsPerObject of
// them; all are counted as skip reason `malformed`). A reporter that throws (BadRecordLog
// in strict mode: `prepare --strict`) ends the scan with its Error, naming the first
// malformed file or record in listing order. The pairs of an object with a corrupt gzip
// member are dropped unless `keep_corrupt`.
//
// Thread-safety: FileOutput::Add runs on worker threads (one object per output at a time);
// WriteOut calls and bad_records->Report are serialised, in order; `progress` runs on
// worker threads.
//
//   BadRecordLog bad_records(BadRecordLog::kDefaultCap, strict);
//   ScanOptions scan_options;
//   scan_options.bad_records = &bad_records;
//   ScanSummary summary = ScanLogs(objects, nullptr, reader_options, scan_options,
//                                  [&] { return std::make_unique<MyOutput>(...); });
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ipinsights/logs/log_listing.h"
#include "ipinsights/logs/log_reader.h"

namespace ipinsights {

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

// Bad records of one object that reach the reporter (the rest are counted only), as
// FileReport::problems kept before: a file of a billion bad lines costs constant memory.
inline constexpr size_t kBadRecordsPerObject = 100;

struct ScanOptions {
  size_t threads = 0;  // 0: all cores
  // Where malformed files and records are reported, in listing order; nullptr: counted only.
  BadRecordReporter* bad_records = nullptr;
  // Keep the pairs of an object whose gzip CRC32 / ISIZE check failed. Without it they are
  // dropped (counted as malformed), and when some were already written out (an object
  // whose rows passed flush_bytes) the scan ends with an Error.
  bool keep_corrupt = false;
  ReadProgress progress;  // advances by stored bytes read, on worker threads; may be empty
  size_t flush_bytes = size_t{16} << 20;
  size_t max_warnings = 1000;  // warnings kept
};

struct ScanSummary {
  uint64_t files = 0;  // objects listed (digest objects included)
  uint64_t digest_files = 0;
  uint64_t stored_bytes = 0;  // as read from storage (compressed)
  uint64_t json_bytes = 0;    // decompressed JSON
  uint64_t records = 0;
  uint64_t pairs = 0;
  SkipCounts skipped;
  std::vector<std::string> warnings;  // the first max_warnings, in listing order
  std::string json_kernel;
};

// The reader options `prepare` and `score` scan with: `entity` (default: the kind's), only
// events of `days` (by their own time), and a per-worker memory budget for `threads`
// workers. Event times and fields are off; the caller turns on what it needs.
LogReaderOptions ScanReaderOptions(LogKind kind, const std::optional<EntitySpec>& entity,
                                   const DayRange& days, bool ipv4_only,
                                   uint64_t max_decompressed_bytes, size_t threads);

// `storage`: where the objects are read from; nullptr picks OpenStorage(location) per object.
ScanSummary ScanLogs(const std::vector<ObjectInfo>& objects, Storage* storage,
                     const LogReaderOptions& reader_options, const ScanOptions& options,
                     const std::function<std::unique_ptr<FileOutput>()>& new_output);

}  // namespace ipinsights
