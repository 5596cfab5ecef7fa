// Fuzzes the CSV layer `score` and `evaluate` read pairs and labels with (eval/): the
// record splitter CsvRecordReader, the chunker (EndOfLastCsvRecord, CsvChunkReader) that
// lets chunks be parsed on several threads, ParsePairChunk and ParseLabels.
// Invariants: the reader consumes every line break; chunks concatenate back to the input
// and each ends where a record ends; parsing chunk by chunk finds the same good rows, bad
// rows and lines as parsing the whole input in one piece (the parallel commands rely on it).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz/fuzz_util.h"
#include "ipinsights/base/error.h"
#include "ipinsights/dataset/csv_chunk_reader.h"
#include "ipinsights/dataset/csv_record_reader.h"
#include "ipinsights/dataset/labels_reader.h"
#include "ipinsights/dataset/pair_csv.h"

using namespace ipinsights;

namespace {

class MemoryReader : public SequentialReader {
 public:
  explicit MemoryReader(std::string_view data) : data_(data) {}
  // Hands out at most 13 bytes at a time, so the chunker's refills are exercised.
  size_t Read(char* buffer, size_t n) override {
    size_t take = std::min({n, data_.size(), size_t{13}});
    if (take > 0) std::memcpy(buffer, data_.data(), take);
    data_.remove_prefix(take);
    return take;
  }

 private:
  std::string_view data_;
};

void CheckRecordReader(std::string_view text) {
  CsvRecordReader reader(text);
  uint64_t last_line = 0;
  while (reader.Next()) {
    FUZZ_CHECK(reader.line() >= last_line, "records come in line order");
    last_line = reader.line();
    for (size_t i = 0; i < reader.field_count(); ++i) {
      std::string_view field = reader.field(i);
      volatile char sink = 0;
      for (char c : field) sink = sink + c;  // readable (ASan)
    }
  }
  FUZZ_CHECK(reader.lines_consumed() == static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n')),
             "every line break is consumed");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::AsText(data, size);
  try {
    CheckRecordReader(text);

    size_t end = EndOfLastCsvRecord(text);
    FUZZ_CHECK(end <= text.size(), "EndOfLastCsvRecord within the text");
    if (end > 0) FUZZ_CHECK(text[end - 1] == '\n', "a record ends with a line break");

    ParsedPairs whole;
    ParsePairChunk(std::string(text), /*first_chunk=*/true, &whole);
    FUZZ_CHECK(whole.entities.size() == whole.ips.size(), "one entity per address");

    CsvChunkReader chunker(std::make_unique<MemoryReader>(text), /*chunk_bytes=*/7);
    std::string chunk, joined;
    size_t good = 0, bad = 0;
    uint64_t lines = 0;
    bool first = true;
    while (chunker.Next(&chunk)) {
      FUZZ_CHECK(!chunk.empty(), "no empty chunk");
      joined += chunk;
      ParsedPairs part;
      ParsePairChunk(chunk, first, &part);
      for (size_t i = 0; i < part.ips.size(); ++i) {
        FUZZ_CHECK(good + i < whole.ips.size(), "no more good rows in chunks than whole");
        FUZZ_CHECK(part.ips[i] == whole.ips[good + i], "same addresses chunked and whole");
        FUZZ_CHECK(part.entities[i] == whole.entities[good + i], "same entities chunked and whole");
      }
      for (const BadRow& row : part.bad_rows) {
        FUZZ_CHECK(bad < whole.bad_rows.size(), "no more bad rows in chunks than whole");
        FUZZ_CHECK(row.line + lines == whole.bad_rows[bad].line, "bad rows on the same lines");
        ++bad;
      }
      good += part.ips.size();
      lines += part.lines;
      first = false;
    }
    FUZZ_CHECK(joined == text, "chunks concatenate back to the input");
    FUZZ_CHECK(chunker.bytes_read() == text.size(), "every byte read");
    FUZZ_CHECK(good == whole.ips.size() && bad == whole.bad_rows.size(), "same rows chunked and whole");
    FUZZ_CHECK(lines == whole.lines, "same line count chunked and whole");
  } catch (const Error&) {
  }
  try {
    (void)ParseLabels(std::string(text), "fuzz-labels.csv");
  } catch (const Error&) {
    // Labels files with a bad row are rejected with an Error.
  }
  return 0;
}
