#include "ipinsights/simulate/asn_table.h"

#include <algorithm>
#include <cmath>

#include "ipinsights/base/error.h"
#include "ipinsights/simulate/network_table.h"

namespace ipinsights::simulate {
namespace {

constexpr uint64_t kTagAsnTable = 0x61736e74;  // "asnt"
constexpr double kMinRange = 256;
constexpr double kMaxRange = 65536;

}  // namespace

AsnTable::AsnTable(uint64_t seed, size_t asn_count) {
  asn_count_ = std::clamp<size_t>(asn_count, 8, 40000);
  Rng rng(DeriveSeed(seed, kTagAsnTable));
  struct Piece {
    uint32_t owner;
    uint32_t size;
  };
  std::vector<Piece> pieces;
  std::vector<const char*> countries(asn_count_);
  uint64_t announced = 0;
  for (size_t a = 0; a < asn_count_; ++a) {
    countries[a] = DrawUserCountry(rng);
    const int count = 1 + static_cast<int>(rng.Below(3));
    for (int k = 0; k < count; ++k) {
      const double size = std::exp(std::log(kMinRange) +
                                   rng.Uniform() * (std::log(kMaxRange) - std::log(kMinRange)));
      pieces.push_back({static_cast<uint32_t>(a), static_cast<uint32_t>(std::lround(size))});
      announced += pieces.back().size;
    }
  }
  // An AS's ranges lie in different parts of the address space, as real announcements do.
  for (size_t i = pieces.size(); i > 1; --i) std::swap(pieces[i - 1], pieces[rng.Below(i)]);

  std::vector<uint32_t> octets;
  for (unsigned o = 0; o < 256; ++o) {
    if (PublicFirstOctet(o)) octets.push_back(o);
  }
  const uint64_t capacity = uint64_t{octets.size()} << 24;
  // At most 40,000 x 3 ranges of mean 11,800 addresses: about 40% of public space.
  if (announced * 2 > capacity) throw Error("simulate: the ASN table does not fit IPv4");
  // Half the unannounced space goes into gaps between ranges, in random proportions.
  std::vector<double> gap_weights(pieces.size());
  double gap_total = 0;
  for (double& w : gap_weights) gap_total += (w = rng.Uniform());
  const double gap_budget = static_cast<double>(capacity - announced) / 2;

  size_t octet = 0;
  uint64_t cursor = uint64_t{octets[0]} << 24;
  ranges_.reserve(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    cursor += static_cast<uint64_t>(gap_budget * gap_weights[i] / gap_total);
    // A range never crosses into the next first octet (which may be special-purpose).
    while (cursor + pieces[i].size > ((uint64_t{octets[octet]} + 1) << 24)) {
      if (++octet == octets.size()) throw Error("simulate: the ASN table does not fit IPv4");
      cursor = std::max(cursor, uint64_t{octets[octet]} << 24);
    }
    AsnRange range;
    range.first = static_cast<uint32_t>(cursor);
    range.size = pieces[i].size;
    range.owner = pieces[i].owner;
    range.country[0] = countries[range.owner][0];
    range.country[1] = countries[range.owner][1];
    ranges_.push_back(range);
    firsts_.push_back(range.first);
    cursor += pieces[i].size;
  }
}

std::optional<uint32_t> AsnTable::Find(const IpAddress& ip) const {
  if (!ip.is_v4()) return std::nullopt;
  const uint32_t address = ip.v4();
  auto it = std::upper_bound(firsts_.begin(), firsts_.end(), address);
  if (it == firsts_.begin()) return std::nullopt;
  const uint32_t index = static_cast<uint32_t>(it - firsts_.begin() - 1);
  if (!ranges_[index].Contains(address)) return std::nullopt;
  return index;
}

IpAddress AsnTable::RandomAddress(uint32_t range, Rng& rng) const {
  const AsnRange& r = ranges_[range];
  return IpAddress::FromV4(r.first + static_cast<uint32_t>(rng.Below(r.size)));
}

uint32_t AsnTable::Neighbour(uint32_t range, int64_t offset) const {
  const int64_t n = static_cast<int64_t>(ranges_.size());
  return static_cast<uint32_t>(((static_cast<int64_t>(range) + offset) % n + n) % n);
}

}  // namespace ipinsights::simulate
