// Fuzzes the CSV record splitter every `entity,ip` and labels reader uses (dataset/):
// CsvRecordReader, and ParseLabels on top of it.
// Invariants: records come in line order and consume every line break; a record's verdict
// never depends on bytes past examined(); and a reader that sees the input grow a piece at
// a time (last = false, restarted at record_start() on kNeedMore, as CsvChunkReader does)
// finds the same records, fields and errors as one reader over the whole input.
// (fuzz/pair_csv_differential_fuzzer compares the callers built on it.)
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "ipinsights/base/error.h"
#include "ipinsights/dataset/csv_record_reader.h"
#include "ipinsights/dataset/labels_reader.h"

using namespace ipinsights;

namespace {

struct Record {
  uint64_t line;
  std::string error;
  std::vector<std::string> fields;
  bool operator==(const Record&) const = default;
};

void Append(const CsvRecordReader& reader, uint64_t line_base, std::vector<Record>* out) {
  Record r{line_base + reader.line(), reader.error(), {}};
  for (size_t i = 0; i < reader.field_count(); ++i) r.fields.emplace_back(reader.field(i));
  out->push_back(std::move(r));
}

std::vector<Record> Whole(std::string_view text, size_t max_record_bytes) {
  std::vector<Record> records;
  CsvRecordReader reader(text, /*last=*/true, max_record_bytes);
  uint64_t last_line = 0;
  while (reader.Next() == CsvRecordReader::Result::kRecord) {
    FUZZ_CHECK(reader.line() >= last_line, "records come in line order");
    FUZZ_CHECK(reader.position() > reader.record_start(), "every record consumes bytes");
    FUZZ_CHECK(reader.examined() <= text.size() + 1, "examined within the input (+1 at the cap)");
    last_line = reader.line();
    Append(reader, 0, &records);
  }
  FUZZ_CHECK(
      reader.lines_consumed() == static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n')),
      "every line break is consumed");
  return records;
}

// The input revealed `step` bytes at a time; each time a reader over what is known so far
// (not last) is asked for records from the last settled record start.
std::vector<Record> Growing(std::string_view text, size_t step, size_t max_record_bytes) {
  std::vector<Record> records;
  size_t start = 0;
  uint64_t line_base = 0;
  size_t known = 0;
  for (;;) {
    known = std::min(text.size(), known + step);
    const bool last = known == text.size();
    CsvRecordReader reader(text.substr(start, known - start), last, max_record_bytes);
    CsvRecordReader::Result result;
    while ((result = reader.Next()) == CsvRecordReader::Result::kRecord) {
      if (reader.continues_past_buffer()) break;  // judged: the rest is skipped to a '\n'
      Append(reader, line_base, &records);
    }
    if (result == CsvRecordReader::Result::kRecord) {
      // A bad record going on past the known bytes: its verdict is final, and reading
      // resumes after the first '\n' past them.
      Append(reader, line_base, &records);
      const size_t newline = text.find('\n', known);
      line_base += reader.lines_consumed();
      if (newline == std::string_view::npos) return records;
      start = newline + 1;
      ++line_base;
      known = start;
      continue;
    }
    if (last) return records;
    line_base +=
        std::count(text.begin() + start, text.begin() + start + reader.record_start(), '\n');
    start += reader.record_start();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::AsText(data, size);
  const size_t max_record_bytes = size == 0 ? 16 : 4 + data[0] % 60;
  const std::vector<Record> whole = Whole(text, max_record_bytes);
  for (size_t step : {size_t{1}, size_t{5}, size_t{64}}) {
    FUZZ_CHECK(Growing(text, step, max_record_bytes) == whole,
               "a growing buffer gives the records of the whole input");
  }
  (void)Whole(text, kMaxCsvRecordBytes);
  try {
    (void)ParseLabels(std::string(text), "fuzz-labels.csv");
  } catch (const Error&) {
    // Labels files with a bad row are rejected with an Error.
  }
  return 0;
}
