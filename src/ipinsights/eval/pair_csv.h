// Parsing `entity,ip` CSV (the training / scoring format, headerless; see
// CsvRecordReader for the quoting rules) into entities and addresses, with every bad row
// kept aside with its line number instead of stopping the read.
//
// A row is bad when it does not have exactly two fields, its entity is empty, or its
// second field is not an IP address (IpAddress::Parse; surrounding spaces are ignored).
// A first line that reads exactly `entity,ip` is taken for a header and skipped.
//
// Thread-safety: ParsePairChunk is a pure function on its arguments; chunks of one input
// can be parsed on several threads at once.
//
//   ParsedPairs pairs;
//   ParsePairChunk(std::move(chunk), /*first_chunk=*/true, &pairs);
//   for (const BadRow& bad : pairs.bad_rows) Report(bad.line + 1, bad.message);
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {

struct BadRow {
  uint64_t line = 0;  // 0-based within the chunk in ParsedPairs; 1-based once reported
  std::string message;
};

// The good rows of one chunk. Entities point into `text` or `unescaped`, which this
// object owns: keep it alive (and unmoved if held by value) while using them.
struct ParsedPairs {
  std::string text;
  std::deque<std::string> unescaped;
  std::vector<std::string_view> entities;
  std::vector<IpAddress> ips;
  std::vector<BadRow> bad_rows;
  uint64_t lines = 0;  // line breaks in `text`
};

// Parses `text` (whole records) into *out, replacing its contents.
void ParsePairChunk(std::string text, bool first_chunk, ParsedPairs* out);

// "LOCATION:LINE: MESSAGE", the message every command prints for a bad row.
std::string FormatBadRow(const std::string& location, const BadRow& row);

}  // namespace ipinsights
