#include "ipinsights/dataset/csv_chunk_reader.h"

#include <algorithm>
#include <cstring>

namespace ipinsights {

CsvChunkReader::CsvChunkReader(std::unique_ptr<SequentialReader> input, size_t chunk_bytes,
                               size_t max_record_bytes)
    : input_(std::move(input)),
      chunk_bytes_(chunk_bytes < 64 ? 64 : chunk_bytes),
      max_record_bytes_(max_record_bytes < 1 ? 1 : max_record_bytes) {}

void CsvChunkReader::Read(std::string* buffer, size_t want) {
  const size_t old_size = buffer->size();
  buffer->resize(old_size + want);
  size_t got = 0;
  while (got < want) {
    const size_t n = input_->Read(buffer->data() + old_size + got, want - got);
    if (n == 0) {
      at_end_ = true;
      break;
    }
    got += n;
  }
  buffer->resize(old_size + got);
  bytes_read_ += got;
}

size_t CsvChunkReader::ChunkEnd(std::string_view buffer, size_t* text_end,
                                size_t* dropped_record) const {
  *text_end = 0;
  if (buffer.empty()) return 0;
  // Fast path: before the first quote, every line break ends a record (an overlong line
  // included: CsvRecordReader resynchronises at its own line break), whatever its length.
  const void* quote = std::memchr(buffer.data(), '"', buffer.size());
  const size_t plain =
      quote == nullptr ? buffer.size() : static_cast<const char*>(quote) - buffer.data();
  size_t end = 0;
  if (plain > 0) {
    const void* newline = memrchr(buffer.data(), '\n', plain);
    if (newline != nullptr) end = static_cast<const char*>(newline) - buffer.data() + 1;
  }
  *text_end = end;
  if (quote == nullptr && end > 0) return end;
  // Quotes (or no line break at all): split records from there with the one splitter, and
  // end the chunk after the last record whose verdict needs no byte past that end.
  // A chain of bad records can each look past the next one's start, so the chunk keeps the
  // bytes looked at as look-ahead instead of waiting for a clean cut (which may never come).
  CsvRecordReader reader(buffer.substr(end), /*last=*/false, max_record_bytes_);
  size_t examined = 0;
  size_t best = end;
  while (reader.Next() == CsvRecordReader::Result::kRecord) {
    if (reader.continues_past_buffer()) {
      *dropped_record = end + reader.record_start();
      break;
    }
    examined = std::max(examined, reader.examined());
    best = end + reader.position();
    *text_end = end + std::max(reader.position(), examined);
  }
  return best;
}

void CsvChunkReader::DropRestOfRecord(std::string* buffer, size_t start) {
  // CsvRecordReader searched the rest of the buffer for the record's line break and found
  // none, so the bytes cut here hold no '\n': line numbers stay right.
  buffer->resize(std::min(buffer->size(), start + max_record_bytes_ + 1));
  std::string piece;
  while (!at_end_) {
    piece.resize(chunk_bytes_);
    const size_t n = input_->Read(piece.data(), piece.size());
    bytes_read_ += n;
    if (n == 0) {
      at_end_ = true;
      break;
    }
    const void* newline = std::memchr(piece.data(), '\n', n);
    if (newline != nullptr) {
      const size_t after = static_cast<const char*>(newline) - piece.data() + 1;
      buffer->push_back('\n');
      carry_.assign(piece, after, n - after);
      return;
    }
  }
}

bool CsvChunkReader::Next(std::string* chunk, size_t* records_end) {
  std::string& buffer = *chunk;
  buffer.swap(carry_);
  carry_.clear();
  size_t want = chunk_bytes_;
  for (;;) {
    if (!at_end_ && buffer.size() < want) Read(&buffer, want - buffer.size());
    if (at_end_) {  // the rest of the input: whole records
      *records_end = buffer.size();
      return !buffer.empty();
    }
    size_t dropped = std::string::npos;
    size_t text_end = 0;
    const size_t end = ChunkEnd(buffer, &text_end, &dropped);
    if (end > 0) {
      carry_.assign(buffer, end, std::string::npos);
      buffer.resize(text_end);
      *records_end = end;
      return true;
    }
    if (dropped != std::string::npos) {
      DropRestOfRecord(&buffer, dropped);
      *records_end = buffer.size();
      return true;
    }
    // No record ends yet: read as much again, so a long record is rescanned O(log) times.
    want = buffer.size() * 2;
  }
}

}  // namespace ipinsights
