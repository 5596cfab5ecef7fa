#include "ipinsights/dataset/pair_csv_writer.h"

namespace ipinsights {

namespace {

// Bytes that force quoting: , " CR LF. A table lookup OR-ed over the whole entity keeps
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

}  // namespace

bool EntityNeedsCsvQuoting(std::string_view entity) {
  if (entity.empty()) return false;
  if (entity.front() == ' ' || entity.back() == ' ') return true;
  bool special = false;
  for (char c : entity) special |= kQuoteTable.special[static_cast<unsigned char>(c)];
  return special;
}

void AppendPairCsvRow(std::string_view entity, const IpAddress& ip, std::string* out) {
  if (EntityNeedsCsvQuoting(entity)) {
    out->push_back('"');
    for (char c : entity) {
      if (c == '"') out->push_back('"');
      out->push_back(c);
    }
    out->push_back('"');
  } else {
    out->append(entity);
  }
  char text[IpAddress::kMaxTextLength + 2];
  text[0] = ',';
  size_t n = ip.Format(text + 1);
  text[n + 1] = '\n';
  out->append(text, n + 2);
}

}  // namespace ipinsights
