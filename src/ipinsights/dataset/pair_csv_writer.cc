#include "ipinsights/dataset/pair_csv_writer.h"

namespace ipinsights {

namespace {

// Bytes that force quoting: , " CR LF. A table lookup OR-ed over the whole field keeps
// the loop free of branches (this runs once per output row).
struct QuoteTable {
  bool special[256] = {};
  constexpr QuoteTable() {
    special[static_cast<unsigned char>(',')] = true;
    special[static_cast<unsigned char>('"')] = true;
    special[static_cast<unsigned char>('\n')] = true;
    special[static_cast<unsigned char>('\r')] = true;
  }
};
constexpr QuoteTable kQuoteTable;

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

bool CsvFieldNeedsQuoting(std::string_view field) {
  if (field.empty() || IsBlank(field.front()) || IsBlank(field.back())) return true;
  bool special = false;
  for (char c : field) special |= kQuoteTable.special[static_cast<unsigned char>(c)];
  return special;
}

void AppendCsvField(std::string_view field, std::string* out) {
  if (!CsvFieldNeedsQuoting(field)) {
    out->append(field);
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendPairCsvRow(std::string_view entity, const IpAddress& ip, std::string* out) {
  AppendCsvField(entity, out);
  char text[IpAddress::kMaxTextLength + 2];
  text[0] = ',';
  size_t n = ip.Format(text + 1);
  text[n + 1] = '\n';
  out->append(text, n + 2);
}

}  // namespace ipinsights
