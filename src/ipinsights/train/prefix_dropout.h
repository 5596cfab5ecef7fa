// Prefix dropout (ours, see trainer.h): in each training sample, the prefixes of an address
// finer than its network are mostly left out of the IP encoder's sum, so the coarser
// network rows must carry the score on their own and a new subnet of a known network is
// not mistaken for a random address.
//
// Thread-safety: constants and a pure function.
//
//   batch.prefix_kept[i] = KeptPrefixes(prefix_count, RandomAt(seed, i));
#pragma once

#include <cstdint>

namespace ipinsights {

// A prefix finer than the network (IPv4 /24, IPv6
// /48 and /64) is kept in a training sample's sum with probability kFinePrefixKeepEighths/8.
// Those rows are trained by few samples each, and a visitor's or attacker's address in a
// network usually lands on a row that someone else's home trained: noise, where the score
// should rest on the network. Measured (bench/train_bench.sh data, test AUC / recall at 3%
// FPR, oracle 0.9969 / 0.9998), before NegativeSampler drew negatives inside seen subnets:
// keep all 0.9908 / 0.989 (an earlier model), 4/8 0.9931 / 0.9985, 2/8 0.9935 / 0.9991,
// 1/8 0.9936 / 0.9992, never 0.9937 / 0.9993; with them: 4/8 0.99366, 2/8 0.99373, 1/8
// 0.99374. Never would throw away what a real /24 says (a corporate /24 inside a
// provider's /16; the simulator's networks each own their /16, so it cannot show that),
// hence 2/8, the most kept at the best figure.
constexpr bool kPrefixDropout = true;
constexpr uint64_t kFinePrefixKeepEighths = 2;

// Bit k set: prefix k (of `count`, see IpPrefixRows) is in this sample's sum. The first two
// (the networks) always are; each finer one is kept when its byte of `coin` (random bits,
// byte k for prefix k) says so, with probability kFinePrefixKeepEighths / 8.
inline uint8_t KeptPrefixes(int count, uint64_t coin) {
  uint8_t kept = 0b11;
  for (int k = 2; k < count; ++k) {
    if (!kPrefixDropout || ((coin >> (8 * k)) & 7) < kFinePrefixKeepEighths) {
      kept |= uint8_t(1u << k);
    }
  }
  return kept;
}

}  // namespace ipinsights
