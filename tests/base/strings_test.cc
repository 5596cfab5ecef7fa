#include "ipinsights/base/strings.h"

#include <gtest/gtest.h>

#include "ipinsights/base/bad_record.h"
#include "ipinsights/base/error.h"

namespace ipinsights {
namespace {

TEST(Strings, TrimBlanksKeepsInnerBlanksAndOtherWhitespace) {
  EXPECT_EQ(TrimBlanks(" \t a b \t"), "a b");
  EXPECT_EQ(TrimBlanks("\r x\n"), "\r x\n");
  EXPECT_EQ(TrimBlanks("   "), "");
  EXPECT_EQ(TrimWhitespace("\r\n x y \v\f"), "x y");
}

TEST(Strings, CollapseBlanksIsSigV4Canonical) {
  EXPECT_EQ(CollapseBlanks("  a   b\t\tc  "), "a b c");
  EXPECT_EQ(CollapseBlanks(""), "");
  EXPECT_EQ(CollapseBlanks(" \t "), "");
}

TEST(Strings, QuoteForMessageEscapesAndCuts) {
  EXPECT_EQ(QuoteForMessage("10.0.0.256"), "\"10.0.0.256\"");
  EXPECT_EQ(QuoteForMessage("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(QuoteForMessage(std::string_view("x\ny\0\x7f\xc3", 6)), "\"x\\x0ay\\x00\\x7f\\xc3\"");
  EXPECT_EQ(QuoteForMessage(std::string(100, 'a'), 4), "\"aaaa...\"");
}

TEST(Strings, EqualsIgnoreCaseIsAsciiOnly) {
  EXPECT_TRUE(EqualsIgnoreCase("Text/CSV", "text/csv"));
  EXPECT_FALSE(EqualsIgnoreCase("text/csv", "text/cs"));
  EXPECT_FALSE(EqualsIgnoreCase("\xc3\x84", "\xc3\xa4"));
}

TEST(BadRecords, OneFormatForLinesOffsetsAndWholeFiles) {
  EXPECT_EQ(FormatBadRecord(BadRecord::AtLine("train.csv", 88, "bad IP \"1.2.3\"")),
            "train.csv:88: bad IP \"1.2.3\"");
  EXPECT_EQ(FormatBadRecord(BadRecord::AtByte("s3://b/k.gz", 1234, "malformed JSON (x)")),
            "s3://b/k.gz: byte 1234: malformed JSON (x)");
  EXPECT_EQ(FormatBadRecord(BadRecord::Whole("labels.csv", "no column \"label\"")),
            "labels.csv: no column \"label\"");
}

TEST(BadRecords, LogCountsEverythingKeepsTheCapAndStrictThrowsTheFirst) {
  BadRecordLog log(/*cap=*/2);
  for (int i = 1; i <= 5; ++i) log.Report(BadRecord::AtLine("f", i, "bad"));
  EXPECT_EQ(log.count(), 5u);
  ASSERT_EQ(log.messages().size(), 2u);
  EXPECT_EQ(log.messages()[1], "f:2: bad");

  BadRecordLog strict(BadRecordLog::kDefaultCap, /*strict=*/true);
  try {
    strict.Report(BadRecord::AtLine("f", 7, "empty entity"));
    FAIL() << "strict reporter did not throw";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "f:7: empty entity");
  }
}

}  // namespace
}  // namespace ipinsights
