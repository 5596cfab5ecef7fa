// PairReader: reads (entity, ip) pairs from SageMaker IP Insights' training CSV, one after
// the other (`train`, `evaluate --test`).
//
// The format and every row rule are those of docs/formats/training-csv.md ("Grammar"):
// records split by CsvRecordReader over a buffer that grows as the object is read (asked
// for more input on kNeedMore, as CsvChunkReader does for `score`), judged by
// ParsePairRecord. A record longer than kMaxRecordBytes is one bad row, skipped in linear
// time and constant memory: the buffer never holds more than about one read plus one
// record. A location may be a file, "-" (stdin), a folder or an s3://
// prefix: every object under it is read in the order of dataset/channel_listing.h (the parts
// of a sharded `prepare` in index order, their summaries skipped), and `entity,ip` on the
// first line of each object is a header.
//
// A bad row is skipped: it is counted and handed to the BadRecordReporter (if any) as
// BadRecord::AtLine(object, line, reason), e.g. "train.csv:88: bad IP \"10.0.0.256\"". A
// reporter that throws (BadRecordLog in strict mode) stops the read with its exception.
//
// Thread-safety: one reader per thread.
//
//   BadRecordLog bad_rows(BadRecordLog::kDefaultCap, strict);
//   PairReader reader("train.csv", &bad_rows);
//   std::string_view entity; IpAddress ip;
//   while (reader.Next(&entity, &ip)) Use(entity, ip);
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/base/bad_record.h"
#include "ipinsights/dataset/csv_record_reader.h"
#include "ipinsights/pairs/ip_address.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {

struct PairReadStats {
  uint64_t rows = 0;      // good rows returned
  uint64_t bad_rows = 0;  // rows skipped (each one reported)
  uint64_t bytes = 0;     // bytes read
};

class PairReader {
 public:
  static constexpr size_t kMaxRecordBytes = kMaxCsvRecordBytes;

  // Lists the objects at `location` (throws Error when it does not exist). `reporter` (may
  // be null: bad rows are then only counted) must outlive the reader. `read_bytes`: the
  // size of one read (tests and the fuzzer make it small).
  explicit PairReader(const std::string& location, BadRecordReporter* reporter = nullptr,
                      size_t read_bytes = size_t{1} << 20,
                      size_t max_record_bytes = kMaxRecordBytes);
  ~PairReader();

  // The next good pair. `entity` stays valid until the next call. False at the end.
  // Throws Error when the storage fails, or what the reporter throws.
  bool Next(std::string_view* entity, IpAddress* ip);

  const PairReadStats& stats() const { return stats_; }
  // The 1-based line of the row last returned, in its object.
  uint64_t current_line() const { return current_line_; }

 private:
  bool OpenNextObject();
  // Keeps buffer_ from `keep_from` on, appends the next read (at least as much as is kept,
  // so a long record is rescanned O(log) times) and starts records_ over it.
  void Refill(size_t keep_from);
  // Drops input up to and including the next '\n' (a bad record that goes on past the
  // buffer), keeping nothing; then starts records_ over what follows.
  void SkipPastLineBreak();

  std::vector<std::string> objects_;
  size_t next_object_ = 0;
  BadRecordReporter* reporter_;
  const size_t read_bytes_;
  const size_t max_record_bytes_;
  std::string object_name_;
  std::unique_ptr<SequentialReader> input_;
  bool eof_ = true;
  std::string buffer_;
  std::optional<CsvRecordReader> records_;  // over buffer_
  bool first_line_in_buffer_ = false;       // buffer_ starts at the object's first line
  uint64_t line_base_ = 0;                  // lines of the object before buffer_
  uint64_t current_line_ = 0;
  std::string problem_;
  PairReadStats stats_;
};

}  // namespace ipinsights
