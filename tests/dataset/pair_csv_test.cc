#include "ipinsights/dataset/pair_csv.h"

#include <gtest/gtest.h>

#include "ipinsights/dataset/csv_record_reader.h"

namespace ipinsights {
namespace {

TEST(ParsePairChunk, KeepsGoodRowsAndReportsBadOnesWithLines) {
  ParsedPairs pairs;
  ParsePairChunk(
      "alice,192.0.2.1\n"
      "bob, 2001:db8::7\n"
      "carol,10.0.0.256\n"
      ",10.0.0.1\n"
      "dave,10.0.0.1,extra\n"
      "\n"
      "\"e,ve\",10.0.0.2\n"
      "\"broken,10.0.0.3\n",
      true, &pairs);
  ASSERT_EQ(pairs.entities.size(), 3u);
  EXPECT_EQ(pairs.entities[0], "alice");
  EXPECT_EQ(pairs.entities[1], "bob");
  EXPECT_EQ(pairs.entities[2], "e,ve");
  EXPECT_EQ(pairs.ips[1], *IpAddress::Parse("2001:db8::7"));
  ASSERT_EQ(pairs.bad_records.size(), 4u);
  EXPECT_EQ(pairs.bad_records[0].value, 2u);
  EXPECT_EQ(pairs.bad_records[0].reason, "bad IP \"10.0.0.256\"");
  EXPECT_EQ(pairs.bad_records[1].value, 3u);
  EXPECT_EQ(pairs.bad_records[1].reason, "empty entity");
  EXPECT_EQ(pairs.bad_records[2].value, 4u);
  EXPECT_EQ(pairs.bad_records[2].reason, "expected 2 fields (entity,ip), got 3");
  EXPECT_EQ(pairs.bad_records[3].value, 7u);
  EXPECT_EQ(pairs.bad_records[3].reason, "unterminated quoted field");
  EXPECT_EQ(pairs.lines, 8u);
}

TEST(ParsePairChunk, SkipsAHeaderOnlyOnTheFirstLineOfTheInput) {
  ParsedPairs pairs;
  ParsePairChunk("entity,ip\na,10.0.0.1\n", true, &pairs);
  EXPECT_EQ(pairs.entities.size(), 1u);
  EXPECT_TRUE(pairs.bad_records.empty());
  ParsePairChunk("entity,ip\na,10.0.0.1\n", false, &pairs);
  ASSERT_EQ(pairs.bad_records.size(), 1u);
  EXPECT_EQ(pairs.bad_records[0].reason, "bad IP \"ip\"");
  ParsePairChunk("a,10.0.0.1\nentity,ip\n", true, &pairs);  // not on the first line
  EXPECT_EQ(pairs.bad_records.size(), 1u);
  ParsePairChunk("entity, ip\r\na,10.0.0.1\n", true, &pairs);  // the usual leniencies apply
  EXPECT_TRUE(pairs.bad_records.empty());
}

TEST(ParsePairChunk, KeepsAQuoteInsideAnUnquotedEntityAndTrimsTheAddress) {
  ParsedPairs pairs;
  ParsePairChunk("a\"b,1.2.3.4\n c ,\t10.0.0.1 \n\"q\",\"10.0.0.2\"\n", true, &pairs);
  ASSERT_EQ(pairs.entities.size(), 3u);
  EXPECT_EQ(pairs.entities[0], "a\"b");
  EXPECT_EQ(pairs.entities[1], " c ");  // the entity is kept byte for byte
  EXPECT_EQ(pairs.ips[1], *IpAddress::Parse("10.0.0.1"));
  EXPECT_EQ(pairs.entities[2], "q");
  EXPECT_TRUE(pairs.bad_records.empty());
}

TEST(ParsePairChunk, EscapesControlBytesOfABadAddressInItsMessage) {
  ParsedPairs pairs;
  ParsePairChunk("a,1.2.3.4\x01\n", true, &pairs);
  ASSERT_EQ(pairs.bad_records.size(), 1u);
  EXPECT_EQ(pairs.bad_records[0].reason, "bad IP \"1.2.3.4\\x01\"");
}

}  // namespace
}  // namespace ipinsights
