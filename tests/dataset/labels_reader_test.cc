#include "ipinsights/dataset/labels_reader.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ipinsights/base/error.h"

namespace ipinsights {
namespace {

std::string ErrorOf(const std::string& text) {
  try {
    ParseLabels(text, "labels.csv");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(LabelsReader, ReadsPairsLabelsAndOracleScores) {
  LabeledPairs labels = ParseLabels(
      "entity,ip,label,oracle_score\n"
      "alice,192.0.2.1,0,3.5\n"
      "\"bob, \"\"the\"\" builder\",2001:db8::1,1,-inf\n"
      "carol, 198.51.100.7 ,1,-1e400\n",
      "labels.csv");
  ASSERT_EQ(labels.size(), 3u);
  EXPECT_TRUE(labels.has_oracle);
  EXPECT_EQ(labels.entities[0], "alice");
  EXPECT_EQ(labels.entities[1], "bob, \"the\" builder");
  EXPECT_EQ(labels.ips[1], *IpAddress::Parse("2001:db8::1"));
  EXPECT_EQ(labels.ips[2], *IpAddress::Parse("198.51.100.7"));
  EXPECT_EQ(labels.labels, (std::vector<uint8_t>{0, 1, 1}));
  EXPECT_EQ(labels.oracle_scores[0], 3.5f);
  EXPECT_TRUE(std::isinf(labels.oracle_scores[1]) && labels.oracle_scores[1] < 0);
  EXPECT_TRUE(std::isinf(labels.oracle_scores[2]) && labels.oracle_scores[2] < 0);
}

TEST(LabelsReader, OracleColumnIsOptionalAndColumnsMayBeInAnyOrder) {
  LabeledPairs labels =
      ParseLabels("label,note,ip,entity\n1,x,10.0.0.1,u1\n0,y,10.0.0.2,u2\n", "l");
  ASSERT_EQ(labels.size(), 2u);
  EXPECT_FALSE(labels.has_oracle);
  EXPECT_TRUE(labels.oracle_scores.empty());
  EXPECT_EQ(labels.entities[1], "u2");
  EXPECT_EQ(labels.labels, (std::vector<uint8_t>{1, 0}));
}

TEST(LabelsReader, MovedResultKeepsEntitiesValid) {
  LabeledPairs labels = ParseLabels("entity,ip,label\n\"a\"\"b\",10.0.0.1,1\nc,10.0.0.2,0\n", "l");
  LabeledPairs moved = std::move(labels);
  EXPECT_EQ(moved.entities[0], "a\"b");
  EXPECT_EQ(moved.entities[1], "c");
}

TEST(LabelsReader, RejectsABadHeader) {
  EXPECT_EQ(ErrorOf("user,ip,label\nalice,10.0.0.1,0\n"),
            "labels.csv:1: the header must name the columns entity, ip and label (got "
            "\"user,ip,label\")");
  EXPECT_EQ(ErrorOf("alice,10.0.0.1,0\n"),
            "labels.csv:1: the header must name the columns entity, ip and label (got "
            "\"alice,10.0.0.1,0\")");
}

TEST(LabelsReader, RejectsABadLabelWithItsLine) {
  EXPECT_EQ(ErrorOf("entity,ip,label\na,10.0.0.1,0\n\nb,10.0.0.2,2\n"),
            "labels.csv:4: bad label \"2\" (expected 0 or 1)");
  EXPECT_EQ(ErrorOf("entity,ip,label\na,10.0.0.1,yes\n"),
            "labels.csv:2: bad label \"yes\" (expected 0 or 1)");
}

TEST(LabelsReader, RejectsABadIpWithItsLine) {
  EXPECT_EQ(ErrorOf("entity,ip,label\na,10.0.0.1,0\nb,10.0.0.256,1\n"),
            "labels.csv:3: bad IP \"10.0.0.256\"");
}

TEST(LabelsReader, RejectsABadOracleScore) {
  EXPECT_EQ(ErrorOf("entity,ip,label,oracle_score\na,10.0.0.1,0,high\n"),
            "labels.csv:2: bad oracle_score \"high\"");
  EXPECT_EQ(ErrorOf("entity,ip,label,oracle_score\na,10.0.0.1,0,nan\n"),
            "labels.csv:2: bad oracle_score \"nan\"");
  EXPECT_EQ(ErrorOf("entity,ip,label,oracle_score\na,10.0.0.1,0,\n"),
            "labels.csv:2: bad oracle_score \"\"");
}

TEST(LabelsReader, RejectsAWrongNumberOfFields) {
  EXPECT_EQ(ErrorOf("entity,ip,label\na,10.0.0.1\n"),
            "labels.csv:2: expected 3 fields as in the header, got 2");
}

TEST(LabelsReader, RejectsAnEmptyEntity) {
  EXPECT_EQ(ErrorOf("entity,ip,label\n,10.0.0.1,1\n"), "labels.csv:2: empty entity");
}

TEST(LabelsReader, RejectsAnEmptyFileAndAHeaderWithoutRows) {
  EXPECT_EQ(ErrorOf(""), "labels.csv: empty labels file (expected a header entity,ip,label)");
  EXPECT_EQ(ErrorOf("entity,ip,label\n"), "labels.csv: no labelled pairs after the header");
}

TEST(LabelsReader, ReportsAnUnterminatedQuote) {
  EXPECT_EQ(ErrorOf("entity,ip,label\n\"a,10.0.0.1,1\n"),
            "labels.csv:2: unterminated quoted field");
}

}  // namespace
}  // namespace ipinsights
