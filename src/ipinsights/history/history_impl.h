// EntityHistory::Impl: the records and tables of a history with their lookup indexes, shared
// by the builder (which makes one), the file reader (which parses one) and EntityHistory's
// accessors. Internal to the history component.
//
// Thread-safety: immutable once Index() has run.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "ipinsights/base/hash.h"
#include "ipinsights/history/entity_history.h"
#include "ipinsights/history/hash_index.h"

namespace ipinsights {

// How many entities were seen on a network.
struct NetworkCount {
  Network network;
  uint64_t entities = 0;
};

// The hash of an entity name in the history's indexes (not stored in files).
inline uint64_t EntityKeyHash(std::string_view entity) { return Hash64(entity, 0x68697374); }
// The hash of a network's (or an address's) 16 bytes in the history's indexes.
inline uint64_t AddressKeyHash(uint64_t high, uint64_t low) { return Mix64(high ^ Mix64(low)); }

// Widens [*to_first, *to_last] to hold [first, last]; kUnknownDay takes no part.
inline void WidenDays(int32_t first, int32_t last, int32_t* to_first, int32_t* to_last) {
  if (first != kUnknownDay && (*to_first == kUnknownDay || first < *to_first)) *to_first = first;
  if (last != kUnknownDay && (*to_last == kUnknownDay || last > *to_last)) *to_last = last;
}

// IpAddress::high64() and low64() inline (the builder's hot path): the bytes are in network
// order, so each half is a big-endian load.
inline uint64_t HighHalf(const IpAddress& ip) {
  uint64_t v;
  std::memcpy(&v, ip.bytes().data(), 8);
  return __builtin_bswap64(v);
}
inline uint64_t LowHalf(const IpAddress& ip) {
  uint64_t v;
  std::memcpy(&v, ip.bytes().data() + 8, 8);
  return __builtin_bswap64(v);
}

// The halves of the network of the address (high, low) at `level`: NetworkOf without
// building an IpAddress. IPv4 is stored IPv4-mapped: high 0, low 0x0000ffff'aabbccdd.
inline void NetworkHalves(uint64_t high, uint64_t low, NetworkLevel level, uint64_t* net_high,
                          uint64_t* net_low) {
  const bool v4 = high == 0 && (low >> 32) == 0xffff;
  if (v4) {
    *net_high = 0;
    *net_low = low & (level == NetworkLevel::kFine ? ~uint64_t{0xff} : ~uint64_t{0xffff});
  } else {
    *net_high = high & (level == NetworkLevel::kFine ? ~uint64_t{0xffff} : ~uint64_t{0xffffffff});
    *net_low = 0;
  }
}

// The prefix length of `level` for an address of this family.
inline uint8_t PrefixLength(bool v4, NetworkLevel level) {
  if (v4) return level == NetworkLevel::kFine ? 24 : 16;
  return level == NetworkLevel::kFine ? 48 : 32;
}

struct EntityHistory::Impl {
  HistoryLimits limits;
  std::vector<EntityRecord> records;  // sorted by entity, unique
  uint64_t events = 0;
  int32_t first_day = kUnknownDay;
  int32_t last_day = kUnknownDay;
  uint64_t checksum = 0;  // the file's, when read from one
  // Sorted by network base, unique; every count >= 1.
  std::vector<NetworkCount> networks[2];  // [NetworkLevel]

  HashIndex entity_index;
  HashIndex network_index[2];

  // Builds the lookup indexes over records and networks.
  void Index();
};

}  // namespace ipinsights
