// Calendar dates and UTC timestamps without time zones or locale (proleptic Gregorian).
//
// Used for --from/--to day filters, --split-at, the AWS key layouts (YYYY/MM/DD) and
// record event times. All functions are pure and thread-safe.
//
//   std::optional<Date> d = ParseDate("2024-05-01");
//   std::optional<int64_t> t = ParseTimestamp("2024-05-01T12:00:00Z");  // Unix seconds
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ipinsights {

struct Date {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  friend auto operator<=>(const Date&, const Date&) = default;
};

// Strict "YYYY-MM-DD" with a real calendar day.
std::optional<Date> ParseDate(std::string_view text);
std::string FormatDate(const Date& date);  // "YYYY-MM-DD"

int64_t DaysFromCivil(const Date& date);  // days since 1970-01-01
Date CivilFromDays(int64_t days);
inline Date DateOfUnixSeconds(int64_t seconds) {
  return CivilFromDays(seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400);
}

// ISO 8601 UTC timestamps as AWS writes them: "2024-05-01T12:00:00Z",
// with optional fractional seconds ("...:00.123Z"). Returns Unix seconds.
std::optional<int64_t> ParseTimestamp(std::string_view text);
// "2024-05-01T12:00:00Z"
std::string FormatTimestamp(int64_t unix_seconds);
// FormatTimestamp of the current time ("2024-03-08T02:00:07Z").
std::string UtcNowTimestamp();

}  // namespace ipinsights
