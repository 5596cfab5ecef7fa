// The practical one-core limit for `prepare`: a single-threaded loop that reads each log
// object, decompresses it with libdeflate and walks it with simdjson On-Demand (the same
// libraries and kernels as prepare), pulling out only the fields a pair needs (identity,
// time, IP / header) and writing nothing: no IP parsing, no CSV, no output.
// bench/prepare_bench.sh runs it beside `ipinsights prepare` and reports the ratio.
//
//   parse_limit_bench cloudtrail|waf DIR   ->  one JSON line on stdout
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "ipinsights/logs/gzip_reader.h"
#include "ipinsights/logs/json_document_parser.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

using Clock = std::chrono::steady_clock;

// Touches every extracted field so nothing is optimised away.
class ChecksumVisitor : public RecordVisitor {
 public:
  void OnCloudTrailRecord(const CloudTrailRecordFields& f) override {
    ++records;
    checksum += f.identity.principal_id.size() + f.identity.type.size() + f.source_ip.size() +
                f.event_time.size();
  }
  void OnWafRecord(const WafRecordFields& f) override {
    ++records;
    checksum += f.client_ip.size() + f.header_value.size() + static_cast<uint64_t>(f.timestamp_ms);
  }
  void OnNonObjectRecord(size_t) override { ++records; }
  uint64_t records = 0;
  uint64_t checksum = 0;
};

int Main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[1], "cloudtrail") != 0 && std::strcmp(argv[1], "waf") != 0)) {
    std::fprintf(stderr, "usage: parse_limit_bench cloudtrail|waf DIR\n");
    return 2;
  }
  const LogKind kind = std::strcmp(argv[1], "waf") == 0 ? LogKind::kWaf : LogKind::kCloudTrail;
  const std::string dir = argv[2];
  Storage& storage = OpenStorage(dir);
  std::vector<ObjectInfo> objects = storage.List(dir);
  auto parser = NewJsonDocumentParser(kind, DefaultEntitySpec(kind));
  ChecksumVisitor visitor;
  std::string stored;
  PaddedBuffer json;
  uint64_t json_bytes = 0;
  uint64_t errors = 0;
  double decompress_seconds = 0;
  const auto start = Clock::now();
  for (const ObjectInfo& object : objects) {
    if (object.location.find("CloudTrail-Digest") != std::string::npos) continue;
    if (object.location.size() >= 4 &&
        object.location.compare(object.location.size() - 4, 4, ".csv") == 0)
      continue;
    stored.reserve(object.size + kJsonPadding);
    storage.ReadAll(object.location, &stored);
    const char* data;
    size_t size;
    size_t capacity;
    if (LooksGzipped(stored)) {
      auto t0 = Clock::now();
      if (GunzipWhole(stored, size_t{1} << 31, &json).status != GunzipResult::Status::kOk) {
        ++errors;
        continue;
      }
      decompress_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
      data = json.data();
      size = json.size();
      capacity = json.capacity() + kJsonPadding;
    } else {
      data = stored.data();
      size = stored.size();
      capacity = stored.capacity();
    }
    json_bytes += size;
    // One document per line (NDJSON, and CloudTrail's one-line Records files).
    size_t pos = 0;
    while (pos < size) {
      const char* newline = static_cast<const char*>(std::memchr(data + pos, '\n', size - pos));
      size_t end = newline ? static_cast<size_t>(newline - data) : size;
      if (end > pos) {
        DocumentParse result = parser->Parse(data + pos, end - pos, capacity - pos, visitor);
        if (result.status == DocumentParse::Status::kError) ++errors;
      }
      pos = end + 1;
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "{\"json_bytes\": %llu, \"records\": %llu, \"errors\": %llu, \"seconds\": %.3f, "
      "\"mb_per_second\": %.1f, \"decompress_seconds\": %.3f, \"checksum\": %llu, \"kernel\": "
      "\"%s\"}\n",
      static_cast<unsigned long long>(json_bytes), static_cast<unsigned long long>(visitor.records),
      static_cast<unsigned long long>(errors), seconds, json_bytes / 1e6 / seconds,
      decompress_seconds, static_cast<unsigned long long>(visitor.checksum),
      parser->implementation());
  return errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace ipinsights

int main(int argc, char** argv) { return ipinsights::Main(argc, argv); }
