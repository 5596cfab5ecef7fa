// HeldOutPairs: the normal `entity,ip` pairs a model is evaluated on (evaluate --test, the
// pipeline's newest day), read whole into memory with their entities in one arena.
//
// Thread-safety: a plain value type; moving it keeps the entity views valid.
//
//   BadRecordLog bad_rows;
//   HeldOutPairs pairs = ReadHeldOutPairs("validation.csv", &bad_rows);
//   EvaluatePairs(model, pairs.entities, pairs.ips, ...);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/base/bad_record.h"
#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {

struct HeldOutPairs {
  std::vector<char> arena;                 // the entities' bytes (a vector: moves keep views)
  std::vector<std::string_view> entities;  // views into `arena`
  std::vector<IpAddress> ips;
  uint64_t bad_rows = 0;
};

// Every good row of the CSV at `location` (file, folder or s3://); bad rows go to
// `bad_rows` (may be null). Throws Error when the location cannot be read.
HeldOutPairs ReadHeldOutPairs(const std::string& location, BadRecordReporter* bad_rows);

}  // namespace ipinsights
