// NetworkInfo: who owns an address, from files the user supplies: an ASN/country database in
// MaxMind's MMDB format (GeoLite2-ASN, GeoLite2-Country/City, or any MMDB with the same
// keys; read with libmaxminddb) and AWS's published ip-ranges.json. `score --asn-db FILE
// --aws-ip-ranges FILE` loads them once; reasons then name the ASN, the country and whether
// the address is inside AWS (which service and region).
//
// Thread-safety: NetworkInfoSource is immutable after Open and its Lookup is safe from any
// number of threads.
//
//   NetworkInfoSource source = NetworkInfoSource::Open({.asn_db = "GeoLite2-ASN.mmdb",
//                                                       .aws_ip_ranges = "ip-ranges.json"});
//   NetworkInfo info = source.Lookup(*IpAddress::Parse("52.94.76.10"));
//   if (info.in_aws) ... info.aws_service, info.aws_region ...
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {

struct NetworkInfo {
  // From the MMDB (asn 0 / empty strings when unknown or no database).
  uint32_t asn = 0;     // autonomous_system_number
  std::string as_org;   // autonomous_system_organization
  std::string country;  // ISO 3166-1 alpha-2: country.iso_code (or registered_country)
  // From ip-ranges.json (the most specific prefix holding the address).
  bool in_aws = false;
  std::string aws_prefix;   // "52.94.76.0/22"
  std::string aws_service;  // the most specific service other than "AMAZON", else "AMAZON"
  std::string aws_region;   // "us-west-2", "GLOBAL"
};

struct NetworkInfoFiles {
  std::string asn_db;         // an .mmdb file (local path or s3://); "" = none
  std::string country_db;     // optional second .mmdb for countries when asn_db has none
  std::string aws_ip_ranges;  // ip-ranges.json (local or s3://); "" = none
};

class NetworkInfoSource {
 public:
  NetworkInfoSource();  // no files: every lookup is empty
  ~NetworkInfoSource();
  NetworkInfoSource(NetworkInfoSource&&) noexcept;
  NetworkInfoSource& operator=(NetworkInfoSource&&) noexcept;

  // Throws Error naming the file and the reason (not an MMDB, corrupt, not ip-ranges.json:
  // "ip-ranges.json: byte 1234: ...").
  static NetworkInfoSource Open(const NetworkInfoFiles& files);

  bool has_asn() const;
  bool has_country() const;
  bool has_aws_ranges() const;
  // A lookup failure inside the MMDB (a corrupt data section) yields an empty answer
  // and is counted in lookup_errors(), never thrown.
  NetworkInfo Lookup(const IpAddress& ip) const;
  uint64_t lookup_errors() const;
  // "GeoLite2-ASN 2024-03-01, ip-ranges.json 2024-03-01-18-13-08" (for summaries).
  std::string Description() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipinsights
