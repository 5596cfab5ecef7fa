#include "ipinsights/simulate/network_table.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "ipinsights/base/error.h"

namespace ipinsights::simulate {
namespace {

constexpr uint64_t kTagNetworks = 0x6e657477;  // "netw"

struct CountryWeight {
  const char* code;
  double weight;
};

// Rough shares of Internet users in the kind of populations AWS customers serve.
constexpr CountryWeight kCountries[] = {
    {"US", 30}, {"GB", 6}, {"DE", 6}, {"FR", 4}, {"IN", 6}, {"BR", 4}, {"JP", 4},
    {"CA", 3},  {"AU", 2}, {"NL", 2}, {"ES", 2}, {"IT", 2}, {"SE", 1}, {"PL", 2},
    {"SG", 1},  {"KR", 2}, {"MX", 2}, {"IE", 1}, {"ZA", 1}, {"HK", 1}, {"CN", 3},
    {"RU", 2},  {"TR", 1}, {"ID", 2}, {"NG", 1}, {"AR", 1}, {"CH", 1}, {"IL", 1},
};
// Where cloud regions are.
constexpr CountryWeight kCloudCountries[] = {
    {"US", 10}, {"IE", 3}, {"DE", 2}, {"GB", 1}, {"FR", 1}, {"JP", 2}, {"SG", 2},
    {"AU", 1},  {"IN", 1}, {"BR", 1}, {"CA", 1}, {"KR", 1}, {"SE", 1}, {"HK", 1},
};

template <size_t N>
const char* PickCountry(const CountryWeight (&table)[N], Rng& rng) {
  double total = 0;
  for (const CountryWeight& c : table) total += c.weight;
  double u = rng.Uniform() * total;
  for (const CountryWeight& c : table) {
    if (u < c.weight) return c.code;
    u -= c.weight;
  }
  return table[N - 1].code;
}

}  // namespace

// First octets that hold private, shared, loopback, link-local, benchmark or documentation
// space (10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.168/16, 198.18/15, 203.0.113/24
// ...): whole octets are skipped so no simulated network ever looks special-purpose.
bool PublicFirstOctet(unsigned octet) {
  if (octet == 0 || octet >= 224) return false;
  switch (octet) {
    case 10:
    case 100:
    case 127:
    case 169:
    case 172:
    case 192:
    case 198:
    case 203:
      return false;
    default:
      return true;
  }
}

const char* DrawUserCountry(Rng& rng) { return PickCountry(kCountries, rng); }

double Network::LogSize(bool v6) const {
  return (v6 ? 128 - v6_length : 32 - v4_length) * 0.6931471805599453;
}

NetworkTable::NetworkTable(uint64_t seed, size_t count, double ipv6_capable) {
  count = std::clamp<size_t>(count, 8, 40000);
  Rng rng(DeriveSeed(seed, kTagNetworks));
  std::vector<unsigned> first_octets;
  for (unsigned o = 1; o < 224; ++o) {
    if (PublicFirstOctet(o)) first_octets.push_back(o);
  }
  networks_.resize(count);
  for (size_t i = 0; i < count; ++i) {
    Network& net = networks_[i];
    // Kinds interleaved; the first four networks are one of each, so every kind exists
    // even in tiny tables.
    const size_t slot = i % 20;
    net.kind = i < 4       ? static_cast<NetworkKind>(i)
               : slot < 9  ? NetworkKind::kResidential
               : slot < 11 ? NetworkKind::kMobile
               : slot < 18 ? NetworkKind::kCorporate
                           : NetworkKind::kCloud;
    const char* country = net.kind == NetworkKind::kCloud ? PickCountry(kCloudCountries, rng)
                                                          : PickCountry(kCountries, rng);
    net.country[0] = country[0];
    net.country[1] = country[1];
    uint32_t slash16;
    do {
      const uint32_t first = first_octets[rng.Below(first_octets.size())];
      slash16 = (first << 8) | static_cast<uint32_t>(rng.Below(256));
    } while (by_v4_slash16_.count(slash16));
    by_v4_slash16_.emplace(slash16, static_cast<uint32_t>(i));
    switch (net.kind) {
      case NetworkKind::kResidential:
        net.v4_length = static_cast<uint8_t>(16 + rng.Below(3));
        break;
      case NetworkKind::kMobile:
        net.v4_length = static_cast<uint8_t>(17 + rng.Below(4));
        break;
      case NetworkKind::kCorporate:
        net.v4_length = static_cast<uint8_t>(22 + rng.Below(7));
        break;
      case NetworkKind::kCloud:
        net.v4_length = static_cast<uint8_t>(16 + rng.Below(5));
        break;
    }
    const uint32_t inside = static_cast<uint32_t>(rng.Below(uint64_t{1} << (net.v4_length - 16)));
    net.v4_base = (slash16 << 16) | (inside << (32 - net.v4_length));
    const double v6_share = net.kind == NetworkKind::kCorporate ? ipv6_capable / 2 : ipv6_capable;
    net.has_v6 = rng.Bernoulli(v6_share);
    uint32_t slash32;
    do {
      // 2000::/3 global unicast, never 2001:db8::/32 (documentation) or 2002::/16 (6to4).
      slash32 = 0x20000000u | static_cast<uint32_t>(rng.Below(uint64_t{1} << 29));
    } while (by_v6_slash32_.count(slash32) || slash32 == 0x20010db8u || (slash32 >> 16) == 0x2002u);
    if (net.has_v6) {
      by_v6_slash32_.emplace(slash32, static_cast<uint32_t>(i));
      net.v6_length = net.kind == NetworkKind::kCorporate ? 48 : 32;
      net.v6_high = uint64_t{slash32} << 32;
      if (net.v6_length == 48) net.v6_high |= rng.Below(1 << 16) << 16;
    }
  }
  // Popularity within a kind: Zipf-like over a random order, so a few ISPs and clouds
  // carry much of the traffic, as on the real Internet.
  for (int kind = 0; kind < 4; ++kind) {
    std::vector<uint32_t>& members = by_kind_[kind];
    for (size_t i = 0; i < count; ++i) {
      if (static_cast<int>(networks_[i].kind) == kind) members.push_back(static_cast<uint32_t>(i));
    }
    for (size_t i = members.size(); i > 1; --i) std::swap(members[i - 1], members[rng.Below(i)]);
    for (size_t rank = 0; rank < members.size(); ++rank) {
      networks_[members[rank]].popularity = 1.0 / std::pow(static_cast<double>(rank + 1), 0.9);
    }
  }
}

std::optional<uint32_t> NetworkTable::Find(const IpAddress& ip) const {
  if (ip.is_v4()) {
    auto it = by_v4_slash16_.find(ip.v4() >> 16);
    if (it == by_v4_slash16_.end()) return std::nullopt;
    if (!networks_[it->second].ContainsV4(ip.v4())) return std::nullopt;
    return it->second;
  }
  const uint64_t high = ip.high64();
  auto it = by_v6_slash32_.find(static_cast<uint32_t>(high >> 32));
  if (it == by_v6_slash32_.end()) return std::nullopt;
  const Network& net = networks_[it->second];
  const int shift = 64 - net.v6_length;
  if ((high >> shift) != (net.v6_high >> shift)) return std::nullopt;
  return it->second;
}

IpAddress NetworkTable::AddressFromBits(uint32_t network, bool v6, uint64_t bits_high,
                                        uint64_t bits_low) const {
  const Network& net = networks_[network];
  if (!v6) {
    const uint32_t host = static_cast<uint32_t>(bits_low & (net.v4_size() - 1));
    return IpAddress::FromV4(net.v4_base | host);
  }
  IPI_CHECK(net.has_v6);
  const uint64_t host_high = bits_high & ((uint64_t{1} << (64 - net.v6_length)) - 1);
  return IpAddress::FromHalves(net.v6_high | host_high, bits_low);
}

IpAddress NetworkTable::RandomAddress(uint32_t network, bool v6, Rng& rng) const {
  const uint64_t high = rng.Next();
  const uint64_t low = rng.Next();
  return AddressFromBits(network, v6, high, low);
}

}  // namespace ipinsights::simulate
