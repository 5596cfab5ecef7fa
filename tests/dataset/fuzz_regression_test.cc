// Inputs the fuzzers (fuzz/) found to misbehave, kept as ordinary tests. They matter most
// in the debug preset (ASan + UBSan), where the original failure was a sanitizer report.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "ipinsights/dataset/csv_chunk_reader.h"
#include "ipinsights/dataset/csv_record_reader.h"

namespace ipinsights {
namespace {

// fuzz/csv_fuzzer: EndOfLastCsvRecord called memchr on a default string_view's null data()
// (UBSan: null pointer passed as argument 1).
TEST(EndOfLastCsvRecordFuzzRegression, EmptyDefaultViewHasNoRecord) {
  EXPECT_EQ(EndOfLastCsvRecord(std::string_view()), 0u);
  EXPECT_EQ(EndOfLastCsvRecord(""), 0u);
}

// fuzz/csv_fuzzer: after text following a closing quote, EndOfLastCsvRecord ended the
// record at the next line break after that text, while CsvRecordReader resynchronises at
// the first line break after the field's opening quote. When the "closing" quote was the
// opening quote of a later multi-line record, the chunker cut that record in two, so
// `score` / `evaluate` found other rows chunk by chunk than in one piece.
TEST(EndOfLastCsvRecordFuzzRegression, MalformedRecordEndsWhereTheReaderResynchronises) {
  const std::string text = "\"a\"\"b,1.2.3.4\n\"multi\nline\",1.1.1.1\n";
  // The reader: line 0 is malformed (its quote "closes" at the quote of "multi"), then the
  // quoted two-line record is good.
  CsvRecordReader reader(text);
  ASSERT_TRUE(reader.Next());
  EXPECT_EQ(reader.error(), "unexpected text after a closing quote");
  ASSERT_TRUE(reader.Next());
  EXPECT_EQ(reader.error(), "");
  ASSERT_EQ(reader.field_count(), 2u);
  EXPECT_EQ(reader.field(0), "multi\nline");
  EXPECT_FALSE(reader.Next());
  // So a chunk may end after line 0, never inside the quoted record.
  EXPECT_EQ(EndOfLastCsvRecord(std::string_view(text).substr(0, 21)), 14u);
  EXPECT_EQ(EndOfLastCsvRecord(text), text.size());
}

}  // namespace
}  // namespace ipinsights
