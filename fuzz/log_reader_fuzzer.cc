// Fuzzes the CloudTrail / WAF log reader (logs/log_reader.h), the code `prepare` runs on
// every log object: gzip detection and decompression, container detection, the simdjson
// document walker, record classification, timestamps. Each input is read as CloudTrail and
// as WAF, once whole (the in-memory path) and once streamed in tiny chunks (the path for
// objects over the memory budget, with records crossing chunk boundaries).
// Invariants: no throw (bad input is reported, never thrown: ReadBytes does no I/O);
// records == pairs + skipped (every reason but digest), as the header promises; every
// malformed record is reported to the BadRecordReporter exactly once, as a message that
// starts with the object's name; every event's address formats and re-parses to itself.
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz/fuzz_util.h"
#include "ipinsights/base/bad_record.h"
#include "ipinsights/base/error.h"
#include "ipinsights/logs/log_reader.h"

using namespace ipinsights;

namespace {

class CheckingSink : public EventSink {
 public:
  void Add(const LogEvent& event) override {
    ++events;
    for (char c : event.entity) bytes += static_cast<unsigned char>(c);  // readable (ASan)
    FUZZ_CHECK(!event.entity.empty(), "an event has an entity");
    FUZZ_CHECK(IpAddress::Parse(event.ip.ToString()) == event.ip, "event address round trips");
  }
  uint64_t events = 0;
  uint64_t bytes = 0;
};

class CheckingReporter : public BadRecordReporter {
 public:
  void Report(const BadRecord& record) override {
    ++reports;
    FUZZ_CHECK(FormatBadRecord(record).rfind("fuzz/input.json: ", 0) == 0,
               "a bad record names the object");
  }
  uint64_t reports = 0;
};

void ReadAs(LogKind kind, bool streamed, std::string_view bytes) {
  LogReaderOptions options;
  options.kind = kind;
  options.entity = DefaultEntitySpec(kind);
  options.want_event_time = true;
  options.from_seconds = 1577836800;  // 2020-01-01: some seeds fall outside, some inside
  options.to_seconds = 1893456000;    // 2030-01-01
  if (streamed) {
    options.memory_budget = 0;
    options.stream_above_stored = 0;
    options.stream_chunk = 61;  // odd, so records straddle chunks at varying offsets
    options.max_record_bytes = 4096;
    options.ipv4_only = true;
  }
  LogFileReader reader(options);
  CheckingSink sink;
  CheckingReporter bad_records;
  FileReport report;
  try {
    report = reader.ReadBytes("fuzz/input.json", bytes, sink, &bad_records);
  } catch (const Error& e) {
    std::fprintf(stderr, "ReadBytes threw: %s\n", e.what());
    FUZZ_CHECK(false, "ReadBytes reports bad input instead of throwing");
  }
  FUZZ_CHECK(report.pairs == sink.events, "pairs counts the events delivered");
  uint64_t skipped = report.skipped.Total() - report.skipped[SkipReason::kDigest];
  if (report.records != report.pairs + skipped) {
    std::fprintf(stderr, "records %llu pairs %llu skipped %llu\n",
                 (unsigned long long)report.records, (unsigned long long)report.pairs,
                 (unsigned long long)skipped);
  }
  FUZZ_CHECK(report.records == report.pairs + skipped, "records == pairs + skipped");
  FUZZ_CHECK(report.stored_bytes == bytes.size(), "stored_bytes is the input size");
  FUZZ_CHECK(bad_records.reports == report.skipped[SkipReason::kMalformed],
             "each malformed record is reported once");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = fuzz::AsText(data, size);
  for (LogKind kind : {LogKind::kCloudTrail, LogKind::kWaf}) {
    ReadAs(kind, /*streamed=*/false, bytes);
    ReadAs(kind, /*streamed=*/true, bytes);
  }
  return 0;
}
