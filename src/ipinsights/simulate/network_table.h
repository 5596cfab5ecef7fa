// The simulated Internet: a table of networks standing in for autonomous systems.
//
// Each network has a kind (residential ISP, mobile carrier, corporate office, cloud
// provider region), a country, one IPv4 prefix and, for IPv6-capable networks, one IPv6
// prefix (/32 for ISPs, carriers and clouds, /48 for offices). Prefixes never overlap:
// every network owns a distinct public IPv4 /16 (its prefix lies inside it) and a distinct
// IPv6 /32, so an address belongs to at most one network and Find() is exact. That is what
// lets the population's oracle compute likelihoods exactly (see population.h).
//
// Thread-safety: immutable after construction; Find() may be called from any thread.
//
//   NetworkTable table(seed, 5000);
//   const Network& net = table.network(3);
//   std::optional<uint32_t> owner = table.Find(ip);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ipinsights/pairs/ip_address.h"
#include "ipinsights/simulate/random.h"

namespace ipinsights::simulate {

enum class NetworkKind : uint8_t { kResidential, kMobile, kCorporate, kCloud };

struct Network {
  NetworkKind kind = NetworkKind::kResidential;
  char country[3] = {'U', 'S', 0};
  uint32_t v4_base = 0;    // host order, aligned to v4_length
  uint8_t v4_length = 16;  // prefix length, 16..28
  bool has_v6 = false;
  uint8_t v6_length = 32;  // 32 or 48
  uint64_t v6_high = 0;    // the prefix in the high 64 bits (bits below v6_length zero)
  double popularity = 1;   // relative weight when users pick a network of this kind

  uint64_t v4_size() const { return uint64_t{1} << (32 - v4_length); }
  // log of the number of addresses in the prefix of the given family.
  double LogSize(bool v6) const;
  bool ContainsV4(uint32_t address) const {
    return (address >> (32 - v4_length)) == (v4_base >> (32 - v4_length));
  }
};

// False for first octets that hold special-purpose IPv4 space (private, shared, loopback,
// link-local, benchmark, documentation, multicast, reserved): simulated networks avoid them.
bool PublicFirstOctet(unsigned octet);

// A country code drawn by rough shares of Internet users (the table's weights for every
// kind but clouds).
const char* DrawUserCountry(Rng& rng);

class NetworkTable {
 public:
  // Builds `count` networks (at least 8, at most 40,000) deterministically from `seed`.
  // About 45% residential, 10% mobile, 33% corporate, 12% cloud; `ipv6_capable` is the
  // share of ISP, carrier and cloud networks with an IPv6 prefix (offices get one at half
  // that rate).
  NetworkTable(uint64_t seed, size_t count, double ipv6_capable);

  size_t size() const { return networks_.size(); }
  const Network& network(size_t index) const { return networks_[index]; }
  // Indices of the networks of one kind, most popular first.
  const std::vector<uint32_t>& OfKind(NetworkKind kind) const {
    return by_kind_[static_cast<int>(kind)];
  }

  // The network whose prefix holds `ip`, if any.
  std::optional<uint32_t> Find(const IpAddress& ip) const;

  // A uniformly random address inside a network's prefix of the given family.
  IpAddress RandomAddress(uint32_t network, bool v6, Rng& rng) const;
  // The same from given random bits (for addresses that are a pure function of a hash).
  IpAddress AddressFromBits(uint32_t network, bool v6, uint64_t bits_high, uint64_t bits_low) const;

 private:
  std::vector<Network> networks_;
  std::vector<uint32_t> by_kind_[4];
  std::unordered_map<uint32_t, uint32_t> by_v4_slash16_;
  std::unordered_map<uint32_t, uint32_t> by_v6_slash32_;
};

}  // namespace ipinsights::simulate
