// Which objects at a location are logs to read: the AWS key layouts, the days in a key and
// CloudTrail's digest files. Storage only lists what it is asked to (storage/storage.h,
// Storage::ListUnder); everything a key means is decided here, the same way for local
// folders and s3:// prefixes, so a bucket and a local copy of it give the same listing.
//
// Without a day range, ListLogObjects is Storage::List: every object at the location,
// digest files included (LogFileReader counts them as skip reason `digest`).
// With a --from/--to range it never lists a whole bucket: ListByDays walks the folders with
// one-level listings, the folders of a level in parallel (that is how it discovers accounts,
// organisation ids and regions: 2 + regions x (1 + days) requests per account) until
// it meets a level of year folders ("2024/"): the CloudTrail layout
// "AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/" and the Firehose layout
// "<prefix>YYYY/MM/DD/HH/". There it lists only the day prefixes in the range (whole months or
// years when the range is long), never what lies outside it. "CloudTrail-Digest/" folders
// (integrity digests, not logs) are not walked. Objects met on the way whose key has no date
// are kept; a location that names one object is that object, whatever its date.
//
// Thread-safety: pure functions; ListByDays calls `list` from several threads at once.
//
//   std::vector<ObjectInfo> objects =
//       ListLogObjects(OpenStorage(input), input, {ParseDate("2024-05-01"), std::nullopt});
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {

// Days to read, inclusive; either end may be open.
struct DayRange {
  std::optional<Date> from;
  std::optional<Date> to;
  bool bounded() const { return from || to; }
};

// True for the keys of CloudTrail digest files (the key contains "CloudTrail-Digest": their
// folder "CloudTrail-Digest/" and their file names "..._CloudTrail-Digest_...").
bool IsDigestKey(std::string_view location);

// The date a key names in an AWS layout ("/YYYY/MM/DD/"; the last one wins), if any:
// CloudTrail "AWSLogs/<acct>/CloudTrail/<region>/2024/05/01/..." and Firehose
// "<prefix>2024/05/01/13/...".
std::optional<Date> DateInKey(std::string_view key);

// The account a CloudTrail key names: the 12-digit folder before "/CloudTrail/" in
// "AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/..."; "" when the key has none (a file
// outside that layout, a digest file).
std::string_view CloudTrailAccountInKey(std::string_view key);

// Every log object at `location` (file, folder, s3:// prefix or "-"), sorted by location;
// with a bounded range only those of its days, listed as described above. Throws Error when
// the location does not exist (the storage's message).
std::vector<ObjectInfo> ListLogObjects(Storage& storage, const std::string& location,
                                       const DayRange& days, size_t threads = 8);

// One listing call of the walk: Storage::ListUnder or a test's fake.
using FolderLister = std::function<Listing(const std::string& location, ListDepth depth)>;

struct DayListing {
  std::vector<ObjectInfo> objects;  // sorted by location
  bool location_empty = true;       // nothing at all at the location
};

// The walk behind ListLogObjects for a bounded range.
DayListing ListByDays(const std::string& location, const DayRange& days, const FolderLister& list,
                      size_t threads = 8);

// The prefixes ListByDays lists under a folder of year folders (`root` ends with '/'),
// given the years present there: "root/2024/05/01/" per day for short ranges, else
// "root/2024/05/" per month, or "root/2024/" for a year inside the range.
std::vector<std::string> DatePrefixes(const std::string& root, const std::vector<int>& years,
                                      const DayRange& days);

}  // namespace ipinsights
