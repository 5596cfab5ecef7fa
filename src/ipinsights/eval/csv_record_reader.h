// CsvRecordReader: splits a buffer of whole CSV records (RFC 4180) into fields, in place.
//
// Accepted: fields separated by ',' with optional spaces after the comma (SageMaker's
// "entity_id_1, 192.168.1.2"); a field that starts with '"' is quoted, '""' inside it is a
// literal quote, and it may contain commas and line breaks; records end with "\n" or
// "\r\n" or the end of the buffer; blank lines are skipped. A quote in the middle of an
// unquoted field is kept literally (as pandas and SageMaker's reader do).
// A malformed record (unterminated quote, text after a closing quote) is reported through
// error() and skipped: the reader resynchronises at the first line break after the quote
// that opened the bad field, so one unbalanced quote costs one line, never the rest of
// the buffer.
//
// Fields point into the buffer, except quoted fields with '""' escapes, which are
// unescaped into the reader's own storage; both stay valid until the next call to Next().
//
// Thread-safety: one reader per thread; the buffer must outlive it.
//
//   CsvRecordReader reader(chunk);
//   while (reader.Next()) {
//     if (!reader.error().empty()) { Report(reader.line(), reader.error()); continue; }
//     Use(reader.field(0), reader.field(1));
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace ipinsights {

// CsvChunkReader puts this, then the reason and the record's line break, in place of a
// record it dropped for being longer than its limit; CsvRecordReader reports that record as
// malformed with the reason as error(). It starts with a NUL byte, which text CSV does not
// hold, and has no comma: a real record that began with it would be malformed anyway.
inline constexpr std::string_view kDroppedRecordMarker{"\0ipinsights-dropped-record:", 27};

class CsvRecordReader {
 public:
  explicit CsvRecordReader(std::string_view data) : data_(data) {}

  // Moves to the next non-blank record; false at the end of the buffer.
  bool Next();

  // Empty when the current record is well formed; otherwise what is wrong with it.
  const std::string& error() const { return error_; }
  // 0-based index of the line (counting every '\n' in the buffer) the record starts on.
  uint64_t line() const { return record_line_; }
  // Line breaks consumed so far (== total lines of the buffer once Next() returned false).
  uint64_t lines_consumed() const { return line_; }

  size_t field_count() const { return fields_.size(); }
  std::string_view field(size_t i) const { return fields_[i]; }

 private:
  // Parses one field starting at pos_; false (error_ set) when malformed.
  bool ParseField();
  void SkipToEndOfLine();

  std::string_view data_;
  size_t pos_ = 0;
  uint64_t line_ = 0;
  uint64_t record_line_ = 0;
  size_t quote_open_ = 0;  // where the last quoted field opened, and on which line
  uint64_t quote_open_line_ = 0;
  std::vector<std::string_view> fields_;
  std::deque<std::string> unescaped_;  // fields with "" escapes (deque: stable addresses)
  size_t unescaped_used_ = 0;
  std::string error_;
};

}  // namespace ipinsights
