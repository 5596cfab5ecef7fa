// MmdbReader: one MaxMind DB file (GeoLite2-ASN, GeoLite2-Country/City, or any MMDB with the
// same keys), memory-mapped by libmaxminddb, and the few keys NetworkInfoSource reads from it:
// autonomous_system_number, autonomous_system_organization, country.iso_code (else
// registered_country.iso_code). Internal to detect/; libmaxminddb's types stay in the .cc.
//
// Thread-safety: immutable after Open; Lookup is safe from any number of threads.
//
//   std::unique_ptr<MmdbReader> db = MmdbReader::Open("GeoLite2-ASN.mmdb");
//   NetworkInfo info;
//   if (!db->Lookup(ip, /*want_asn=*/true, /*want_country=*/false, &info)) ... corrupt ...
#pragma once

#include <memory>
#include <string>

#include "ipinsights/detect/network_info.h"
#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {

class MmdbReader {
 public:
  // Opens `location`: a local path, or s3:// (downloaded to a temp file, mapped, unlinked).
  // Throws Error naming the location and libmaxminddb's reason.
  static std::unique_ptr<MmdbReader> Open(const std::string& location);
  ~MmdbReader();

  // Whether any record of the database holds the AS keys / a country iso_code.
  bool has_asn() const { return has_asn_; }
  bool has_country() const { return has_country_; }
  // "GeoLite2-ASN 2024-03-01": the metadata's database_type and build date (UTC).
  const std::string& description() const { return description_; }

  // Fills out->asn and out->as_org (want_asn) and out->country (want_country) for `ip`; what
  // the database does not hold stays as it was. An IPv6 address in an IPv4-only database is
  // not in it. Returns false, leaving `out` partly filled, when the database is corrupt where
  // the lookup went.
  bool Lookup(const IpAddress& ip, bool want_asn, bool want_country, NetworkInfo* out) const;

 private:
  struct Db;
  MmdbReader();
  std::unique_ptr<Db> db_;
  bool has_asn_ = false;
  bool has_country_ = false;
  std::string description_;
};

}  // namespace ipinsights
