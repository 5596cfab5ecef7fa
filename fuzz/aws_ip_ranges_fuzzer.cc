// Fuzzes the ip-ranges.json parser (detect/aws_ip_ranges.h): the file comes from the user or
// from S3, so any bytes are possible. Invariants: Parse either throws Error naming the file
// and a byte offset inside the text, or gives ranges whose every prefix is canonical and has
// no host bits; Find agrees with a linear longest-prefix scan at each range's first and last
// address and just outside it; a range's service is never empty.
#include <cstdint>
#include <string>

#include "fuzz/fuzz_util.h"
#include "ipinsights/base/error.h"
#include "ipinsights/detect/aws_ip_ranges.h"

using namespace ipinsights;

namespace {

using u128 = unsigned __int128;

u128 Key(const IpAddress& ip) { return (u128{ip.high64()} << 64) | ip.low64(); }

// The range's addresses as [first, last] in the 128-bit mapped space.
void Bounds(const AwsRange& range, u128* first, u128* last) {
  int bits = range.network.is_v4() ? 96 + range.length : range.length;
  *first = Key(range.network);
  *last = bits == 128 ? *first : *first | (~u128{0} >> bits);
}

IpAddress FromKey(u128 key) {
  return IpAddress::FromHalves(static_cast<uint64_t>(key >> 64), static_cast<uint64_t>(key));
}

const AwsRange* LinearFind(const AwsIpRanges& ranges, const IpAddress& ip) {
  const AwsRange* best = nullptr;
  u128 key = Key(ip);
  for (const AwsRange& range : ranges.ranges()) {
    if (range.network.is_v4() != ip.is_v4()) continue;
    u128 first, last;
    Bounds(range, &first, &last);
    if (key >= first && key <= last && (best == nullptr || range.length > best->length))
      best = &range;
  }
  return best;
}

void CheckAt(const AwsIpRanges& ranges, const IpAddress& ip) {
  FUZZ_CHECK(ranges.Find(ip) == LinearFind(ranges, ip), "Find == linear longest-prefix scan");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::AsText(data, size);
  const std::string location = "fuzz/ip-ranges.json";
  try {
    AwsIpRanges ranges = AwsIpRanges::Parse(location, text);
    if (ranges.ranges().size() > 2000) return 0;  // the linear scan is quadratic
    for (const AwsRange& range : ranges.ranges()) {
      FUZZ_CHECK(!range.service.empty(), "every range has a service");
      FUZZ_CHECK(range.prefix == range.network.ToString() + "/" + std::to_string(range.length),
                 "prefix text is canonical");
      u128 first, last;
      Bounds(range, &first, &last);
      CheckAt(ranges, FromKey(first));
      CheckAt(ranges, FromKey(last));
      CheckAt(ranges, FromKey(first - 1));
      CheckAt(ranges, FromKey(last + 1));
    }
  } catch (const Error& error) {
    std::string message = error.what();
    const std::string expected = location + ": byte ";
    FUZZ_CHECK(message.compare(0, expected.size(), expected) == 0, "error names file and byte");
    size_t offset = std::strtoull(message.c_str() + expected.size(), nullptr, 10);
    FUZZ_CHECK(offset <= size, "error offset inside the text");
  }
  return 0;
}
