// Why a log record (or file) yielded no (entity, IP) pair. Every record read either
// becomes a pair or is counted under exactly one reason: nothing is dropped silently.
//
//   aws_service   CloudTrail userIdentity.type is AWSService (an AWS service acting)
//   not_an_ip     the IP field is missing or not exactly one address: service host names,
//                 "AWS Internal", masked ("30.*.0.210") or comma-separated values, dotted
//                 quads with leading zeros
//   ipv6          an IPv6 address while --ipv4-only is set
//   no_entity     the chosen entity field is missing or empty
//   malformed     a record, or the rest of a file, that is not valid JSON (or a non-object
//                 record, or a corrupt / truncated gzip stream); counted once per problem,
//                 with the file and byte offset reported
//   out_of_range  the record's own event time is outside --from/--to
//   digest        a CloudTrail digest file (key contains "CloudTrail-Digest", or a file
//                 whose record is a digest); counted per file
//
// Thread-safety: SkipCounts is a plain value; merge per-worker counts under a lock.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace ipinsights {

enum class SkipReason : uint8_t {
  kAwsService,
  kNotAnIp,
  kIpv6,
  kNoEntity,
  kMalformed,
  kOutOfRange,
  kDigest,
};
inline constexpr size_t kNumSkipReasons = 7;

// The summary name ("aws_service", "not_an_ip", ...).
std::string_view SkipReasonName(SkipReason reason);

struct SkipCounts {
  std::array<uint64_t, kNumSkipReasons> counts{};

  void Add(SkipReason reason, uint64_t n = 1) { counts[static_cast<size_t>(reason)] += n; }
  uint64_t operator[](SkipReason reason) const { return counts[static_cast<size_t>(reason)]; }
  void Merge(const SkipCounts& other) {
    for (size_t i = 0; i < kNumSkipReasons; ++i) counts[i] += other.counts[i];
  }
  uint64_t Total() const {
    uint64_t total = 0;
    for (uint64_t c : counts) total += c;
    return total;
  }
};

}  // namespace ipinsights
