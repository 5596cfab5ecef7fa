#include "ipinsights/base/civil_time.h"

#include <gtest/gtest.h>

namespace ipinsights {
namespace {

TEST(CivilTime, ParsesRealDatesOnly) {
  EXPECT_TRUE(ParseDate("2024-02-29"));
  EXPECT_FALSE(ParseDate("2023-02-29"));
  EXPECT_FALSE(ParseDate("2024-13-01"));
  EXPECT_FALSE(ParseDate("2024-1-01"));
  EXPECT_FALSE(ParseDate("2024-01-01x"));
  EXPECT_EQ(FormatDate(*ParseDate("2024-05-07")), "2024-05-07");
}

TEST(CivilTime, DaysRoundTrip) {
  for (int64_t days = -800000; days < 800000; days += 997) {
    EXPECT_EQ(DaysFromCivil(CivilFromDays(days)), days);
  }
  EXPECT_EQ(DaysFromCivil(*ParseDate("1970-01-01")), 0);
  EXPECT_EQ(DaysFromCivil(*ParseDate("2000-03-01")), 11017);
}

TEST(CivilTime, ParsesAwsTimestamps) {
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseTimestamp("2024-05-01T12:30:15Z"), 1714566615);
  EXPECT_EQ(ParseTimestamp("2024-05-01T12:30:15.123Z"), 1714566615);
  EXPECT_FALSE(ParseTimestamp("2024-05-01 12:30:15Z"));
  EXPECT_FALSE(ParseTimestamp("2024-05-01T12:30:15"));
  EXPECT_FALSE(ParseTimestamp("2024-05-01T25:30:15Z"));
  EXPECT_EQ(FormatTimestamp(1714566615), "2024-05-01T12:30:15Z");
}

}  // namespace
}  // namespace ipinsights
