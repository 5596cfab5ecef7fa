#include "ipinsights/dataset/labels_reader.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

#include "ipinsights/base/bad_record.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/strings.h"
#include "ipinsights/dataset/csv_record_reader.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

constexpr size_t kMissing = static_cast<size_t>(-1);
// Attack kinds are a handful; a kind column with more distinct values is not one.
constexpr size_t kMaxKinds = 64;

}  // namespace

LabeledPairs ParseLabels(std::string text, const std::string& name) {
  LabeledPairs out;
  out.text = std::move(text);
  CsvRecordReader reader(out.text, /*last=*/true);
  auto fail = [&](std::string reason) {
    throw Error(FormatBadRecord(BadRecord::AtLine(name, reader.line() + 1, std::move(reason))));
  };
  if (reader.Next() != CsvRecordReader::Result::kRecord) {
    throw Error(FormatBadRecord(
        BadRecord::Whole(name, "empty labels file (expected a header entity,ip,label)")));
  }
  if (!reader.error().empty()) fail(reader.error());
  size_t entity_column = kMissing, ip_column = kMissing, label_column = kMissing,
         oracle_column = kMissing, kind_column = kMissing;
  std::string header;
  for (size_t i = 0; i < reader.field_count(); ++i) {
    std::string_view column = TrimBlanks(reader.field(i));
    if (i > 0) header += ',';
    header += column;
    if (column == "entity") entity_column = i;
    if (column == "ip") ip_column = i;
    if (column == "label") label_column = i;
    if (column == "oracle_score") oracle_column = i;
    if (column == "kind") kind_column = i;
  }
  if (entity_column == kMissing || ip_column == kMissing || label_column == kMissing) {
    fail(fmt::format("the header must name the columns entity, ip and label (got {})",
                     QuoteForMessage(header)));
  }
  const size_t columns = reader.field_count();
  out.has_oracle = oracle_column != kMissing;
  out.has_kind = kind_column != kMissing;
  while (reader.Next() == CsvRecordReader::Result::kRecord) {
    if (!reader.error().empty()) fail(reader.error());
    if (reader.field_count() != columns) {
      fail(fmt::format("expected {} fields as in the header, got {}", columns,
                       reader.field_count()));
    }
    std::string_view entity = reader.field(entity_column);
    if (entity.empty()) fail("empty entity");
    std::string_view ip_text = TrimBlanks(reader.field(ip_column));
    std::optional<IpAddress> ip = IpAddress::Parse(ip_text);
    if (!ip) fail("bad IP " + QuoteForMessage(ip_text));
    std::string_view label = TrimBlanks(reader.field(label_column));
    if (label != "0" && label != "1") {
      fail(fmt::format("bad label {} (expected 0 or 1)", QuoteForMessage(label)));
    }
    if (out.has_oracle) {
      std::string_view score_text = TrimBlanks(reader.field(oracle_column));
      // strtod: overflow gives +-inf (an oracle may be that certain), underflow 0.
      std::string copy(score_text);
      char* end = nullptr;
      double value = copy.empty() ? NAN : std::strtod(copy.c_str(), &end);
      if (copy.empty() || end != copy.c_str() + copy.size() || std::isnan(value)) {
        fail("bad oracle_score " + QuoteForMessage(score_text));
      }
      out.oracle_scores.push_back(static_cast<float>(value));
    }
    if (out.has_kind) {
      std::string_view kind = TrimBlanks(reader.field(kind_column));
      if (kind.empty()) fail("empty kind");
      // Few distinct kinds (a handful of attack kinds): a linear search is the fast way.
      size_t index = 0;
      while (index < out.kind_names.size() && out.kind_names[index] != kind) ++index;
      if (index == out.kind_names.size()) {
        if (index == kMaxKinds) {
          fail(fmt::format("more than {} distinct kinds (the kind column names attack kinds)",
                           kMaxKinds));
        }
        out.kind_names.emplace_back(kind);
      }
      out.kinds.push_back(static_cast<uint32_t>(index));
    }
    if (!reader.InBuffer(entity)) entity = out.unescaped.emplace_back(entity);
    out.entities.push_back(entity);
    out.ips.push_back(*ip);
    out.labels.push_back(label == "1" ? 1 : 0);
  }
  if (out.labels.empty()) {
    throw Error(FormatBadRecord(BadRecord::Whole(name, "no labelled pairs after the header")));
  }
  return out;
}

LabeledPairs ReadLabels(const std::string& location) {
  return ParseLabels(ReadWholeObject(location), location);
}

}  // namespace ipinsights
