// AwsIpRanges: AWS's published ip-ranges.json (docs/formats/network-info.md), parsed once into
// two sorted tables (IPv4, IPv6) of disjoint address intervals, each holding the most specific
// prefix that covers it, so a lookup is one binary search. Internal to detect/: NetworkInfoSource
// uses it, and the aws_ip_ranges fuzzer checks it against a linear scan.
//
// Thread-safety: immutable after Parse/Load; Find is safe from any number of threads.
//
//   AwsIpRanges ranges = AwsIpRanges::Load("ip-ranges.json");
//   if (const AwsRange* range = ranges.Find(*IpAddress::Parse("52.94.76.10")))
//     ... range->prefix ("52.94.76.0/22"), range->service, range->region ...
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {

// One distinct prefix of the file; entries listing the same prefix (AWS lists every range
// under "AMAZON" and again under its service) are merged into one.
struct AwsRange {
  IpAddress network;   // the prefix's first address (IPv4 ranges are IPv4-mapped)
  int length = 0;      // prefix length: 0..32 for IPv4, 0..128 for IPv6
  std::string prefix;  // canonical text: "52.94.76.0/22", "2600:1f14::/35"
  // The service named for this prefix other than "AMAZON"; when only "AMAZON" names it, the
  // service of the most specific enclosing prefix that has one; else "AMAZON".
  std::string service;
  std::string region;  // the region of the entry the service came from ("us-west-2", "GLOBAL")
};

class AwsIpRanges {
 public:
  AwsIpRanges() = default;  // no ranges: Find always returns nullptr

  // Parses the text of an ip-ranges.json. `location` names the file in errors. Throws Error:
  // "ip-ranges.json: byte 1234: malformed JSON (...)", or for a bad entry
  // "ip-ranges.json: byte 567: prefixes[12]: ip_prefix \"10.0.0.1/8\" has host bits set".
  static AwsIpRanges Parse(const std::string& location, std::string_view text);
  // Reads `location` (local path or s3://) through storage/storage.h, then Parse.
  static AwsIpRanges Load(const std::string& location);

  // The most specific prefix holding `ip`, or nullptr when no prefix does.
  const AwsRange* Find(const IpAddress& ip) const;

  // Every distinct prefix, IPv4 first, each family sorted by (network, length).
  const std::vector<AwsRange>& ranges() const { return ranges_; }
  // "ip-ranges.json 2024-03-01-18-13-08": the file's name and its createDate.
  const std::string& description() const { return description_; }

 private:
  std::vector<AwsRange> ranges_;
  // Interval tables: interval i starts at starts[i] and ends where interval i+1 starts;
  // covering[i] is the index in ranges_ of its most specific prefix, -1 for none.
  std::vector<uint32_t> v4_starts_;
  std::vector<int32_t> v4_covering_;
  std::vector<unsigned __int128> v6_starts_;
  std::vector<int32_t> v6_covering_;
  std::string description_;
};

}  // namespace ipinsights
