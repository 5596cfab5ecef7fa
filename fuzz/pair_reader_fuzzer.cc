// Fuzzes PairReader (dataset/pair_reader.h), the training CSV reader `train` uses. It reads
// files only, so each input is written to a per-process temp file. Bad rows must be skipped
// and counted, never thrown or crashed on. Invariants: stats().rows counts the pairs
// returned; every bad row reaches the reporter, which keeps min(bad_rows, cap) messages;
// every address returned formats and re-parses to itself; bytes counts the whole file.
// (fuzz/pair_csv_differential_fuzzer checks that its rows are those of every other caller.)
#include <cstdint>
#include <string>

#include "fuzz/fuzz_util.h"
#include "ipinsights/base/bad_record.h"
#include "ipinsights/base/error.h"
#include "ipinsights/dataset/pair_reader.h"

using namespace ipinsights;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = fuzz::WriteFuzzTempFile(data, size, ".csv");
  try {
    BadRecordLog bad_rows;
    PairReader reader(path, &bad_rows);
    std::string_view entity;
    IpAddress ip;
    uint64_t pairs = 0;
    while (reader.Next(&entity, &ip)) {
      ++pairs;
      FUZZ_CHECK(!entity.empty(), "no empty entity");
      FUZZ_CHECK(IpAddress::Parse(ip.ToString()) == ip, "address round trips");
      FUZZ_CHECK(reader.current_line() >= 1, "a line number");
    }
    const PairReadStats& stats = reader.stats();
    FUZZ_CHECK(stats.rows == pairs, "rows counts the pairs returned");
    FUZZ_CHECK(bad_rows.count() == stats.bad_rows, "every bad row is reported");
    FUZZ_CHECK(
        bad_rows.messages().size() == std::min<uint64_t>(stats.bad_rows, BadRecordLog::kDefaultCap),
        "the first bad rows are described");
    FUZZ_CHECK(stats.bytes == size, "every byte read");
  } catch (const Error& e) {
    std::fprintf(stderr, "PairReader threw: %s\n", e.what());
    FUZZ_CHECK(false, "a bad row is skipped, not thrown (the file exists and is readable)");
  }
  return 0;
}
