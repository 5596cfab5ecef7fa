// An ASN-like table of IPv4 ranges, the address space of `simulate --population asn`.
//
// Like a routing table of autonomous systems (ip2asn's, which SageMaker's IP Insights
// tutorial draws from): `asn_count` owners, each announcing 1-3 ranges of 256-65,536
// addresses (log-uniform, any size, not aligned to a prefix length), scattered over public
// IPv4 space with unannounced gaps between them. Ranges are kept in address order, so range
// i's neighbours i-1 and i+1 are the nearest announced space below and above it (which is
// what the population's drift uses). Ranges never overlap and never touch special-purpose
// space, so Find() is exact.
//
// Thread-safety: immutable after construction; all methods are const and thread-safe.
//
//   AsnTable table(seed, 5000);
//   IpAddress ip = table.RandomAddress(17, rng);
//   std::optional<uint32_t> range = table.Find(ip);  // 17
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ipinsights/pairs/ip_address.h"
#include "ipinsights/simulate/random.h"

namespace ipinsights::simulate {

struct AsnRange {
  uint32_t first = 0;  // first address, host order
  uint32_t size = 0;   // addresses in the range, 256..65,536
  uint32_t owner = 0;  // index of the autonomous system announcing it
  char country[3] = {'U', 'S', 0};
  bool Contains(uint32_t address) const { return address - first < size; }
};

class AsnTable {
 public:
  // Builds the ranges of `asn_count` autonomous systems (clamped to 8..40,000)
  // deterministically from `seed`.
  AsnTable(uint64_t seed, size_t asn_count);

  // Ranges, in address order.
  size_t size() const { return ranges_.size(); }
  size_t asn_count() const { return asn_count_; }
  const AsnRange& range(size_t index) const { return ranges_[index]; }

  // The range holding `ip` (IPv4 only; IPv6 is never in the table).
  std::optional<uint32_t> Find(const IpAddress& ip) const;
  // A uniformly random address of the range.
  IpAddress RandomAddress(uint32_t range, Rng& rng) const;
  // The range `offset` positions away in address order, wrapping around the table.
  uint32_t Neighbour(uint32_t range, int64_t offset) const;

 private:
  size_t asn_count_ = 0;
  std::vector<AsnRange> ranges_;
  std::vector<uint32_t> firsts_;  // ranges_[i].first, for the binary search
};

}  // namespace ipinsights::simulate
