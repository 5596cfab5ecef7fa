#include "ipinsights/logs/log_listing.h"

#include <algorithm>
#include <cstdio>

#include "ipinsights/base/parallel.h"

namespace ipinsights {
namespace {

// Ranges up to this many days are listed day by day; longer ones by month or year.
constexpr int64_t kMaxDayPrefixes = 62;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool TwoDigitsAt(std::string_view s, size_t pos) {
  return pos + 2 <= s.size() && IsDigit(s[pos]) && IsDigit(s[pos + 1]);
}

std::string TwoDigits(int value) {
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "%02d", value);
  return buffer;
}

// The last name of a folder location ("s3://b/a/2024/" and "logs/a/2024" -> "2024").
std::string_view FolderName(std::string_view folder) {
  if (!folder.empty() && folder.back() == '/') folder.remove_suffix(1);
  size_t slash = folder.rfind('/');
  return slash == std::string_view::npos ? folder : folder.substr(slash + 1);
}

bool IsYearFolder(std::string_view name) {
  if (name.size() != 4 || !std::all_of(name.begin(), name.end(), IsDigit)) return false;
  int year = std::stoi(std::string(name));
  return year >= 1970 && year <= 2200;
}

bool InRange(const std::string& location, const DayRange& days) {
  std::optional<Date> date = DateInKey(location);
  if (!date) return true;
  if (days.from && *date < *days.from) return false;
  if (days.to && *date > *days.to) return false;
  return true;
}

int DaysInMonth(int year, int month) {
  Date first{year, month, 1};
  Date next = month == 12 ? Date{year + 1, 1, 1} : Date{year, month + 1, 1};
  return static_cast<int>(DaysFromCivil(next) - DaysFromCivil(first));
}

void SortByLocation(std::vector<ObjectInfo>* objects) {
  std::sort(objects->begin(), objects->end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.location < b.location; });
}

}  // namespace

bool IsDigestKey(std::string_view location) {
  return location.find("CloudTrail-Digest") != std::string_view::npos;
}

std::string_view CloudTrailAccountInKey(std::string_view key) {
  const size_t at = key.rfind("/CloudTrail/");
  if (at == std::string_view::npos || at < 12) return {};
  const std::string_view account = key.substr(at - 12, 12);
  if (at > 12 && key[at - 13] != '/') return {};
  for (char c : account) {
    if (c < '0' || c > '9') return {};
  }
  return account;
}

std::optional<Date> DateInKey(std::string_view key) {
  // Look for "YYYY/MM/DD/" (the last one wins: prefixes may themselves contain digits).
  std::optional<Date> found;
  for (size_t i = 0; i + 11 <= key.size(); ++i) {
    if (i > 0 && key[i - 1] != '/') continue;
    if (!(TwoDigitsAt(key, i) && TwoDigitsAt(key, i + 2) && key[i + 4] == '/' &&
          TwoDigitsAt(key, i + 5) && key[i + 7] == '/' && TwoDigitsAt(key, i + 8) &&
          key[i + 10] == '/')) {
      continue;
    }
    std::string text(key.substr(i, 10));
    text[4] = '-';
    text[7] = '-';
    if (auto date = ParseDate(text)) found = date;
  }
  return found;
}

std::vector<std::string> DatePrefixes(const std::string& root, const std::vector<int>& years,
                                      const DayRange& days) {
  std::vector<std::string> prefixes;
  if (years.empty()) return prefixes;
  const int first_year = *std::min_element(years.begin(), years.end());
  const int last_year = *std::max_element(years.begin(), years.end());
  const Date from = days.from.value_or(Date{first_year, 1, 1});
  const Date to = days.to.value_or(Date{last_year, 12, 31});
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

DayListing ListByDays(const std::string& location, const DayRange& days, const FolderLister& list,
                      size_t threads) {
  DayListing result;
  std::vector<std::string> date_prefixes;

  // Level by level over folders that are not dates; each is one one-level listing, and the
  // folders of a level are listed in parallel (an organisation trail has thousands of
  // account and region folders: one after the other they would cost thousands of round
  // trips in sequence). Results are taken in level order and sorted at the end, so the
  // listing does not depend on the thread count.
  std::vector<std::string> level_folders{location};
  bool first = true;
  while (!level_folders.empty()) {
    std::vector<Listing> levels(level_folders.size());
    ParallelFor(
        level_folders.size(), std::min(threads, std::max<size_t>(level_folders.size(), 1)),
        [&](size_t i, size_t) { levels[i] = list(level_folders[i], ListDepth::kOneLevel); });
    std::vector<std::string> next_folders;
    for (size_t f = 0; f < level_folders.size(); ++f) {
      const std::string& folder = level_folders[f];
      Listing& level = levels[f];
      if (first) {
        result.location_empty = level.objects.empty() && level.folders.empty();
        first = false;
      }
      for (ObjectInfo& object : level.objects) {
        // The location itself may name one object: it is read whatever its date.
        if (object.location == location || InRange(object.location, days)) {
          result.objects.push_back(std::move(object));
        }
      }
      std::vector<int> years;
      for (std::string& sub : level.folders) {
        std::string_view name = FolderName(sub);
        if (IsDigestKey(name)) continue;  // integrity digests, not logs: never walked
        if (IsYearFolder(name)) {
          years.push_back(std::stoi(std::string(name)));
        } else {
          next_folders.push_back(std::move(sub));
        }
      }
      const std::string root = folder.empty() || folder.back() == '/' ? folder : folder + "/";
      for (std::string& date_prefix : DatePrefixes(root, years, days)) {
        date_prefixes.push_back(std::move(date_prefix));
      }
    }
    level_folders = std::move(next_folders);
  }

  // The day (or month, year) prefixes are independent: list them in parallel.
  std::vector<std::vector<ObjectInfo>> found(date_prefixes.size());
  ParallelFor(date_prefixes.size(), std::min(threads, std::max<size_t>(date_prefixes.size(), 1)),
              [&](size_t i, size_t) {
                for (ObjectInfo& object : list(date_prefixes[i], ListDepth::kRecursive).objects) {
                  if (InRange(object.location, days)) found[i].push_back(std::move(object));
                }
              });
  for (auto& objects : found) {
    for (ObjectInfo& object : objects) result.objects.push_back(std::move(object));
  }
  SortByLocation(&result.objects);
  return result;
}

std::vector<ObjectInfo> ListLogObjects(Storage& storage, const std::string& location,
                                       const DayRange& days, size_t threads) {
  if (!days.bounded()) return storage.List(location);
  DayListing listing = ListByDays(
      location, days,
      [&](const std::string& folder, ListDepth depth) { return storage.ListUnder(folder, depth); },
      threads);
  // Nothing there: an empty folder lists as empty, a missing one throws the storage's error.
  if (listing.location_empty) return storage.List(location);
  return std::move(listing.objects);
}

}  // namespace ipinsights
