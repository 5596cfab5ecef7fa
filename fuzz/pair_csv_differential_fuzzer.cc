// Differential fuzzer for the one `entity,ip` CSV reader (dataset/): feeds the same bytes to
// every caller and requires identical rows and identical bad-row verdicts, the way simdjson's
// fuzz_implementations.cpp requires all its kernels to agree:
//   - ParsePairChunk over the whole input (the reference),
//   - CsvChunkReader + ParsePairChunk chunk by chunk (`score --pairs`), the input handed out
//     by a reader in small pieces like a pipe,
//   - PairReader over a file (`train`, `evaluate --test`), with small chunks,
//   - serve's DecodeCsv (text/csv), which answers the whole body with its first bad row:
//     either every row is good and the rows are the same, or the first bad row (line and
//     reason) is the reference's first.
// The first input byte picks the record cap (8..71 bytes, so overlong records and their
// resynchronisation are common) and the chunk size; serve always uses the real cap, so it is
// compared with a reference under that cap. A mismatch aborts (FUZZ_CHECK).
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "ipinsights/base/bad_record.h"
#include "ipinsights/dataset/csv_chunk_reader.h"
#include "ipinsights/dataset/pair_csv.h"
#include "ipinsights/dataset/pair_reader.h"
#include "ipinsights/serve/request_codec.h"

using namespace ipinsights;

namespace {

// Hands out the input `piece` bytes at a time (a pipe, stdin).
class TricklingReader : public SequentialReader {
 public:
  TricklingReader(std::string_view data, size_t piece) : data_(data), piece_(piece) {}
  size_t Read(char* buffer, size_t n) override {
    const size_t take = std::min({n, data_.size(), piece_});
    if (take > 0) std::memcpy(buffer, data_.data(), take);
    data_.remove_prefix(take);
    return take;
  }

 private:
  std::string_view data_;
  size_t piece_;
};

// What a reader found: "entity|ip" per good row, "LINE: reason" per bad row (1-based).
struct Verdicts {
  std::vector<std::string> rows;
  std::vector<std::string> bad;
};

std::string Row(std::string_view entity, const IpAddress& ip) {
  return std::string(entity) + "|" + ip.ToString();
}

Verdicts Whole(std::string_view text, size_t max_record_bytes) {
  Verdicts out;
  ParsedPairs parsed;
  ParsePairChunk(std::string(text), /*first_chunk=*/true, &parsed, max_record_bytes);
  for (size_t i = 0; i < parsed.entities.size(); ++i)
    out.rows.push_back(Row(parsed.entities[i], parsed.ips[i]));
  for (const BadRecord& bad : parsed.bad_records)
    out.bad.push_back(fmt::format("{}: {}", bad.value + 1, bad.reason));
  FUZZ_CHECK(parsed.lines == static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n')),
             "the whole parse counts every line break");
  return out;
}

Verdicts Chunked(std::string_view text, size_t chunk_bytes, size_t piece, size_t max_record_bytes) {
  Verdicts out;
  CsvChunkReader chunks(std::make_unique<TricklingReader>(text, piece), chunk_bytes,
                        max_record_bytes);
  std::string chunk;
  size_t records_end = 0;
  uint64_t line_base = 1;
  bool first = true;
  while (chunks.Next(&chunk, &records_end)) {
    FUZZ_CHECK(!chunk.empty(), "no empty chunk");
    FUZZ_CHECK(chunk.size() <= 2 * std::max<size_t>(chunk_bytes, 64) + 2 * max_record_bytes + 2,
               "chunks stay bounded");
    FUZZ_CHECK(chunk.size() - records_end <= max_record_bytes + 1, "look-ahead within one record");
    ParsedPairs parsed;
    FUZZ_CHECK(records_end > 0 && records_end <= chunk.size(), "records end inside the chunk");
    ParsePairChunk(chunk, records_end, first, &parsed, max_record_bytes);
    for (size_t i = 0; i < parsed.entities.size(); ++i)
      out.rows.push_back(Row(parsed.entities[i], parsed.ips[i]));
    for (const BadRecord& bad : parsed.bad_records) {
      out.bad.push_back(fmt::format("{}: {}", bad.value + line_base, bad.reason));
    }
    line_base += parsed.lines;
    first = false;
  }
  FUZZ_CHECK(chunks.bytes_read() == text.size(), "the chunker reads every byte");
  return out;
}

class CollectingReporter : public BadRecordReporter {
 public:
  explicit CollectingReporter(std::vector<std::string>* out) : out_(out) {}
  void Report(const BadRecord& record) override {
    out_->push_back(fmt::format("{}: {}", record.value, record.reason));
  }

 private:
  std::vector<std::string>* out_;
};

Verdicts FromPairReader(const uint8_t* data, size_t size, size_t chunk_bytes,
                        size_t max_record_bytes) {
  Verdicts out;
  const std::string& path = fuzz::WriteFuzzTempFile(data, size, ".csv");
  CollectingReporter reporter(&out.bad);
  PairReader reader(path, &reporter, chunk_bytes, max_record_bytes);
  std::string_view entity;
  IpAddress ip;
  while (reader.Next(&entity, &ip)) out.rows.push_back(Row(entity, ip));
  FUZZ_CHECK(reader.stats().rows == out.rows.size(), "rows counts the pairs returned");
  FUZZ_CHECK(reader.stats().bad_rows == out.bad.size(), "every bad row is reported");
  FUZZ_CHECK(reader.stats().bytes == size, "PairReader reads every byte");
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t max_record_bytes = 8 + (data[0] & 63);
  const size_t chunk_bytes = 64 << (data[0] >> 6);  // 64..512 (the chunker's floor is 64)
  const size_t piece = 1 + (data[0] % 13);
  ++data;
  --size;
  std::string_view text = fuzz::AsText(data, size);

  const Verdicts whole = Whole(text, max_record_bytes);
  const Verdicts chunked = Chunked(text, chunk_bytes, piece, max_record_bytes);
  FUZZ_CHECK(chunked.rows == whole.rows, "score (chunked) finds the rows of the whole parse");
  FUZZ_CHECK(chunked.bad == whole.bad, "score (chunked) finds the bad rows of the whole parse");

  const Verdicts streamed = FromPairReader(data, size, chunk_bytes, max_record_bytes);
  FUZZ_CHECK(streamed.rows == whole.rows, "train (PairReader) finds the rows of the whole parse");
  FUZZ_CHECK(streamed.bad == whole.bad, "train (PairReader) finds the bad rows of the whole parse");

  const Verdicts reference = Whole(text, kMaxCsvRecordBytes);
  PairBatch batch;
  std::optional<std::string> error = DecodeCsv(text, &batch);
  if (reference.bad.empty()) {
    FUZZ_CHECK(!error.has_value(), "serve accepts a body whose every row is good");
    std::vector<std::string> rows;
    for (size_t i = 0; i < batch.size(); ++i) rows.push_back(Row(batch.entities[i], batch.ips[i]));
    FUZZ_CHECK(rows == reference.rows, "serve finds the rows of the whole parse");
  } else {
    FUZZ_CHECK(error.has_value(), "serve rejects a body with a bad row");
    FUZZ_CHECK(*error == "line " + reference.bad.front(), "serve names the first bad row");
  }
  return 0;
}
