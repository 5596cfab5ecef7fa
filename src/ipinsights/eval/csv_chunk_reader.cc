#include "ipinsights/eval/csv_chunk_reader.h"

#include <fmt/format.h>

#include <cstring>

#include "ipinsights/eval/csv_record_reader.h"

namespace ipinsights {

size_t EndOfLastCsvRecord(std::string_view data) {
  // memchr on a default string_view's null data() is undefined even for 0 bytes (found by
  // fuzz/csv_fuzzer).
  if (data.empty()) return 0;
  // Fast path: without quotes every line break ends a record.
  if (std::memchr(data.data(), '"', data.size()) == nullptr) {
    const void* last = memrchr(data.data(), '\n', data.size());
    return last == nullptr ? 0 : static_cast<const char*>(last) - data.data() + 1;
  }
  // The same rules as CsvRecordReader: a quote opens a quoted field only at the start of a
  // field (record start, or after a comma and optional spaces). Text after a closing quote
  // makes the record malformed, and, as the reader resynchronises, it then ends at the first
  // line break after the quote that opened that field (not at the next line break after the
  // stray text: that one may lie inside a later, well-formed quoted record; found by
  // fuzz/csv_fuzzer). A record still open at the end of `data` has no known end yet.
  enum State { kRecordStart, kAfterComma, kUnquoted, kQuoted, kQuoteSeen };
  State state = kRecordStart;
  size_t end = 0;
  size_t quote_open = 0;  // the opening quote of the current quoted field
  for (size_t i = 0; i < data.size(); ++i) {
    char c = data[i];
    switch (state) {
      case kRecordStart:
      case kAfterComma:
        if (c == '"') {
          state = kQuoted;
          quote_open = i;
        } else if (c == '\n') {
          end = i + 1;
          state = kRecordStart;
        } else if (c == ',') {
          state = kAfterComma;
        } else if (!(c == ' ' && state == kAfterComma)) {
          state = kUnquoted;
        }
        break;
      case kUnquoted:
        if (c == ',') state = kAfterComma;
        if (c == '\n') {
          end = i + 1;
          state = kRecordStart;
        }
        break;
      case kQuoted:
        if (c == '"') state = kQuoteSeen;
        break;
      case kQuoteSeen:
        if (c == '"') {
          state = kQuoted;
        } else if (c == ',') {
          state = kAfterComma;
        } else if (c == '\n') {
          end = i + 1;
          state = kRecordStart;
        } else if (c == '\r' && i + 1 == data.size()) {
          return end;  // "\r" then the end of `data`: the next byte decides
        } else if (c == '\r' && data[i + 1] == '\n') {
          // "\r\n" after a closing quote: the '\n' ends the record next round.
        } else {
          const void* line_break = std::memchr(data.data() + quote_open, '\n', data.size() - quote_open);
          if (line_break == nullptr) return end;
          i = static_cast<const char*>(line_break) - data.data();
          end = i + 1;
          state = kRecordStart;
        }
        break;
    }
  }
  return end;
}

CsvChunkReader::CsvChunkReader(std::unique_ptr<SequentialReader> input, size_t chunk_bytes,
                               size_t max_record_bytes)
    : input_(std::move(input)),
      chunk_bytes_(chunk_bytes < 64 ? 64 : chunk_bytes),
      max_record_bytes_(max_record_bytes) {}

// `buffer` holds the start of one record, longer than max_record_bytes_ and without a line
// break. Reads on, keeping nothing, up to the next line break (or the end of the input), and
// replaces the record with kDroppedRecordMarker and the reason, which CsvRecordReader
// reports as one malformed row; line numbers stay right, as the dropped bytes hold no '\n'.
void CsvChunkReader::DropToNextLineBreak(std::string* buffer) {
  std::string& piece = carry_;
  bool found = false;
  while (!found && !at_end_) {
    piece.resize(chunk_bytes_);
    const size_t n = input_->Read(piece.data(), piece.size());
    piece.resize(n);
    bytes_read_ += n;
    if (n == 0) {
      at_end_ = true;
      break;
    }
    const void* newline = std::memchr(piece.data(), '\n', n);
    if (newline != nullptr) {
      piece.erase(0, static_cast<const char*>(newline) - piece.data() + 1);
      found = true;
    }
  }
  if (!found) piece.clear();
  buffer->assign(kDroppedRecordMarker);
  buffer->append(fmt::format("record longer than {} bytes (dropped up to the next line break)",
                             max_record_bytes_));
  if (found) buffer->push_back('\n');
  buffer->shrink_to_fit();
}

bool CsvChunkReader::Next(std::string* chunk) {
  std::string& buffer = *chunk;
  buffer.swap(carry_);
  carry_.clear();
  size_t scanned_to = 0;  // boundaries before this offset were already looked for
  for (;;) {
    if (!at_end_ && buffer.size() < chunk_bytes_ + scanned_to) {
      size_t old_size = buffer.size();
      size_t want = chunk_bytes_ + scanned_to - old_size;
      buffer.resize(old_size + want);
      size_t got = 0;
      while (got < want) {
        size_t n = input_->Read(buffer.data() + old_size + got, want - got);
        if (n == 0) {
          at_end_ = true;
          break;
        }
        got += n;
      }
      buffer.resize(old_size + got);
      bytes_read_ += got;
    }
    if (at_end_) return !buffer.empty();
    size_t end = EndOfLastCsvRecord(buffer);
    if (end == 0 && buffer.size() > max_record_bytes_) {
      // A runaway quoted field: cut at the last line break so memory stays bounded.
      const void* last = memrchr(buffer.data(), '\n', buffer.size());
      if (last != nullptr) {
        end = static_cast<const char*>(last) - buffer.data() + 1;
      } else {
        DropToNextLineBreak(&buffer);
        return true;
      }
    }
    if (end > 0) {
      carry_.assign(buffer, end, std::string::npos);
      buffer.resize(end);
      return true;
    }
    scanned_to = buffer.size();  // no record ends yet: read more and look again
  }
}

}  // namespace ipinsights
