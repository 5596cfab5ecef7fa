// Request codecs: an inference request body (text/csv, application/json,
// application/jsonlines; ALGORITHM.md, Inference) → the (entity, ip) pairs to score.
//
//   text/csv               the training CSV's `entity,ip` rows, parsed by the same splitter
//                          and row rules as `train` and `score --pairs` (dataset/pair_csv.h,
//                          docs/formats/training-csv.md): RFC 4180 quotes, a space after the
//                          comma, CRLF or LF, blank lines and a first line `entity,ip` skipped.
//   application/json       {"instances": [{"data": {"features": {"values": [E, IP]}}},
//                          {"features": [E, IP]}, ...]} — both shapes, mixed.
//   application/jsonlines  one such instance object per line.
// Entities are strings (a JSON number is taken as its literal text); IPs are IPv4 or IPv6
// text, parsed strictly by IpAddress::Parse.
//
// Errors are returned, not thrown: the message names the line (CSV, JSON lines) or the
// instance index (JSON) and what is wrong ("line 3: bad IP \"10.0.0.256\"").
//
// Thread-safety: a PairBatch is used by one request at a time. DecodeRequest keeps a JSON
// parser per thread, so a PairBatch decoded from JSON must be used on the decoding thread
// before that thread decodes another body (the entities may point into the parser).
//
//   PairBatch batch;
//   if (std::optional<std::string> error = DecodeRequest(RequestFormat::kCsv, body, &batch))
//     return BadRequest(*error);
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/pairs/ip_address.h"
#include "ipinsights/serve/media_type.h"

namespace ipinsights {

struct PairBatch {
  // entities[i] points into the request body, into `unescaped`, or into the thread's JSON
  // parser; it stays valid as long as those do.
  std::vector<std::string_view> entities;
  std::vector<IpAddress> ips;
  // Entities that had to be rewritten (CSV "" escapes, JSON numbers); a deque so the
  // string_views into earlier entries stay valid.
  std::deque<std::string> unescaped;

  size_t size() const { return ips.size(); }
  void Clear() {
    entities.clear();
    ips.clear();
    unescaped.clear();
  }
};

// Appends the pairs of `body` to `batch`. Returns the error message on a malformed body
// (and `batch` then holds an unspecified prefix).
std::optional<std::string> DecodeRequest(RequestFormat format, std::string_view body,
                                         PairBatch* batch);

std::optional<std::string> DecodeCsv(std::string_view body, PairBatch* batch);
std::optional<std::string> DecodeJson(std::string_view body, PairBatch* batch);
std::optional<std::string> DecodeJsonLines(std::string_view body, PairBatch* batch);

}  // namespace ipinsights
