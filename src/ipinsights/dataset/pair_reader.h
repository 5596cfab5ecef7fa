// PairReader: reads (entity, ip) pairs from SageMaker IP Insights' training CSV.
//
// The format: headerless CSV (RFC 4180), first field the entity (opaque string, quoted
// when it holds a comma, quote or line break; "" inside quotes is one quote), second an
// IPv4 or IPv6 address; an optional space after the comma ("user_1, 192.0.2.7"); CRLF or
// LF line ends; blank lines are ignored. A location may be a file, "-" (stdin), a folder
// or an s3:// prefix: every object under it is read in order.
//
// A bad row (wrong number of fields, empty entity, not an address, unterminated quote) is
// skipped and counted; the first kMaxReportedErrors are kept as messages naming the object
// and line ("train.csv:88: bad IP \"10.0.0.256\""). The read goes on.
//
// Thread-safety: one reader per thread.
//
//   PairReader reader("train.csv");
//   std::string_view entity; IpAddress ip;
//   while (reader.Next(&entity, &ip)) Use(entity, ip);
//   if (reader.stats().bad_rows > 0) Warn(reader.stats().errors[0]);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/pairs/ip_address.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {

struct PairReadStats {
  uint64_t rows = 0;      // good rows returned
  uint64_t bad_rows = 0;  // rows skipped
  uint64_t bytes = 0;     // bytes read
  std::vector<std::string> errors;  // the first kMaxReportedErrors bad rows, described
};

class PairReader {
 public:
  static constexpr size_t kMaxReportedErrors = 20;
  // Longest record accepted: a longer one (a run-away quote, a line without a line break)
  // is reported as one bad row and skipped up to the next '\n' after the cut, in bounded
  // memory and linear time.
  static constexpr size_t kMaxRecordBytes = 1 << 20;

  // Lists the objects at `location` (throws Error when it does not exist).
  explicit PairReader(const std::string& location);
  ~PairReader();

  // The next good pair. `entity` stays valid until the next call. False at the end.
  // Throws Error only when the storage fails.
  bool Next(std::string_view* entity, IpAddress* ip);

  const PairReadStats& stats() const { return stats_; }
  // The object and line of the row last returned (for messages).
  const std::string& current_object() const { return object_name_; }
  uint64_t current_line() const { return record_line_; }

 private:
  enum class Parse { kRecord, kBadRecord, kBlank, kNeedMore };
  bool OpenNextObject();
  bool Fill();
  void SkipOverlongRecord();
  Parse ParseRecord(std::string_view* entity, std::string_view* ip_text, std::string* problem);
  void ReportBad(const std::string& problem);

  std::vector<std::string> objects_;
  size_t next_object_ = 0;
  std::unique_ptr<SequentialReader> reader_;
  std::string object_name_;
  bool eof_ = true;
  bool skipping_ = false;     // dropping an overlong record up to the next '\n'
  std::string buffer_;
  size_t position_ = 0;
  uint64_t line_ = 1;         // line at position_
  uint64_t record_line_ = 0;  // first line of the record last parsed
  std::string unquoted_;      // a quoted entity, unescaped
  std::string unquoted_ip_;   // a quoted address, unescaped
  PairReadStats stats_;
};

}  // namespace ipinsights
