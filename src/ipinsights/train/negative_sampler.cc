#include "ipinsights/train/negative_sampler.h"

#include <algorithm>

#include "ipinsights/base/hash.h"

namespace ipinsights {
namespace {

// A uniform integer in [0, bound) from 64 random bits (Lemire's multiply-shift).
inline uint64_t Below(uint64_t random_bits, uint64_t bound) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(random_bits) * bound) >> 64);
}

template <typename T>
void SortUnique(std::vector<T>* values) {
  std::sort(values->begin(), values->end());
  values->erase(std::unique(values->begin(), values->end()), values->end());
}

}  // namespace

IpAddress UniformRandomIp(bool v6, uint64_t random_bits) {
  if (!v6) return IpAddress::FromV4(static_cast<uint32_t>(random_bits >> 32));
  // A global unicast address (2000::/3): a random IPv6 address anywhere else is not routed.
  return IpAddress::FromHalves((random_bits >> 3) | (uint64_t{1} << 61), Mix64(random_bits));
}

NegativeSampler::NegativeSampler(const std::vector<TrainingRow>& rows) {
  // A bitmap of the 65,536 IPv4 /16s; IPv6 /32s collected and de-duplicated.
  std::vector<uint8_t> seen16(65536, 0);
  for (const TrainingRow& row : rows) {
    if (row.ip.is_v4()) {
      seen16[row.ip.v4() >> 16] = 1;
    } else {
      v6_slash32_.push_back(static_cast<uint32_t>(row.ip.high64() >> 32));
    }
  }
  for (uint32_t p = 0; p < 65536; ++p) {
    if (seen16[p]) v4_slash16_.push_back(static_cast<uint16_t>(p));
  }
  SortUnique(&v6_slash32_);
}

IpAddress NegativeSampler::Draw(const IpAddress& observed, int64_t k, uint64_t random_bits) const {
  const bool v6 = !observed.is_v4();
  const bool from_networks = k % 2 == 0 && (v6 ? !v6_slash32_.empty() : !v4_slash16_.empty());
  if (!from_networks) return UniformRandomIp(v6, random_bits);
  const uint64_t host = Mix64(random_bits ^ 0x484f5354ULL);  // "HOST"
  if (!v6) {
    const uint32_t network = v4_slash16_[Below(random_bits, v4_slash16_.size())];
    return IpAddress::FromV4((network << 16) | static_cast<uint32_t>(host & 0xffff));
  }
  const uint64_t network = v6_slash32_[Below(random_bits, v6_slash32_.size())];
  return IpAddress::FromHalves((network << 32) | (host >> 32), Mix64(host));
}

}  // namespace ipinsights
