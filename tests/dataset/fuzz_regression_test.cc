// Inputs the fuzzers (fuzz/) found to misbehave, kept as ordinary tests. They matter most
// in the debug preset (ASan + UBSan), where the original failure was a sanitizer report.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "ipinsights/dataset/csv_record_reader.h"

namespace ipinsights {
namespace {

// fuzz/csv_fuzzer: memchr on a default string_view's null data() is undefined even for 0
// bytes (UBSan: null pointer passed as argument 1).
TEST(CsvRecordReaderFuzzRegression, EmptyDefaultViewHasNoRecord) {
  EXPECT_EQ(CsvRecordReader(std::string_view(), true).Next(), CsvRecordReader::Result::kEnd);
  EXPECT_EQ(CsvRecordReader(std::string_view(), false).Next(), CsvRecordReader::Result::kNeedMore);
}

// fuzz/csv_fuzzer: after text following a closing quote, the chunker once ended the record
// at the next line break after that text, while the reader resynchronises at the first line
// break after the field's opening quote. When the "closing" quote was the opening quote of a
// later multi-line record, the chunker cut that record in two, so `score` found other rows
// chunk by chunk than in one piece. Now the chunker splits with the reader itself.
TEST(CsvRecordReaderFuzzRegression, MalformedRecordEndsWhereTheReaderResynchronises) {
  const std::string text = "\"a\"\"b,1.2.3.4\n\"multi\nline\",1.1.1.1\n";
  // Line 0 is malformed (its quote "closes" at the quote of "multi"), then the quoted
  // two-line record is good.
  CsvRecordReader reader(text, /*last=*/true);
  ASSERT_EQ(reader.Next(), CsvRecordReader::Result::kRecord);
  EXPECT_EQ(reader.error(), "text after a closing quote");
  EXPECT_EQ(reader.position(), 14u);
  EXPECT_GT(reader.examined(), reader.position());  // the verdict looked past the resync
  ASSERT_EQ(reader.Next(), CsvRecordReader::Result::kRecord);
  EXPECT_EQ(reader.error(), "");
  ASSERT_EQ(reader.field_count(), 2u);
  EXPECT_EQ(reader.field(0), "multi\nline");
  EXPECT_EQ(reader.Next(), CsvRecordReader::Result::kEnd);
}

}  // namespace
}  // namespace ipinsights
