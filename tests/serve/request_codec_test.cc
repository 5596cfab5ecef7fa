#include "ipinsights/serve/request_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "ipinsights/dataset/csv_record_reader.h"

namespace ipinsights {
namespace {

PairBatch DecodeOk(RequestFormat format, std::string_view body) {
  PairBatch batch;
  std::optional<std::string> error = DecodeRequest(format, body, &batch);
  EXPECT_FALSE(error.has_value()) << *error;
  return batch;
}

std::string DecodeError(RequestFormat format, std::string_view body) {
  PairBatch batch;
  std::optional<std::string> error = DecodeRequest(format, body, &batch);
  EXPECT_TRUE(error.has_value());
  return error.value_or("");
}

TEST(RequestCodec, CsvReadsLinesWithOptionalSpaceAfterComma) {
  PairBatch batch =
      DecodeOk(RequestFormat::kCsv, "user1,1.2.3.4\nuser2, 10.0.0.1\r\n\nuser3,2001:db8::1");
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch.entities[0], "user1");
  EXPECT_EQ(batch.ips[0], *IpAddress::Parse("1.2.3.4"));
  EXPECT_EQ(batch.entities[1], "user2");
  EXPECT_EQ(batch.ips[1], *IpAddress::Parse("10.0.0.1"));
  EXPECT_EQ(batch.entities[2], "user3");
  EXPECT_EQ(batch.ips[2], *IpAddress::Parse("2001:db8::1"));
}

TEST(RequestCodec, CsvHonoursRfc4180Quotes) {
  PairBatch batch = DecodeOk(RequestFormat::kCsv,
                             "\"Mozilla/5.0 (X11, Linux)\",1.2.3.4\n\"say \"\"hi\"\"\", "
                             "\"5.6.7.8\"\n\"multi\nline\",::1\n");
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch.entities[0], "Mozilla/5.0 (X11, Linux)");
  EXPECT_EQ(batch.entities[1], "say \"hi\"");
  EXPECT_EQ(batch.ips[1], *IpAddress::Parse("5.6.7.8"));
  EXPECT_EQ(batch.entities[2], "multi\nline");
}

TEST(RequestCodec, CsvBadIpNamesTheLine) {
  EXPECT_EQ(DecodeError(RequestFormat::kCsv, "a,1.2.3.4\nb,1.2.3.4\nc,10.0.0.256\n"),
            "line 3: bad IP \"10.0.0.256\"");
}

TEST(RequestCodec, CsvWrongColumnCountNamesTheLine) {
  EXPECT_EQ(DecodeError(RequestFormat::kCsv, "a,1.2.3.4\nb\n"),
            "line 2: expected 2 fields (entity,ip), got 1");
  EXPECT_EQ(DecodeError(RequestFormat::kCsv, "a,1.2.3.4,x\n"),
            "line 1: expected 2 fields (entity,ip), got 3");
}

TEST(RequestCodec, CsvUnterminatedQuoteIsAnError) {
  EXPECT_EQ(DecodeError(RequestFormat::kCsv, "\"abc,1.2.3.4\n"),
            "line 1: unterminated quoted field");
  EXPECT_EQ(DecodeError(RequestFormat::kCsv, "\"abc\"x,1.2.3.4\n"),
            "line 1: text after a closing quote");
}

// The rows of issue 11's table, decided once in dataset/pair_csv.h (the same verdicts as
// `train` and `score --pairs`: tests/eval/score_evaluate_test.cc, CsvVerdictsAgree...).
TEST(RequestCodec, CsvSkipsAHeaderOnTheFirstLineOnly) {
  PairBatch batch = DecodeOk(RequestFormat::kCsv, "entity,ip\nu,1.2.3.4\n");
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch.entities[0], "u");
  EXPECT_EQ(DecodeError(RequestFormat::kCsv, "u,1.2.3.4\nentity,ip\n"), "line 2: bad IP \"ip\"");
}

TEST(RequestCodec, CsvEmptyEntityIsABadRow) {
  EXPECT_EQ(DecodeError(RequestFormat::kCsv, "u,1.2.3.4\n,1.2.3.4\n"), "line 2: empty entity");
}

TEST(RequestCodec, CsvKeepsAQuoteInsideAnUnquotedEntity) {
  PairBatch batch = DecodeOk(RequestFormat::kCsv, "a\"b,1.2.3.4");
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch.entities[0], "a\"b");
}

TEST(RequestCodec, CsvRecordLongerThanTheCapIsABadRow) {
  const std::string body = "u,1.2.3.4\n" + std::string(kMaxCsvRecordBytes, 'x') + ",1.2.3.4\n";
  EXPECT_EQ(DecodeError(RequestFormat::kCsv, body), "line 2: record longer than 1048576 bytes");
}

TEST(RequestCodec, CsvControlBytesInErrorsAreEscaped) {
  EXPECT_EQ(DecodeError(RequestFormat::kCsv, "a,\x01\xff"), "line 1: bad IP \"\\x01\\xff\"");
}

TEST(RequestCodec, CsvDecodes200000Rows) {
  std::string body;
  for (int i = 0; i < 200000; ++i)
    body += "user" + std::to_string(i % 977) + ",10." + std::to_string(i % 256) + ".0.1\n";
  PairBatch batch = DecodeOk(RequestFormat::kCsv, body);
  ASSERT_EQ(batch.size(), 200000u);
  EXPECT_EQ(batch.entities[199999], "user" + std::to_string(199999 % 977));
}

TEST(RequestCodec, JsonReadsBothInstanceShapesMixed) {
  PairBatch batch =
      DecodeOk(RequestFormat::kJson,
               R"({"instances": [{"data": {"features": {"values": ["entity_id_1", "192.168.1.2"]}}},
                                               {"features": ["entity_id_2", "10.10.1.2"]},
                                               {"features": [42, "::ffff:1.2.3.4"]}]})");
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch.entities[0], "entity_id_1");
  EXPECT_EQ(batch.ips[0], *IpAddress::Parse("192.168.1.2"));
  EXPECT_EQ(batch.entities[1], "entity_id_2");
  EXPECT_EQ(batch.entities[2], "42");
  EXPECT_EQ(batch.ips[2], *IpAddress::Parse("1.2.3.4"));
}

TEST(RequestCodec, JsonErrorsNameTheInstance) {
  EXPECT_EQ(
      DecodeError(RequestFormat::kJson,
                  R"({"instances": [{"features": ["a", "1.2.3.4"]}, {"features": ["b", "x"]}]})"),
      "instance 1: bad IP \"x\"");
  EXPECT_EQ(DecodeError(RequestFormat::kJson, R"({"instances": [{"features": ["a"]}]})"),
            "instance 0: expected 2 values (entity, ip), got 1");
  EXPECT_EQ(DecodeError(RequestFormat::kJson, R"({"instances": [{"other": 1}]})"),
            "instance 0: expected \"features\" or \"data\"");
  EXPECT_EQ(DecodeError(RequestFormat::kJson, R"({"rows": []})"), "missing \"instances\"");
}

TEST(RequestCodec, JsonInvalidTextIsAnError) {
  EXPECT_EQ(DecodeError(RequestFormat::kJson, R"({"instances": [)").rfind("invalid JSON", 0), 0u);
  EXPECT_EQ(
      DecodeError(RequestFormat::kJson, R"({"instances": []} trailing)").rfind("invalid JSON", 0),
      0u);
}

TEST(RequestCodec, JsonLinesReadsOneInstancePerLine) {
  PairBatch batch = DecodeOk(RequestFormat::kJsonLines,
                             "{\"features\": [\"a\", \"1.2.3.4\"]}\n\n{\"data\": {\"features\": "
                             "{\"values\": [\"b\", \"2001:db8::2\"]}}}\n");
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch.entities[0], "a");  // copied: survives the second line's parse
  EXPECT_EQ(batch.entities[1], "b");
  EXPECT_EQ(batch.ips[1], *IpAddress::Parse("2001:db8::2"));
}

TEST(RequestCodec, JsonLinesErrorNamesTheLine) {
  EXPECT_EQ(
      DecodeError(RequestFormat::kJsonLines,
                  "{\"features\": [\"a\", \"1.2.3.4\"]}\n{\"features\": [\"a\", \"1.2.3\"]}\n"),
      "line 2: bad IP \"1.2.3\"");
  EXPECT_EQ(DecodeError(RequestFormat::kJsonLines, "{\"features\": [\"a\", \"1.2.3.4\"]}\nnope\n")
                .rfind("line 2: invalid JSON", 0),
            0u);
}

}  // namespace
}  // namespace ipinsights
