// Listing the AWS log layouts by day without listing the whole bucket.
//
// With a --from/--to range, ListByDays walks the folders under a prefix with delimiter
// listings (that is how it discovers accounts, organisation ids and regions) until it
// meets a level of year folders ("2024/"): the CloudTrail layout
// "AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/" and the Firehose layout
// "<prefix>YYYY/MM/DD/HH/". There it lists only the day prefixes in the range (whole
// months or years when the range is long), never what lies outside it.
// "CloudTrail-Digest/" folders (integrity digests, not logs) are skipped. Objects whose key
// has no date are kept, as ListOptions promises.
//
// The listing itself is a callback, so the walk is tested without a server.
//
// Thread-safety: ListByDays calls `list` from several threads at once.
//
//   auto objects = ListByDays("AWSLogs/", options, [&](const std::string& prefix, bool delimited) {
//     return client.ListAll(bucket, prefix, delimited ? "/" : "");
//   });
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/storage/s3_client.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {

// Lists everything under `prefix` (all pages); with `delimited`, one level only ("/").
using S3PrefixLister = std::function<S3ListPage(const std::string& prefix, bool delimited)>;

struct DayListing {
  std::vector<S3Object> objects;  // sorted by key
  bool prefix_empty = true;       // nothing at all under the prefix
};

// `prefix` is "" or ends with '/'. At least one of options.from / options.to is set.
DayListing ListByDays(const std::string& prefix, const ListOptions& options,
                      const S3PrefixLister& list, size_t threads = 8);

// The prefixes ListByDays lists under a folder of year folders (`root` ends with '/'),
// given the years present there: "root/2024/05/01/" per day for short ranges, else
// "root/2024/05/" per month, or "root/2024/" for a year inside the range.
std::vector<std::string> DatePrefixes(const std::string& root, const std::vector<int>& years,
                                      const ListOptions& options);

// Whether the key lies in a "CloudTrail-Digest/" folder.
bool IsCloudTrailDigestKey(std::string_view key);

}  // namespace ipinsights
