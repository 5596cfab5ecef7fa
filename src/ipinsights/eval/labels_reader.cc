#include "ipinsights/eval/labels_reader.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

#include "ipinsights/base/error.h"
#include "ipinsights/eval/csv_record_reader.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Shorten(std::string_view s) {
  return s.size() > 64 ? std::string(s.substr(0, 64)) + "..." : std::string(s);
}

constexpr size_t kMissing = static_cast<size_t>(-1);

}  // namespace

LabeledPairs ParseLabels(std::string text, const std::string& name) {
  LabeledPairs out;
  out.text = std::move(text);
  CsvRecordReader reader(out.text);
  auto fail = [&](const std::string& message) {
    throw Error(fmt::format("{}:{}: {}", name, reader.line() + 1, message));
  };
  if (!reader.Next()) throw Error(name + ": empty labels file (expected a header entity,ip,label)");
  if (!reader.error().empty()) fail(reader.error());
  size_t entity_column = kMissing, ip_column = kMissing, label_column = kMissing,
         oracle_column = kMissing;
  std::string header;
  for (size_t i = 0; i < reader.field_count(); ++i) {
    std::string_view column = TrimSpaces(reader.field(i));
    if (i > 0) header += ',';
    header += column;
    if (column == "entity") entity_column = i;
    if (column == "ip") ip_column = i;
    if (column == "label") label_column = i;
    if (column == "oracle_score") oracle_column = i;
  }
  if (entity_column == kMissing || ip_column == kMissing || label_column == kMissing) {
    fail(fmt::format("the header must name the columns entity, ip and label (got \"{}\")",
                     Shorten(header)));
  }
  const size_t columns = reader.field_count();
  out.has_oracle = oracle_column != kMissing;
  while (reader.Next()) {
    if (!reader.error().empty()) fail(reader.error());
    if (reader.field_count() != columns) {
      fail(fmt::format("expected {} fields as in the header, got {}", columns,
                       reader.field_count()));
    }
    std::string_view entity = reader.field(entity_column);
    if (entity.empty()) fail("empty entity");
    std::string_view ip_text = TrimSpaces(reader.field(ip_column));
    std::optional<IpAddress> ip = IpAddress::Parse(ip_text);
    if (!ip) fail(fmt::format("bad IP \"{}\"", Shorten(ip_text)));
    std::string_view label = TrimSpaces(reader.field(label_column));
    if (label != "0" && label != "1") {
      fail(fmt::format("bad label \"{}\" (expected 0 or 1)", Shorten(label)));
    }
    if (out.has_oracle) {
      std::string_view score_text = TrimSpaces(reader.field(oracle_column));
      // strtod: overflow gives +-inf (an oracle may be that certain), underflow 0.
      std::string copy(score_text);
      char* end = nullptr;
      double value = copy.empty() ? NAN : std::strtod(copy.c_str(), &end);
      if (copy.empty() || end != copy.c_str() + copy.size() || std::isnan(value)) {
        fail(fmt::format("bad oracle_score \"{}\"", Shorten(score_text)));
      }
      float score = static_cast<float>(value);
      out.oracle_scores.push_back(score);
    }
    const char* base = out.text.data();
    if (entity.data() < base || entity.data() >= base + out.text.size()) {
      entity = out.unescaped.emplace_back(entity);
    }
    out.entities.push_back(entity);
    out.ips.push_back(*ip);
    out.labels.push_back(label == "1" ? 1 : 0);
  }
  if (out.labels.empty()) throw Error(name + ": no labelled pairs after the header");
  return out;
}

LabeledPairs ReadLabels(const std::string& location) {
  return ParseLabels(ReadWholeObject(location), location);
}

}  // namespace ipinsights
