// Tiny synthetic populations for training tests: each user has one to three home
// networks (/24s inside a few ISP /16s) and logs in from a random host of one of them;
// attacks pair a known user with a uniformly random IPv4 address.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ipinsights/base/hash.h"
#include "ipinsights/pairs/ip_address.h"

namespace ipinsights::testing {

struct SyntheticPair {
  std::string entity;
  IpAddress ip;
};

struct SyntheticPopulation {
  std::vector<SyntheticPair> train;
  std::vector<SyntheticPair> test_normal;
  std::vector<SyntheticPair> test_attack;
};

inline SyntheticPopulation MakePopulation(int users, int events_per_user, uint64_t seed,
                                          bool with_ipv6 = false) {
  SyntheticPopulation p;
  uint64_t counter = 0;
  auto next = [&]() { return Mix64(seed ^ Mix64(++counter)); };
  std::vector<uint32_t> isps;
  for (int i = 0; i < 40; ++i) isps.push_back(static_cast<uint32_t>(next()) & 0xffff0000u);
  for (int u = 0; u < users; ++u) {
    const std::string name = "user" + std::to_string(u);
    const int networks = 1 + static_cast<int>(next() % 3);
    std::vector<uint32_t> homes;
    for (int k = 0; k < networks; ++k) {
      homes.push_back(isps[next() % isps.size()] | ((static_cast<uint32_t>(next()) & 0xff) << 8));
    }
    const bool v6 = with_ipv6 && u % 3 == 0;
    auto address = [&]() {
      const uint32_t home = homes[next() % homes.size()];
      if (!v6) return IpAddress::FromV4(home | static_cast<uint32_t>(next() & 0xff));
      std::array<uint8_t, 16> bytes{0x20, 0x01, 0x0d, 0xb8};
      bytes[4] = static_cast<uint8_t>(home >> 24);
      bytes[5] = static_cast<uint8_t>(home >> 16);
      bytes[6] = static_cast<uint8_t>(home >> 8);
      const uint64_t low = next();
      for (int i = 0; i < 8; ++i) bytes[8 + i] = static_cast<uint8_t>(low >> (8 * i));
      return IpAddress::FromBytes(bytes);
    };
    for (int e = 0; e < events_per_user; ++e) p.train.push_back({name, address()});
    p.test_normal.push_back({name, address()});
    p.test_attack.push_back({name, IpAddress::FromV4(static_cast<uint32_t>(next()))});
  }
  // Shuffle the training rows as the tutorial does.
  for (size_t i = p.train.size(); i-- > 1;) std::swap(p.train[i], p.train[next() % (i + 1)]);
  return p;
}

inline std::string ToCsv(const std::vector<SyntheticPair>& pairs) {
  std::string out;
  for (const SyntheticPair& pair : pairs) out += pair.entity + "," + pair.ip.ToString() + "\n";
  return out;
}

}  // namespace ipinsights::testing
