#include "ipinsights/dataset/pair_csv.h"

#include <fmt/format.h>

#include <algorithm>

#include "ipinsights/base/strings.h"

namespace ipinsights {
namespace {

bool IsCsvBlank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

PairRecord ParsePairRecord(const CsvRecordReader& record, bool first_chunk,
                           std::string_view* entity, IpAddress* ip, std::string* problem) {
  if (!record.error().empty()) {
    *problem = record.error();
    return PairRecord::kBad;
  }
  if (record.field_count() != 2) {
    *problem = fmt::format("expected 2 fields (entity,ip), got {}", record.field_count());
    return PairRecord::kBad;
  }
  const std::string_view first = record.field(0);
  std::string_view ip_text = record.field(1);
  // Most addresses have no blanks around them; skipping the call is a measurable share of a
  // one-pair request (bench/serve_instructions.sh).
  if (!ip_text.empty() && (IsCsvBlank(ip_text.front()) || IsCsvBlank(ip_text.back()))) {
    ip_text = TrimBlanks(ip_text);
  }
  if (first_chunk && record.line() == 0 && first == "entity" && ip_text == "ip") {
    return PairRecord::kHeader;
  }
  if (first.empty()) {
    *problem = "empty entity";
    return PairRecord::kBad;
  }
  std::optional<IpAddress> parsed = IpAddress::Parse(ip_text);
  if (!parsed) {
    *problem = "bad IP " + QuoteForMessage(ip_text);
    return PairRecord::kBad;
  }
  *entity = first;
  *ip = *parsed;
  return PairRecord::kPair;
}

void ParsePairChunk(std::string text, size_t records_end, bool first_chunk, ParsedPairs* out,
                    size_t max_record_bytes) {
  out->text = std::move(text);
  out->unescaped.clear();
  out->entities.clear();
  out->ips.clear();
  out->bad_records.clear();
  out->entities.reserve(out->text.size() / 24);
  out->ips.reserve(out->text.size() / 24);
  CsvRecordReader reader(out->text, /*last=*/true, max_record_bytes);
  std::string_view entity;
  IpAddress ip;
  std::string problem;
  size_t counted_to = 0;  // lines are counted up to here
  uint64_t lines = 0;
  while (reader.Next() == CsvRecordReader::Result::kRecord) {
    if (reader.record_start() >= records_end) break;  // look-ahead: the next chunk's records
    switch (ParsePairRecord(reader, first_chunk, &entity, &ip, &problem)) {
      case PairRecord::kHeader:
        break;
      case PairRecord::kBad:
        out->bad_records.push_back(BadRecord::AtLine("", reader.line(), std::move(problem)));
        problem.clear();
        break;
      case PairRecord::kPair:
        // Fields with "" escapes live in the reader; copy them where they stay put.
        if (!reader.InBuffer(entity)) entity = out->unescaped.emplace_back(entity);
        out->entities.push_back(entity);
        out->ips.push_back(ip);
        break;
    }
    counted_to = reader.position();
    lines = reader.lines_consumed();
  }
  // Only blank lines lie between the last record and records_end; the reader may have
  // skipped on into the look-ahead, whose lines belong to the next chunk.
  const size_t end = std::min(records_end, out->text.size());
  if (counted_to < end) {
    lines += static_cast<uint64_t>(
        std::count(out->text.begin() + counted_to, out->text.begin() + end, '\n'));
  }
  out->lines = lines;
}

}  // namespace ipinsights
