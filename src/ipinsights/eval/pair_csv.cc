#include "ipinsights/eval/pair_csv.h"

#include <fmt/format.h>

#include "ipinsights/eval/csv_record_reader.h"

namespace ipinsights {
namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A field quoted in a message: at most 64 bytes, so one huge bad field stays readable.
std::string Quote(std::string_view s) {
  if (s.size() > 64) return fmt::format("\"{}...\"", s.substr(0, 64));
  return fmt::format("\"{}\"", s);
}

}  // namespace

void ParsePairChunk(std::string text, bool first_chunk, ParsedPairs* out) {
  out->text = std::move(text);
  out->unescaped.clear();
  out->entities.clear();
  out->ips.clear();
  out->bad_rows.clear();
  out->entities.reserve(out->text.size() / 24);
  out->ips.reserve(out->text.size() / 24);
  CsvRecordReader reader(out->text);
  while (reader.Next()) {
    if (!reader.error().empty()) {
      out->bad_rows.push_back({reader.line(), reader.error()});
      continue;
    }
    if (reader.field_count() != 2) {
      out->bad_rows.push_back(
          {reader.line(), fmt::format("expected 2 fields (entity,ip), got {}", reader.field_count())});
      continue;
    }
    std::string_view entity = reader.field(0);
    std::string_view ip_text = TrimSpaces(reader.field(1));
    if (first_chunk && reader.line() == 0 && entity == "entity" && ip_text == "ip") continue;
    if (entity.empty()) {
      out->bad_rows.push_back({reader.line(), "empty entity"});
      continue;
    }
    std::optional<IpAddress> ip = IpAddress::Parse(ip_text);
    if (!ip) {
      out->bad_rows.push_back({reader.line(), "bad IP " + Quote(ip_text)});
      continue;
    }
    // Fields with "" escapes live in the reader; copy them where they stay put.
    const char* base = out->text.data();
    if (entity.data() < base || entity.data() >= base + out->text.size()) {
      entity = out->unescaped.emplace_back(entity);
    }
    out->entities.push_back(entity);
    out->ips.push_back(*ip);
  }
  out->lines = reader.lines_consumed();
}

std::string FormatBadRow(const std::string& location, const BadRow& row) {
  return fmt::format("{}:{}: {}", location, row.line, row.message);
}

}  // namespace ipinsights
