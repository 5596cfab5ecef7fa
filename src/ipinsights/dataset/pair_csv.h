// The `entity,ip` row rules, written once (docs/formats/training-csv.md, "Grammar"), and
// ParsePairChunk, which applies them to a chunk of whole records (`score --pairs`).
//
// ParsePairRecord judges one record CsvRecordReader split: a pair, a header to skip, or a
// bad row with its reason. Every reader of the format calls it: PairReader (train,
// evaluate --test), ParsePairChunk (score --pairs) and serve's text/csv decoder, so the
// three accept the same rows and reject the others with the same message:
//   - a record CsvRecordReader found malformed: its reason ("unterminated quoted field", ...)
//   - not exactly two fields: "expected 2 fields (entity,ip), got N"
//   - the first line of a file (or request body) that reads `entity,ip`: a header, skipped
//   - an empty entity: "empty entity"
//   - a second field that is not an address once spaces and tabs around it are trimmed
//     (IpAddress::Parse): "bad IP \"...\"" (QuoteForMessage)
// The entity is kept byte for byte (spaces included).
//
// Thread-safety: pure functions on their arguments; chunks of one input can be parsed on
// several threads at once.
//
//   ParsedPairs pairs;
//   ParsePairChunk(std::move(chunk), records_end, /*first_chunk=*/true, &pairs);
//   for (const BadRecord& bad : pairs.bad_records) Report(bad.value + line_base, bad.reason);
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/base/bad_record.h"
#include "ipinsights/dataset/csv_record_reader.h"
#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {

enum class PairRecord { kPair, kHeader, kBad };

// Judges the record `record` has just returned. `first_chunk`: line 0 of the reader's
// buffer is the first line of its input (only there is `entity,ip` a header). On kPair sets
// *entity (valid as long as the record's field) and *ip; on kBad sets *problem.
PairRecord ParsePairRecord(const CsvRecordReader& record, bool first_chunk,
                           std::string_view* entity, IpAddress* ip, std::string* problem);

// The good rows of one chunk. Entities point into `text` or `unescaped`, which this
// object owns: keep it alive (and unmoved if held by value) while using them.
struct ParsedPairs {
  std::string text;
  std::deque<std::string> unescaped;
  std::vector<std::string_view> entities;
  std::vector<IpAddress> ips;
  // The bad rows, in order. Their location is left empty and their line is 0-based within
  // the chunk: only the caller knows where the chunk lies in its input.
  std::vector<BadRecord> bad_records;
  uint64_t lines = 0;  // line breaks before records_end
};

// Parses the records of `text` that start before `records_end` (a chunk and its records_end
// from CsvChunkReader with the same max_record_bytes, or a whole input and its size) into
// *out, replacing its contents.
void ParsePairChunk(std::string text, size_t records_end, bool first_chunk, ParsedPairs* out,
                    size_t max_record_bytes = kMaxCsvRecordBytes);
inline void ParsePairChunk(std::string text, bool first_chunk, ParsedPairs* out,
                           size_t max_record_bytes = kMaxCsvRecordBytes) {
  const size_t size = text.size();
  ParsePairChunk(std::move(text), size, first_chunk, out, max_record_bytes);
}

}  // namespace ipinsights
