// One way to report a bad input record, after leveldb's log::Reader::Reporter: readers of
// every format (CloudTrail and WAF logs, the training CSV, labels.csv) skip a record they
// cannot use, hand a BadRecord to a BadRecordReporter and go on.
//
// A BadRecord names where the record is (the file, object or s3:// URI), its position (a
// 1-based line for text formats, a byte offset for JSON) and the reason. FormatBadRecord
// gives the one message every command prints:
//   "train.csv:88: bad IP \"10.0.0.256\""                   (a line)
//   "s3://b/k.json.gz: byte 1234: malformed JSON (...)"    (a byte offset)
//   "labels.csv: no column \"label\""                       (the whole location)
//
// BadRecordLog is the reporter the commands use: it counts every report, keeps the first
// `cap` messages (so a file of a billion bad rows costs constant memory) and, when strict,
// throws Error with the first message instead (`--strict` in prepare, train, evaluate and
// score).
//
// Thread-safety: BadRecordLog is safe to share between threads (a mutex per report; bad
// records are rare). Other reporters say their own.
//
//   BadRecordLog bad_records(BadRecordLog::kDefaultCap, strict);
//   PairReader reader("train.csv", &bad_records);
//   ...
//   for (const std::string& message : bad_records.messages()) Warn(message);
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace ipinsights {

struct BadRecord {
  enum class Position { kNone, kLine, kByteOffset };

  std::string location;  // file path, object key, s3:// URI or "-" (stdin)
  Position position = Position::kNone;
  uint64_t value = 0;  // the 1-based line or the byte offset, per `position`
  std::string reason;  // what is wrong, values quoted with QuoteForMessage

  static BadRecord AtLine(std::string location, uint64_t line, std::string reason);
  static BadRecord AtByte(std::string location, uint64_t offset, std::string reason);
  static BadRecord Whole(std::string location, std::string reason);
};

// "LOCATION:LINE: REASON", "LOCATION: byte OFFSET: REASON" or "LOCATION: REASON".
std::string FormatBadRecord(const BadRecord& record);

class BadRecordReporter {
 public:
  virtual ~BadRecordReporter() = default;
  // Called once per skipped record. May throw (a strict reporter stops the read); readers
  // leave themselves in a state where the exception can travel up.
  virtual void Report(const BadRecord& record) = 0;
};

class BadRecordLog : public BadRecordReporter {
 public:
  // Messages kept by default: enough to see every kind of problem in a bad file, few enough
  // to print.
  static constexpr size_t kDefaultCap = 100;

  explicit BadRecordLog(size_t cap = kDefaultCap, bool strict = false);

  // Counts the record and keeps its message while fewer than `cap` are kept. Strict: throws
  // Error(FormatBadRecord(record)) instead.
  void Report(const BadRecord& record) override;

  uint64_t count() const;                     // every record reported
  std::vector<std::string> messages() const;  // the first `cap`, in report order
  bool strict() const { return strict_; }

 private:
  const size_t cap_;
  const bool strict_;
  mutable std::mutex mutex_;
  uint64_t count_ = 0;
  std::vector<std::string> messages_;
};

}  // namespace ipinsights
