#include "ipinsights/detect/network_info.h"

#include <atomic>
#include <optional>
#include <utility>

#include "ipinsights/base/error.h"
#include "ipinsights/detect/aws_ip_ranges.h"
#include "ipinsights/detect/mmdb_reader.h"

namespace ipinsights {

struct NetworkInfoSource::Impl {
  std::unique_ptr<MmdbReader> asn_db;
  std::unique_ptr<MmdbReader> country_db;
  // Where each answer comes from: the first database holding it (asn_db, then country_db
  // for the AS keys; country_db, then asn_db for the country). Null: not known.
  const MmdbReader* asn_source = nullptr;
  const MmdbReader* country_source = nullptr;
  std::optional<AwsIpRanges> aws;
  mutable std::atomic<uint64_t> lookup_errors{0};
};

NetworkInfoSource::NetworkInfoSource() : impl_(std::make_unique<Impl>()) {}
NetworkInfoSource::~NetworkInfoSource() = default;
NetworkInfoSource::NetworkInfoSource(NetworkInfoSource&&) noexcept = default;
NetworkInfoSource& NetworkInfoSource::operator=(NetworkInfoSource&&) noexcept = default;

NetworkInfoSource NetworkInfoSource::Open(const NetworkInfoFiles& files) {
  NetworkInfoSource source;
  Impl& impl = *source.impl_;
  if (!files.asn_db.empty()) {
    impl.asn_db = MmdbReader::Open(files.asn_db);
    // A database with neither kind of key (an anonymous-IP or a domain database) would
    // answer nothing, silently: most likely the wrong file.
    if (!impl.asn_db->has_asn() && !impl.asn_db->has_country())
      throw Error(files.asn_db +
                  ": no record has autonomous_system_number, autonomous_system_organization "
                  "or a country iso_code (" +
                  impl.asn_db->description() + ")");
  }
  if (!files.country_db.empty()) {
    impl.country_db = MmdbReader::Open(files.country_db);
    if (!impl.country_db->has_country())
      throw Error(files.country_db + ": no record has a country iso_code (" +
                  impl.country_db->description() + ")");
  }
  for (const MmdbReader* db : {impl.asn_db.get(), impl.country_db.get()}) {
    if (db != nullptr && db->has_asn() && impl.asn_source == nullptr) impl.asn_source = db;
  }
  for (const MmdbReader* db : {impl.country_db.get(), impl.asn_db.get()}) {
    if (db != nullptr && db->has_country() && impl.country_source == nullptr)
      impl.country_source = db;
  }
  if (!files.aws_ip_ranges.empty()) impl.aws = AwsIpRanges::Load(files.aws_ip_ranges);
  return source;
}

bool NetworkInfoSource::has_asn() const { return impl_ && impl_->asn_source != nullptr; }
bool NetworkInfoSource::has_country() const { return impl_ && impl_->country_source != nullptr; }
bool NetworkInfoSource::has_aws_ranges() const { return impl_ && impl_->aws.has_value(); }

NetworkInfo NetworkInfoSource::Lookup(const IpAddress& ip) const {
  NetworkInfo info;
  if (!impl_) return info;
  const MmdbReader* asn = impl_->asn_source;
  const MmdbReader* country = impl_->country_source;
  bool ok = true;
  if (asn != nullptr) ok = asn->Lookup(ip, true, country == asn, &info);
  if (ok && country != nullptr && country != asn) ok = country->Lookup(ip, false, true, &info);
  if (!ok) {
    info = NetworkInfo();
    impl_->lookup_errors.fetch_add(1, std::memory_order_relaxed);
  }
  if (impl_->aws) {
    if (const AwsRange* range = impl_->aws->Find(ip)) {
      info.in_aws = true;
      info.aws_prefix = range->prefix;
      info.aws_service = range->service;
      info.aws_region = range->region;
    }
  }
  return info;
}

uint64_t NetworkInfoSource::lookup_errors() const {
  return impl_ ? impl_->lookup_errors.load(std::memory_order_relaxed) : 0;
}

std::string NetworkInfoSource::Description() const {
  std::string text;
  auto add = [&](const std::string& part) {
    if (!text.empty()) text += ", ";
    text += part;
  };
  if (impl_) {
    if (impl_->asn_db) add(impl_->asn_db->description());
    if (impl_->country_db) add(impl_->country_db->description());
    if (impl_->aws) add(impl_->aws->description());
  }
  return text;
}

}  // namespace ipinsights
