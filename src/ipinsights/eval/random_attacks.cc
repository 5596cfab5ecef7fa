#include "ipinsights/eval/random_attacks.h"

#include <algorithm>
#include <unordered_set>

#include "ipinsights/base/error.h"
#include "ipinsights/base/hash.h"

namespace ipinsights {
namespace {

bool InNetwork(uint32_t ip, uint32_t network, int prefix_length) {
  uint32_t mask = prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - prefix_length);
  return (ip & mask) == network;
}

// A counter-based generator (splitmix64): the same stream on every platform and compiler,
// unlike the standard distributions.
class SplitMix {
 public:
  explicit SplitMix(uint64_t seed) : state_(seed) {}
  uint64_t Next() { return Mix64(state_++ * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL); }
  // Uniform in [0, n) (Lemire's multiply-shift; the bias is below 2^-32 for our n).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }

 private:
  uint64_t state_;
};

}  // namespace

bool IsPublicIpv4(uint32_t ip) {
  struct Range {
    uint32_t network;
    int prefix_length;
  };
  static constexpr Range kSpecial[] = {
      {0x00000000, 8},  {0x0a000000, 8},  {0x64400000, 10}, {0x7f000000, 8},  {0xa9fe0000, 16},
      {0xac100000, 12}, {0xc0000000, 24}, {0xc0000200, 24}, {0xc0586300, 24}, {0xc0a80000, 16},
      {0xc6120000, 15}, {0xc6336400, 24}, {0xcb007100, 24}, {0xe0000000, 4},  {0xf0000000, 4},
  };
  for (const Range& r : kSpecial) {
    if (InNetwork(ip, r.network, r.prefix_length)) return false;
  }
  return true;
}

RandomAttacks MakeRandomAttacks(const std::vector<std::string_view>& known_entities, size_t count,
                                uint64_t seed) {
  if (known_entities.empty()) throw Error("random attacks need at least one known entity");
  // Distinct entities in first-seen order, so the draw depends only on the data and seed.
  std::vector<std::string_view> distinct;
  std::unordered_set<std::string_view> seen;
  for (std::string_view e : known_entities) {
    if (seen.insert(e).second) distinct.push_back(e);
  }
  RandomAttacks attacks;
  attacks.entities.reserve(count);
  attacks.ips.reserve(count);
  SplitMix random(Mix64(seed) ^ 0x5eed0a77ac4bULL);
  for (size_t i = 0; i < count; ++i) {
    attacks.entities.push_back(distinct[random.Below(distinct.size())]);
    uint32_t ip;
    do {
      ip = static_cast<uint32_t>(random.Next() >> 32);
    } while (!IsPublicIpv4(ip));
    attacks.ips.push_back(IpAddress::FromV4(ip));
  }
  return attacks;
}

}  // namespace ipinsights
