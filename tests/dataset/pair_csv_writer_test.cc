#include "ipinsights/dataset/pair_csv_writer.h"

#include <gtest/gtest.h>

#include "ipinsights/dataset/labels_reader.h"
#include "ipinsights/dataset/pair_csv.h"
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

TEST(PairCsvWriter, QuotesEmptyFieldsAndBlanksAtEitherEnd) {
  EXPECT_TRUE(CsvFieldNeedsQuoting(""));
  EXPECT_TRUE(CsvFieldNeedsQuoting("trailing "));
  EXPECT_TRUE(CsvFieldNeedsQuoting("\tleading tab"));
  EXPECT_FALSE(CsvFieldNeedsQuoting("inner space"));
  EXPECT_TRUE(CsvFieldNeedsQuoting("a\"b"));
  std::string out;
  AppendCsvField("", &out);
  AppendCsvField("x ", &out);
  EXPECT_EQ(out, "\"\"\"x \"");
}

// What prepare writes, train / score / serve read back byte for byte (the one grammar).
TEST(PairCsvWriter, RowsReadBackIdentically) {
  const std::vector<std::string> entities = {"plain",       "a,b",
                                             "say \"hi\"",  "\"",
                                             "line\nbreak", "cr\rlf\r\n",
                                             " lead",       "trail ",
                                             "\ttab\t",     " ",
                                             "entity",      "Mozilla/50 (X11; Linux x86_64)",
                                             "a\"b",        "\xc3\xa9t\xc3\xa9"};
  std::string text;
  for (const std::string& entity : entities) AppendPairCsvRow(entity, Ip("192.0.2.1"), &text);
  ParsedPairs pairs;
  ParsePairChunk(text, /*first_chunk=*/true, &pairs);
  EXPECT_TRUE(pairs.bad_records.empty()) << pairs.bad_records[0].reason;
  ASSERT_EQ(pairs.entities.size(), entities.size());
  for (size_t i = 0; i < entities.size(); ++i) {
    EXPECT_EQ(pairs.entities[i], entities[i]);
    EXPECT_EQ(pairs.ips[i], Ip("192.0.2.1"));
  }
}

// An empty entity is written (quoted, so it is no blank line) but is a bad row when read.
TEST(PairCsvWriter, AnEmptyEntityReadsBackAsABadRow) {
  std::string text;
  AppendPairCsvRow("", Ip("192.0.2.1"), &text);
  EXPECT_EQ(text, "\"\",192.0.2.1\n");
  ParsedPairs pairs;
  ParsePairChunk(text, true, &pairs);
  ASSERT_EQ(pairs.bad_records.size(), 1u);
  EXPECT_EQ(pairs.bad_records[0].reason, "empty entity");
}

// simulate writes labels.csv's entity column with AppendCsvField; evaluate reads it back.
TEST(PairCsvWriter, LabelsEntitiesReadBackIdentically) {
  const std::vector<std::string> entities = {"a,b", " lead", "trail ", "q\"q", "two\nlines"};
  std::string text = "entity,ip,label,oracle_score\n";
  for (const std::string& entity : entities) {
    AppendCsvField(entity, &text);
    text += ",192.0.2.1,0,1.5\n";
  }
  LabeledPairs labels = ParseLabels(text, "labels.csv");
  ASSERT_EQ(labels.size(), entities.size());
  for (size_t i = 0; i < entities.size(); ++i) EXPECT_EQ(labels.entities[i], entities[i]);
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
