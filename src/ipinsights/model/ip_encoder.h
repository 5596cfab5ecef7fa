// IpPrefixRows: which rows of the prefix table an address reads (the first stage of the
// IP encoder; see docs/formats/model-file.md and shared/spec/ALGORITHM.md).
//
// An address is represented by the sum of the embeddings of its network prefixes: IPv4
// /8, /16, /24; IPv6 /16, /32, /48, /64. In tables of at least kMinBucketsForDirectRows
// rows the IPv4 /8 and /16 have rows of their own; every other (family, prefix length,
// prefix bits) is hashed with the model's seed into the remaining rows. Addresses in the
// same network share rows, so a new address in a known network scores like its
// neighbours; a random address does not.
//
// Why no /32 (/128) row, unlike ALGORITHM.md's proposal: measured on the tutorial-like
// benchmark (bench/train_bench.sh), a host-level row made held-out logins from new
// addresses inside known networks look anomalous (its hash bucket is shared with other
// addresses' trained rows): test AUC 0.9937 and recall 0.974 at 3% FPR with it, 0.9941 and
// 0.986 without it, and training is faster. Addresses of one /24 (IPv6 /64) therefore
// share an embedding. (The trainer also drops the /24 (IPv6 /48, /64) row from 7/8 of its
// samples, prefix dropout, for the same reason; see kFinePrefixKeepEighths in train/trainer.cc.)
//
// The function is part of the model file format (its name is in the header, kIpEncoderName
// in model_file.cc): never change what it returns without changing that name.
//
// Thread-safety: a pure function.
//
//   uint32_t rows[kMaxIpPrefixes];
//   int n = IpPrefixRows(ip, hash_seed, buckets, rows);
#pragma once

#include <cstdint>

#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {

inline constexpr int kMaxIpPrefixes = 4;

// With at least this many rows, the IPv4 /8 and /16 prefixes get direct rows (0..255 and
// 256..65791) and the other prefixes hash into the rows after them; smaller tables hash
// every prefix into all rows.
inline constexpr uint64_t kDirectRows = 256 + 65536;
inline constexpr uint64_t kMinBucketsForDirectRows = 2 * kDirectRows;

// Fills rows[0..n) and returns n (3 for IPv4, 4 for IPv6). buckets <= 2^32.
int IpPrefixRows(const IpAddress& ip, uint64_t hash_seed, uint64_t buckets, uint32_t* rows);

}  // namespace ipinsights
