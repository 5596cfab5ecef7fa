// CsvChunkReader: reads a CSV object front to back in chunks of whole records, in bounded
// memory, so that chunks can be parsed one after the other (PairReader) or on several
// threads with their results put back in input order (`score --pairs`).
//
// Each chunk is meant to be parsed with CsvRecordReader(chunk, /*last=*/true,
// max_record_bytes) up to its records_end (ParsePairChunk does), and that gives exactly the
// records, fields, verdicts and line numbers a CsvRecordReader over the whole input would
// give: records_end is where a record ends. A bad record may have been judged on bytes past
// the line break it resynchronises at (text after a closing quote that was the next line's
// opening quote), so the chunk also holds the bytes past records_end that its records'
// verdicts looked at (at most max_record_bytes + 1); the next chunk starts at records_end.
//
// Bounded: a record that runs on past max_record_bytes is bad by CsvRecordReader's rule,
// which looks at its first max_record_bytes + 1 bytes only. When such a record continues
// beyond what this reader holds, it keeps those bytes, drops the rest of the record up to
// its resynchronising line break without storing it, and puts that line break after them:
// the chunk then no longer concatenates back to the input, but parses to the same result.
// Memory stays within about 2 * chunk_bytes + max_record_bytes; time is linear.
//
// Thread-safety: one thread calls Next(); the chunks it returns are plain data.
//
//   CsvChunkReader reader(OpenStorage(src).OpenSequential(src), 1 << 20);
//   std::string chunk;
//   size_t records_end;
//   while (reader.Next(&chunk, &records_end)) ParsePairChunk(chunk, records_end, first, &out);
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ipinsights/dataset/csv_record_reader.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {

class CsvChunkReader {
 public:
  CsvChunkReader(std::unique_ptr<SequentialReader> input, size_t chunk_bytes,
                 size_t max_record_bytes = kMaxCsvRecordBytes);

  // Replaces *chunk with the next chunk (at least one whole record) and sets *records_end
  // to where its records end (the rest is look-ahead); false at the end. Throws Error on a
  // read failure.
  bool Next(std::string* chunk, size_t* records_end);

  uint64_t bytes_read() const { return bytes_read_; }
  size_t max_record_bytes() const { return max_record_bytes_; }

 private:
  // Appends up to `want` bytes of input to *buffer (fewer only at the end of the input).
  void Read(std::string* buffer, size_t want);
  // The end of the last whole record in `buffer`, or 0, and in *text_end the end of the
  // bytes the verdicts of the records before it looked at. When a record goes on past the
  // buffer as a bad record, sets *dropped_record to its offset and stops there.
  size_t ChunkEnd(std::string_view buffer, size_t* text_end, size_t* dropped_record) const;
  // Ends *buffer with the bad record at `start`: its first max_record_bytes + 1 bytes, then
  // the line break that ends it in the input (read and dropped up to there).
  void DropRestOfRecord(std::string* buffer, size_t start);

  std::unique_ptr<SequentialReader> input_;
  const size_t chunk_bytes_;
  const size_t max_record_bytes_;
  std::string carry_;  // bytes read past the end of the previous chunk
  bool at_end_ = false;
  uint64_t bytes_read_ = 0;
};

}  // namespace ipinsights
