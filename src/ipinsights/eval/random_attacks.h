// Generated anomalies for `evaluate --test SRC --random-attacks N`, as the IP Insights
// tutorial built its test set: a known entity (drawn uniformly among the distinct entities
// of the normal pairs) paired with a random public IPv4 address, deterministically from a
// seed.
//
// "Public" excludes the special-purpose IPv4 ranges (RFC 6890: 0/8, 10/8, 100.64/10, 127/8,
// 169.254/16, 172.16/12, 192.0.0/24, 192.0.2/24, 192.88.99/24, 192.168/16, 198.18/15,
// 198.51.100/24, 203.0.113/24, 224/4 multicast, 240/4 reserved): an attacker's address
// is routable.
//
// Thread-safety: pure functions.
//
//   RandomAttacks attacks = MakeRandomAttacks(normal.entities, 100000, /*seed=*/1);
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {

bool IsPublicIpv4(uint32_t host_order);

struct RandomAttacks {
  std::vector<std::string_view> entities;  // views into the caller's entities
  std::vector<IpAddress> ips;
};

// Throws Error when `known_entities` is empty.
RandomAttacks MakeRandomAttacks(const std::vector<std::string_view>& known_entities, size_t count,
                                uint64_t seed);

}  // namespace ipinsights
