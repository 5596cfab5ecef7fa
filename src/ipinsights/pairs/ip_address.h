// IpAddress: one compact value type for IPv4 and IPv6 addresses, and a strict parser.
//
// An address is 16 bytes in network order. IPv4 addresses are stored IPv4-mapped
// (::ffff:a.b.c.d), so "1.2.3.4" and "::ffff:1.2.3.4" are the same address and both
// print as "1.2.3.4". Every later component (datasets, the model's IP encoder, scoring,
// serving) uses this type.
//
// The parser accepts exactly:
//   - IPv4 dotted quad: four decimal octets 0..255, no leading zeros ("010" is rejected:
//     many stacks read it as octal), no hex, no fewer parts, nothing before or after;
//   - IPv6 in every RFC 4291 / RFC 5952 textual form: full, "::"-compressed, upper or
//     lower case hex, and with a trailing dotted quad ("::ffff:1.2.3.4", "64:ff9b::1.2.3.4").
// Everything else is not an address: zone ids ("fe80::1%eth0"), masks ("10.0.0.0/8"),
// brackets, ports, lists ("1.2.3.4, 5.6.7.8"), host names, whitespace.
//
// Thread-safety: a plain value type.
//
//   std::optional<IpAddress> ip = IpAddress::Parse("2001:db8::1");
//   if (ip && ip->is_v4()) uint32_t v4 = ip->v4();
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace ipinsights {

class IpAddress {
 public:
  // The longest text Format() writes ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" is
  // never produced; 39 chars is the IPv6 maximum).
  static constexpr size_t kMaxTextLength = 45;

  IpAddress() { bytes_.fill(0); }  // "::"

  static IpAddress FromV4(uint32_t host_order);
  static IpAddress FromBytes(const std::array<uint8_t, 16>& bytes);
  // From the high and low 64 bits in host order (the inverse of high64/low64).
  static IpAddress FromHalves(uint64_t high, uint64_t low);

  // Strict parse (see above). nullopt when `text` is not exactly one address.
  static std::optional<IpAddress> Parse(std::string_view text);
  static std::optional<IpAddress> ParseV4(std::string_view text);
  static std::optional<IpAddress> ParseV6(std::string_view text);

  // True for IPv4 (stored IPv4-mapped).
  bool is_v4() const {
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(bytes_.data(), kMapped, 12) == 0;
  }
  // The IPv4 address in host byte order; only meaningful when is_v4().
  uint32_t v4() const {
    return (uint32_t{bytes_[12]} << 24) | (uint32_t{bytes_[13]} << 16) |
           (uint32_t{bytes_[14]} << 8) | uint32_t{bytes_[15]};
  }
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  // The high and low 64 bits in host order (handy for hashing prefixes).
  uint64_t high64() const;
  uint64_t low64() const;

  // Canonical text: dotted quad for IPv4, RFC 5952 for IPv6. Writes at most
  // kMaxTextLength chars to `out` (no terminator) and returns the count.
  size_t Format(char* out) const;
  std::string ToString() const;

  friend bool operator==(const IpAddress& a, const IpAddress& b) { return a.bytes_ == b.bytes_; }
  friend bool operator!=(const IpAddress& a, const IpAddress& b) { return !(a == b); }
  friend bool operator<(const IpAddress& a, const IpAddress& b) { return a.bytes_ < b.bytes_; }

 private:
  std::array<uint8_t, 16> bytes_;
};

}  // namespace ipinsights
