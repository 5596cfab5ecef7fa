#include "ipinsights/base/json_text.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ipinsights {
namespace {

std::string Json(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

TEST(JsonText, CopiesPlainText) { EXPECT_EQ(Json("AIDA example/1"), "\"AIDA example/1\""); }

// A default view's data() is null (serve's access log writes such fields): no memcpy from it,
// which UBSan's nonnull check in the sanitizer build would report.
TEST(JsonText, EmptyViewWithNullData) {
  EXPECT_EQ(Json(std::string_view()), "\"\"");
  char buffer[8];
  EXPECT_EQ(WriteJsonString(buffer, std::string_view()) - buffer, 2);
}

TEST(JsonText, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(Json("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Json("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(Json(std::string_view("\x00\x01\x1f", 3)), "\"\\u0000\\u0001\\u001f\"");
}

TEST(JsonText, KeepsValidUtf8) {
  EXPECT_EQ(Json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST(JsonText, ReplacesInvalidUtf8) {
  EXPECT_EQ(Json("a\xff"
                 "b"),
            "\"a\\ufffdb\"");
  EXPECT_EQ(Json("\xc0\x80"), "\"\\ufffd\\ufffd\"");             // overlong
  EXPECT_EQ(Json("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate
  EXPECT_EQ(Json("\xe2\x82"), "\"\\ufffd\\ufffd\"");             // truncated
}

// The block fast path must hand every byte that needs care to the byte walk, wherever it
// falls in a block: each special byte at each position of a 37-byte text (two and a half blocks),
// checked against the escape written around it.
TEST(JsonText, EscapesAtEveryPositionOfTheFastPath) {
  const std::string plain = "abcdefghijklmnopqrstuvwxyz0123456789A";
  const std::pair<std::string, std::string> cases[] = {{"\"", "\\\""},
                                                       {"\\", "\\\\"},
                                                       {"\n", "\\n"},
                                                       {std::string(1, '\0'), "\\u0000"},
                                                       {"\x1f", "\\u001f"},
                                                       {"\x7f", "\x7f"},
                                                       {"\xc3\xa9", "\xc3\xa9"},
                                                       {"\xff", "\\ufffd"},
                                                       {" ", " "},
                                                       {"~", "~"}};
  for (size_t at = 0; at <= plain.size(); ++at) {
    for (const auto& [raw, escaped] : cases) {
      const std::string text = plain.substr(0, at) + raw + plain.substr(at);
      EXPECT_EQ(Json(text), "\"" + plain.substr(0, at) + escaped + plain.substr(at) + "\"")
          << "at " << at;
    }
  }
}

TEST(JsonText, WritesShortestNumbersAndNullForNonFinite) {
  std::string out;
  AppendJsonNumber(&out, 0.1f);
  out += ' ';
  AppendJsonNumber(&out, -2.5);
  out += ' ';
  AppendJsonNumber(&out, NAN);
  out += ' ';
  AppendJsonNumber(&out, -INFINITY);
  EXPECT_EQ(out, "0.1 -2.5 null null");
}

}  // namespace
}  // namespace ipinsights
