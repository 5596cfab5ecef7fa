#include "ipinsights/train/negative_sampler.h"

#include <algorithm>
#include <utility>

#include "ipinsights/base/hash.h"

namespace ipinsights {
namespace {

template <typename T>
void SortUnique(std::vector<T>* values) {
  std::sort(values->begin(), values->end());
  values->erase(std::unique(values->begin(), values->end()), values->end());
}

}  // namespace

void DrawShuffle(const TrainingRow* rows, size_t n, uint64_t stream, uint32_t* p, uint32_t* inverse,
                 uint8_t* valid) {
  auto same = [&](size_t a, size_t b) {
    return rows[a].entity_hash == rows[b].entity_hash && rows[a].ip == rows[b].ip;
  };
  uint64_t draw = 0;
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint32_t>(i);
  for (size_t i = n; i-- > 1;) std::swap(p[i], p[UniformBelow(RandomAt(stream, draw++), i)]);
  for (size_t j = 0; j < n; ++j) {
    bool ok = n > 1 && !same(j, p[j]);
    for (int attempt = 0; !ok && n > 1 && attempt < 32; ++attempt) {
      const size_t k = UniformBelow(RandomAt(stream, draw++), n);
      if (k == j) continue;
      std::swap(p[j], p[k]);
      if (p[j] != j && p[k] != k && !same(j, p[j]) && !same(k, p[k])) {
        ok = true;
      } else {
        std::swap(p[j], p[k]);
      }
    }
    valid[j] = ok ? 1 : 0;
  }
  // A later swap may have broken an earlier pair's validity: check again. And the inverse.
  for (size_t j = 0; j < n; ++j) {
    if (valid[j] && (p[j] == j || same(j, p[j]))) valid[j] = 0;
    inverse[p[j]] = static_cast<uint32_t>(j);
  }
}

IpAddress UniformRandomIp(bool v6, uint64_t random_bits) {
  if (!v6) return IpAddress::FromV4(static_cast<uint32_t>(random_bits >> 32));
  // A global unicast address (2000::/3): a random IPv6 address anywhere else is not routed.
  return IpAddress::FromHalves((random_bits >> 3) | (uint64_t{1} << 61), Mix64(random_bits));
}

// Splits sorted, distinct subnets into networks: networks[i] = subnet >> shift, and
// first[i] the index of its first subnet (first has one more entry, the end).
template <typename Network, typename Subnet>
void GroupByNetwork(const std::vector<Subnet>& subnets, int shift, std::vector<Network>* networks,
                    std::vector<uint32_t>* first) {
  for (size_t i = 0; i < subnets.size(); ++i) {
    const Network network = static_cast<Network>(subnets[i] >> shift);
    if (networks->empty() || networks->back() != network) {
      networks->push_back(network);
      first->push_back(static_cast<uint32_t>(i));
    }
  }
  first->push_back(static_cast<uint32_t>(subnets.size()));
}

NegativeSampler::NegativeSampler(const std::vector<TrainingRow>& rows) {
  for (const TrainingRow& row : rows) {
    if (row.ip.is_v4()) {
      v4_slash24_.push_back(row.ip.v4() >> 8);
    } else {
      v6_slash48_.push_back(row.ip.high64() >> 16);
    }
  }
  SortUnique(&v4_slash24_);
  SortUnique(&v6_slash48_);
  GroupByNetwork(v4_slash24_, 8, &v4_slash16_, &v4_first_);
  GroupByNetwork(v6_slash48_, 16, &v6_slash32_, &v6_first_);
}

IpAddress NegativeSampler::Draw(const IpAddress& observed, int64_t k, uint64_t random_bits) const {
  const bool v6 = !observed.is_v4();
  const bool from_networks = k % 2 == 0 && (v6 ? !v6_slash32_.empty() : !v4_slash16_.empty());
  if (!from_networks) return UniformRandomIp(v6, random_bits);
  const uint64_t host = Mix64(random_bits ^ 0x484f5354ULL);  // "HOST"
  const uint64_t subnet_bits = Mix64(host);
  const bool in_seen_subnet = (subnet_bits >> 63) != 0;
  if (!v6) {
    const size_t i = UniformBelow(random_bits, v4_slash16_.size());
    if (in_seen_subnet) {
      const size_t j =
          v4_first_[i] + UniformBelow(subnet_bits << 1, v4_first_[i + 1] - v4_first_[i]);
      return IpAddress::FromV4((v4_slash24_[j] << 8) | static_cast<uint32_t>(host & 0xff));
    }
    return IpAddress::FromV4((uint32_t{v4_slash16_[i]} << 16) |
                             static_cast<uint32_t>(host & 0xffff));
  }
  const size_t i = UniformBelow(random_bits, v6_slash32_.size());
  if (in_seen_subnet) {
    const size_t j = v6_first_[i] + UniformBelow(subnet_bits << 1, v6_first_[i + 1] - v6_first_[i]);
    return IpAddress::FromHalves((v6_slash48_[j] << 16) | (host >> 48), Mix64(host ^ 1));
  }
  return IpAddress::FromHalves((uint64_t{v6_slash32_[i]} << 32) | (host >> 32), Mix64(host));
}

}  // namespace ipinsights
