#include "ipinsights/dataset/pair_csv_writer.h"

#include <gtest/gtest.h>

#include "ipinsights/dataset/split.h"

namespace ipinsights {
namespace {

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

TEST(PairCsvWriter, WritesPlainEntitiesAsIs) {
  std::string out;
  AppendPairCsvRow("AIDAEXAMPLE", Ip("192.0.2.1"), &out);
  AppendPairCsvRow("AROA:i-1", Ip("2001:DB8::0:1"), &out);
  EXPECT_EQ(out, "AIDAEXAMPLE,192.0.2.1\nAROA:i-1,2001:db8::1\n");
}

TEST(PairCsvWriter, QuotesEntitiesPerRfc4180) {
  std::string out;
  AppendPairCsvRow("a,b", Ip("192.0.2.1"), &out);
  AppendPairCsvRow("say \"hi\"", Ip("192.0.2.1"), &out);
  AppendPairCsvRow("line\nbreak", Ip("192.0.2.1"), &out);
  AppendPairCsvRow(" padded", Ip("192.0.2.1"), &out);
  EXPECT_EQ(out,
            "\"a,b\",192.0.2.1\n\"say \"\"hi\"\"\",192.0.2.1\n\"line\nbreak\",192.0.2.1\n"
            "\" padded\",192.0.2.1\n");
}

TEST(Split, FractionIsDeterministicAndNearTheTarget) {
  Split split = Split::ByFraction(0.2);
  int validation = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string row = "entity" + std::to_string(i) + ",192.0.2.1";
    bool first = split.ToValidation(row, std::nullopt);
    EXPECT_EQ(first, split.ToValidation(row, std::nullopt));
    validation += first;
  }
  EXPECT_GT(validation, 1800);
  EXPECT_LT(validation, 2200);
  EXPECT_FALSE(Split::ByFraction(0).ToValidation("a,1.2.3.4", std::nullopt));
  EXPECT_TRUE(Split::ByFraction(1).ToValidation("a,1.2.3.4", std::nullopt));
}

TEST(Split, AtDateSendsLaterEventsToValidation) {
  Split split = Split::AtDate(Date{2024, 5, 2});
  EXPECT_FALSE(split.ToValidation("a,1.2.3.4", int64_t{1714607999}));  // 2024-05-01T23:59:59Z
  EXPECT_TRUE(split.ToValidation("a,1.2.3.4", int64_t{1714608000}));   // 2024-05-02T00:00:00Z
  EXPECT_FALSE(split.ToValidation("a,1.2.3.4", std::nullopt));
  EXPECT_TRUE(split.needs_event_time());
}

}  // namespace
}  // namespace ipinsights
