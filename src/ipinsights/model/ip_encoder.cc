#include "ipinsights/model/ip_encoder.h"

#include "ipinsights/base/hash.h"

namespace ipinsights {
namespace {

// One prefix -> one row. `tag` separates families and prefix lengths so that, say, the
// IPv4 /16 "10.1" and the IPv4 /24 "0.10.1" do not share a row by construction.
inline uint32_t Bucket(uint64_t tag, uint64_t prefix, uint64_t hash_seed, uint64_t buckets) {
  const uint64_t h = Mix64(Mix64(hash_seed ^ Mix64(tag)) ^ prefix);
  return static_cast<uint32_t>(h % buckets);
}

}  // namespace

int IpPrefixRows(const IpAddress& ip, uint64_t hash_seed, uint64_t buckets, uint32_t* rows) {
  const bool direct = buckets >= kMinBucketsForDirectRows;
  const uint64_t hashed_base = direct ? kDirectRows : 0;
  const uint64_t hashed = buckets - hashed_base;
  auto bucket = [&](uint64_t tag, uint64_t prefix) {
    return static_cast<uint32_t>(hashed_base + Bucket(tag, prefix, hash_seed, hashed));
  };
  if (ip.is_v4()) {
    const uint64_t v4 = ip.v4();
    if (direct) {
      // The /8 and /16 networks get rows of their own: the /16 is where most of the
      // signal is (an entity's ISP, office, carrier), so it must not share a bucket.
      rows[0] = static_cast<uint32_t>(v4 >> 24);
      rows[1] = static_cast<uint32_t>(256 + (v4 >> 16));
    } else {
      rows[0] = bucket(4 * 256 + 8, v4 >> 24);
      rows[1] = bucket(4 * 256 + 16, v4 >> 16);
    }
    rows[2] = bucket(4 * 256 + 24, v4 >> 8);
    return 3;
  }
  const uint64_t high = ip.high64();
  rows[0] = bucket(6 * 256 + 16, high >> 48);
  rows[1] = bucket(6 * 256 + 32, high >> 32);
  rows[2] = bucket(6 * 256 + 48, high >> 16);
  rows[3] = bucket(6 * 256 + 64, high);
  return 4;
}

}  // namespace ipinsights
