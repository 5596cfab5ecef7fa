#include "ipinsights/storage/s3_listing.h"

#include <algorithm>
#include <cstdio>
#include <mutex>

#include "ipinsights/base/parallel.h"

namespace ipinsights {
namespace {

// Ranges up to this many days are listed day by day; longer ones by month or year.
constexpr int64_t kMaxDayPrefixes = 62;

std::string TwoDigits(int value) {
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "%02d", value);
  return buffer;
}

// The folder name of a common prefix ("a/b/2024/" under "a/b/" -> "2024").
std::string_view FolderName(std::string_view common_prefix, std::string_view parent) {
  std::string_view name = common_prefix.substr(parent.size());
  if (!name.empty() && name.back() == '/') name.remove_suffix(1);
  return name;
}

bool IsYearFolder(std::string_view name) {
  if (name.size() != 4) return false;
  for (char c : name) {
    if (c < '0' || c > '9') return false;
  }
  int year = std::stoi(std::string(name));
  return year >= 1970 && year <= 2200;
}

bool InRange(const std::string& key, const ListOptions& options) {
  std::optional<Date> date = DateInKey(key);
  if (!date) return true;
  if (options.from && *date < *options.from) return false;
  if (options.to && *date > *options.to) return false;
  return true;
}

int DaysInMonth(int year, int month) {
  Date first{year, month, 1};
  Date next = month == 12 ? Date{year + 1, 1, 1} : Date{year, month + 1, 1};
  return static_cast<int>(DaysFromCivil(next) - DaysFromCivil(first));
}

}  // namespace

bool IsCloudTrailDigestKey(std::string_view key) {
  return key.rfind("CloudTrail-Digest/", 0) == 0 ||
         key.find("/CloudTrail-Digest/") != std::string_view::npos;
}

std::vector<std::string> DatePrefixes(const std::string& root, const std::vector<int>& years,
                                      const ListOptions& options) {
  std::vector<std::string> prefixes;
  if (years.empty()) return prefixes;
  const int first_year = *std::min_element(years.begin(), years.end());
  const int last_year = *std::max_element(years.begin(), years.end());
  const Date from = options.from.value_or(Date{first_year, 1, 1});
  const Date to = options.to.value_or(Date{last_year, 12, 31});
  if (from > to) return prefixes;
  auto year_present = [&](int year) {
    return std::find(years.begin(), years.end(), year) != years.end();
  };

  const int64_t first_day = DaysFromCivil(from);
  const int64_t last_day = DaysFromCivil(to);
  if (last_day - first_day + 1 <= kMaxDayPrefixes) {
    for (int64_t day = first_day; day <= last_day; ++day) {
      Date date = CivilFromDays(day);
      if (!year_present(date.year)) continue;
      prefixes.push_back(root + std::to_string(date.year) + "/" + TwoDigits(date.month) + "/" +
                         TwoDigits(date.day) + "/");
    }
    return prefixes;
  }
  for (int year = std::max(from.year, first_year); year <= std::min(to.year, last_year); ++year) {
    if (!year_present(year)) continue;
    if (Date{year, 1, 1} >= from && Date{year, 12, 31} <= to) {
      prefixes.push_back(root + std::to_string(year) + "/");
      continue;
    }
    for (int month = 1; month <= 12; ++month) {
      Date month_first{year, month, 1};
      Date month_last{year, month, DaysInMonth(year, month)};
      if (month_last < from || month_first > to) continue;
      prefixes.push_back(root + std::to_string(year) + "/" + TwoDigits(month) + "/");
    }
  }
  return prefixes;
}

DayListing ListByDays(const std::string& prefix, const ListOptions& options,
                      const S3PrefixLister& list, size_t threads) {
  DayListing result;
  std::vector<std::string> date_prefixes;

  // Depth-first over folders that are not dates; each is one delimiter listing.
  std::vector<std::string> pending{prefix};
  bool first = true;
  while (!pending.empty()) {
    std::string folder = std::move(pending.back());
    pending.pop_back();
    S3ListPage level = list(folder, true);
    if (first) {
      result.prefix_empty = level.objects.empty() && level.common_prefixes.empty();
      first = false;
    }
    for (S3Object& object : level.objects) {
      if (!IsCloudTrailDigestKey(object.key) && InRange(object.key, options)) {
        result.objects.push_back(std::move(object));
      }
    }
    std::vector<int> years;
    for (const std::string& common : level.common_prefixes) {
      std::string_view name = FolderName(common, folder);
      if (name == "CloudTrail-Digest") continue;
      if (IsYearFolder(name)) {
        years.push_back(std::stoi(std::string(name)));
      } else {
        pending.push_back(common);
      }
    }
    for (std::string& date_prefix : DatePrefixes(folder, years, options)) {
      date_prefixes.push_back(std::move(date_prefix));
    }
  }

  // The day (or month, year) prefixes are independent: list them in parallel.
  std::vector<std::vector<S3Object>> found(date_prefixes.size());
  ParallelFor(date_prefixes.size(), std::min(threads, std::max<size_t>(date_prefixes.size(), 1)),
              [&](size_t i, size_t) {
                for (S3Object& object : list(date_prefixes[i], false).objects) {
                  if (!IsCloudTrailDigestKey(object.key) && InRange(object.key, options)) {
                    found[i].push_back(std::move(object));
                  }
                }
              });
  for (auto& objects : found) {
    for (S3Object& object : objects) result.objects.push_back(std::move(object));
  }
  std::sort(result.objects.begin(), result.objects.end(),
            [](const S3Object& a, const S3Object& b) { return a.key < b.key; });
  return result;
}

}  // namespace ipinsights
