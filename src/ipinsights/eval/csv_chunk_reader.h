// CsvChunkReader: reads a CSV object front to back in chunks of whole records, so that
// chunks can be parsed on several threads and their results put back in input order.
//
// A chunk ends after a line break that ends a record (a line break inside a quoted field,
// per CsvRecordReader's rules, does not). A record longer than max_record_bytes with no
// such line break is cut at its last line break instead, so memory stays bounded on
// broken input (CsvRecordReader then reports the pieces as malformed). One that holds no
// line break at all is dropped up to the next one, keeping nothing, and replaced in the
// chunk by kDroppedRecordMarker and the reason (CsvRecordReader reports it as one
// malformed row): chunks then no longer concatenate back to the input.
//
// Thread-safety: one thread calls Next(); the chunks it returns are plain data.
//
//   CsvChunkReader reader(OpenStorage(src).OpenSequential(src), 1 << 20);
//   std::string chunk;
//   while (reader.Next(&chunk)) Parse(chunk);
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "ipinsights/storage/storage.h"

namespace ipinsights {

// The offset just past the last line break in `data` that ends a CSV record when `data` is
// parsed from its start, or 0 when there is none.
size_t EndOfLastCsvRecord(std::string_view data);

class CsvChunkReader {
 public:
  CsvChunkReader(std::unique_ptr<SequentialReader> input, size_t chunk_bytes,
                 size_t max_record_bytes = 16 << 20);

  // Replaces *chunk with the next chunk (at least one whole record, or the unterminated
  // last line of the input); false at the end. Throws Error on a read failure.
  bool Next(std::string* chunk);

  uint64_t bytes_read() const { return bytes_read_; }

 private:
  void DropToNextLineBreak(std::string* buffer);

  std::unique_ptr<SequentialReader> input_;
  const size_t chunk_bytes_;
  const size_t max_record_bytes_;
  std::string carry_;  // bytes read past the end of the previous chunk
  bool at_end_ = false;
  uint64_t bytes_read_ = 0;
};

}  // namespace ipinsights
