// Fuzzes IpAddress::Parse / ParseV4 / ParseV6 (every address in logs, CSVs and requests).
// Invariants: Parse accepts exactly what ParseV4 or ParseV6 accepts, with the same value;
// Format writes at most kMaxTextLength chars that re-parse to the same address; ToString
// agrees with Format; is_v4 matches the v4-mapped prefix and FromV4(v4()) round trips.
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz/fuzz_util.h"
#include "ipinsights/base/error.h"
#include "ipinsights/pairs/ip_address.h"

using ipinsights::IpAddress;

namespace {

void CheckRoundTrip(const IpAddress& ip) {
  char text[IpAddress::kMaxTextLength + 8];
  size_t n = ip.Format(text);
  FUZZ_CHECK(n > 0 && n <= IpAddress::kMaxTextLength, "Format length");
  std::string_view formatted(text, n);
  FUZZ_CHECK(ip.ToString() == formatted, "ToString == Format");
  std::optional<IpAddress> again = IpAddress::Parse(formatted);
  FUZZ_CHECK(again.has_value(), "Format output re-parses");
  FUZZ_CHECK(*again == ip, "Format/Parse round trip gives the same address");
  FUZZ_CHECK(again->is_v4() == ip.is_v4(), "family kept");
  if (ip.is_v4()) FUZZ_CHECK(IpAddress::FromV4(ip.v4()) == ip, "FromV4(v4()) round trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = ipinsights::fuzz::AsText(data, size);
  try {
    std::optional<IpAddress> any = IpAddress::Parse(text);
    std::optional<IpAddress> v4 = IpAddress::ParseV4(text);
    std::optional<IpAddress> v6 = IpAddress::ParseV6(text);
    FUZZ_CHECK(any.has_value() == (v4.has_value() || v6.has_value()),
               "Parse == ParseV4 || ParseV6");
    if (v4) {
      FUZZ_CHECK(v4->is_v4(), "ParseV4 gives a v4 address");
      FUZZ_CHECK(any && *any == *v4, "Parse agrees with ParseV4");
      CheckRoundTrip(*v4);
    }
    if (v6) {
      FUZZ_CHECK(!v4, "no text is both a dotted quad and IPv6");
      FUZZ_CHECK(any && *any == *v6, "Parse agrees with ParseV6");
      CheckRoundTrip(*v6);
    }
    // Every 16-byte value formats to text that parses back to itself (IPv4-mapped ones
    // included), not just the addresses the parser produced.
    if (size >= 16) {
      std::array<uint8_t, 16> bytes;
      std::memcpy(bytes.data(), data, 16);
      CheckRoundTrip(IpAddress::FromBytes(bytes));
    }
  } catch (const ipinsights::Error&) {
    // A clean rejection (the parser returns nullopt, so this is not expected either way).
  }
  return 0;
}
