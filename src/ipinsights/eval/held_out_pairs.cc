#include "ipinsights/eval/held_out_pairs.h"

#include <utility>

#include "ipinsights/dataset/pair_reader.h"

namespace ipinsights {

HeldOutPairs ReadHeldOutPairs(const std::string& location, BadRecordReporter* bad_rows) {
  HeldOutPairs pairs;
  std::vector<std::pair<size_t, size_t>> spans;  // offset, length in the arena
  PairReader reader(location, bad_rows);
  std::string_view entity;
  IpAddress ip;
  while (reader.Next(&entity, &ip)) {
    spans.emplace_back(pairs.arena.size(), entity.size());
    pairs.arena.insert(pairs.arena.end(), entity.begin(), entity.end());
    pairs.ips.push_back(ip);
  }
  pairs.entities.reserve(spans.size());
  for (const auto& [offset, length] : spans) {
    pairs.entities.emplace_back(pairs.arena.data() + offset, length);
  }
  pairs.bad_rows = reader.stats().bad_rows;
  return pairs;
}

}  // namespace ipinsights
