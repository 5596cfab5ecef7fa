// Appending the pieces of simulated JSON records to a buffer, fast: escaped strings,
// UUIDs, hex and base-36 identifiers, ISO timestamps, IP addresses.
//
// Thread-safety: free functions on caller-owned buffers.
//
//   std::string out;
//   AppendUuid(out, rng);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ipinsights/base/json_text.h"  // AppendJsonString
#include "ipinsights/pairs/ip_address.h"
#include "ipinsights/simulate/random.h"

namespace ipinsights::simulate {

// A random version-4 UUID, lower case: 8-4-4-4-12.
void AppendUuid(std::string& out, Rng& rng);
// `count` random characters from `alphabet`.
void AppendRandomChars(std::string& out, Rng& rng, size_t count, std::string_view alphabet);
// Unsigned decimal.
void AppendUnsigned(std::string& out, uint64_t value);
// Zero-padded decimal of `width` digits.
void AppendPadded(std::string& out, uint64_t value, int width);
// "2024-05-01T12:00:00Z" (with ".123" before the Z when with_millis).
void AppendIsoTime(std::string& out, int64_t unix_millis, bool with_millis);
// Canonical address text (no quotes).
void AppendIp(std::string& out, const IpAddress& ip);

inline constexpr std::string_view kUpperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
inline constexpr std::string_view kHexLower = "0123456789abcdef";
inline constexpr std::string_view kHexUpper = "0123456789ABCDEF";

}  // namespace ipinsights::simulate
