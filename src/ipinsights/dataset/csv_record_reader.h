// CsvRecordReader: the one CSV record splitter. Every reader of `entity,ip` text (train and
// evaluate through PairReader, score through CsvChunkReader and ParsePairChunk, serve's
// text/csv decoder) and of labels.csv splits records with it, so they all agree on where a
// record ends, what its fields are and why it is bad. The grammar is written out in
// docs/formats/training-csv.md ("Grammar"); in short:
//
// - RFC 4180 fields separated by ','; spaces and tabs after a comma are skipped (SageMaker's
//   "entity_id_1, 192.168.1.2"), so a quoted field may follow them.
// - A field that starts with '"' is quoted: '""' inside is one quote; commas and line breaks
//   are data. After its closing quote only ',' or the line end may follow, else the record is
//   bad ("text after a closing quote"). A '"' anywhere else in a field is a literal byte.
// - Records end with "\n", "\r\n", or the end of the input ("\r" there too). A line of only
//   spaces and tabs is blank: not a record.
// - A bad record (unterminated quoted field, text after a closing quote) is skipped up to the
//   first line break after the opening quote of the field that broke it, so one stray quote
//   costs one line, never the rest of the input.
// - Bounded: a record whose fate is not known within its first max_record_bytes bytes is bad
//   ("record longer than N bytes"; "unterminated quoted field (record longer than N bytes)"
//   when the cut falls inside a quoted field) and skipped up to the first line break after
//   that field's opening quote, or else the first line break at or after the cut. The rule
//   looks at the first max_record_bytes + 1 bytes only, so a streaming reader can apply it
//   exactly while holding that many bytes (CsvChunkReader), and a reader holding everything
//   reaches the same verdict.
//
// The reader works on a buffer that either holds the rest of the input (`last`), or may be
// followed by more bytes: then a record that runs to the end of the buffer is not guessed
// at but answered with kNeedMore (the caller appends input and starts a new reader at
// record_start()).
//
// Fields point into the buffer, except quoted fields with '""' escapes, which are unescaped
// into the reader's own storage; both stay valid until the next call to Next().
//
// Thread-safety: one reader per thread; the buffer must outlive it.
//
//   CsvRecordReader reader(body, /*last=*/true);
//   while (reader.Next() == CsvRecordReader::Result::kRecord) {
//     if (!reader.error().empty()) { Report(reader.line() + 1, reader.error()); continue; }
//     Use(reader.field(0), reader.field(1));
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ipinsights {

// The longest record any reader accepts: far beyond any real entity (a User-Agent header is
// at most a few KB), small enough that a broken file costs bounded memory.
inline constexpr size_t kMaxCsvRecordBytes = size_t{1} << 20;

class CsvRecordReader {
 public:
  enum class Result {
    kRecord,    // a record (good, or bad with error() set)
    kNeedMore,  // the buffer ends inside a record and is not `last`
    kEnd,       // no more records in the buffer
  };

  CsvRecordReader(std::string_view data, bool last, size_t max_record_bytes = kMaxCsvRecordBytes);

  // Moves to the next non-blank record.
  Result Next();

  // Empty when the current record is well formed; otherwise what is wrong with it.
  const std::string& error() const { return error_; }
  // 0-based line (counting every '\n' from the buffer's start) the record starts on.
  uint64_t line() const { return record_line_; }
  // Line breaks before position().
  uint64_t lines_consumed() const { return line_; }

  // Offsets in the buffer: where the current record starts, where the next one starts, and
  // one past the last byte the current verdict depended on (it may lie beyond position()
  // when a bad record resynchronises backwards; CsvChunkReader cuts only past it).
  size_t record_start() const { return record_start_; }
  size_t position() const { return pos_; }
  size_t examined() const { return examined_; }
  // True when the current (bad) record goes on past the end of a buffer that is not `last`:
  // the input up to and including the next '\n' after the buffer belongs to it.
  bool continues_past_buffer() const { return continues_; }

  size_t field_count() const { return field_count_; }
  std::string_view field(size_t i) const {
    return i < kInlineFields ? std::string_view(inline_fields_[i].data, inline_fields_[i].size)
                             : more_fields_[i - kInlineFields];
  }
  // True when `field` points into the buffer (not into the reader's unescaped copies).
  bool InBuffer(std::string_view field) const {
    return field.data() >= data_.data() && field.data() <= data_.data() + data_.size();
  }

 private:
  enum class Parse { kRecord, kBad, kNeedMore };
  static constexpr size_t kInlineFields = 4;  // no allocation for the usual 2-4 fields

  Parse ParseRecord(size_t start);
  Parse NeedMore(size_t start, size_t open_quote);
  Parse EndRecord(size_t end, uint64_t line_breaks);
  Parse Bad(size_t start, std::string error, size_t examined, size_t resync_from);
  void AddField(size_t begin, size_t end, bool escaped) {
    if (!escaped && field_count_ < kInlineFields) {  // the usual case: kept inline
      inline_fields_[field_count_++] = Span{data_.data() + begin, end - begin};
    } else {
      AddFieldSlow(begin, end, escaped);
    }
  }
  void AddFieldSlow(size_t begin, size_t end, bool escaped);

  std::string_view data_;
  bool last_;
  size_t max_record_bytes_;
  size_t pos_ = 0;
  uint64_t line_ = 0;
  size_t record_start_ = 0;
  uint64_t record_line_ = 0;
  size_t examined_ = 0;
  bool continues_ = false;
  bool first_field_quoted_ = false;
  size_t field_count_ = 0;
  // Plain pointer and size, left uninitialised: only the first field_count_ are read.
  struct Span {
    const char* data;
    size_t size;
  };
  Span inline_fields_[kInlineFields];
  std::vector<std::string_view> more_fields_;
  // Fields with "" escapes; unique_ptr keeps each string in place as the vector grows.
  std::vector<std::unique_ptr<std::string>> unescaped_;
  size_t unescaped_used_ = 0;
  std::string error_;
};

}  // namespace ipinsights
