#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <vector>

#include "ipinsights/serve/media_type.h"
#include "ipinsights/serve/response_codec.h"

namespace ipinsights {
namespace {

TEST(MediaType, ContentTypesMapToFormats) {
  EXPECT_EQ(ParseContentType("text/csv"), RequestFormat::kCsv);
  EXPECT_EQ(ParseContentType("Text/CSV; charset=utf-8"), RequestFormat::kCsv);
  EXPECT_EQ(ParseContentType("application/json"), RequestFormat::kJson);
  EXPECT_EQ(ParseContentType("application/jsonlines"), RequestFormat::kJsonLines);
  EXPECT_FALSE(ParseContentType("application/x-protobuf").has_value());
  EXPECT_FALSE(ParseContentType("").has_value());
}

TEST(MediaType, AcceptDefaultsToJson) {
  for (std::string_view accept : {"", "*/*", "application/json", "application/*"}) {
    std::optional<ResponseFormat> format = ParseAccept(accept);
    ASSERT_TRUE(format.has_value()) << accept;
    EXPECT_EQ(format->kind, ResponseFormat::kJson);
    EXPECT_FALSE(format->verbose);
  }
}

TEST(MediaType, AcceptVerboseWithOrWithoutSpace) {
  EXPECT_TRUE(ParseAccept("application/json; verbose=True")->verbose);
  EXPECT_TRUE(ParseAccept("application/json;verbose=True")->verbose);
  std::optional<ResponseFormat> lines = ParseAccept("application/jsonlines;verbose=True");
  EXPECT_EQ(lines->kind, ResponseFormat::kJsonLines);
  EXPECT_TRUE(lines->verbose);
  EXPECT_FALSE(ParseAccept("application/json; verbose=False")->verbose);
}

TEST(MediaType, AcceptUnsupportedIsNullopt) {
  EXPECT_FALSE(ParseAccept("text/csv").has_value());
  EXPECT_EQ(ParseAccept("text/html, application/jsonlines")->kind, ResponseFormat::kJsonLines);
}

TEST(ResponseCodec, JsonPredictionsInOrder) {
  std::vector<float> scores = {0.0f, 2.0f, -1.5f};
  std::string body;
  EncodeResponse(ResponseFormat{}, scores, {}, {}, 0, &body);
  EXPECT_EQ(body, R"({"predictions":[{"dot_product":0},{"dot_product":2},{"dot_product":-1.5}]})");
}

TEST(ResponseCodec, JsonLinesOnePerLine) {
  std::vector<float> scores = {0.25f, 3.0f};
  std::string body;
  EncodeResponse(ResponseFormat{ResponseFormat::kJsonLines, false}, scores, {}, {}, 0, &body);
  EXPECT_EQ(body, "{\"dot_product\":0.25}\n{\"dot_product\":3}\n");
}

TEST(ResponseCodec, VerboseAddsBothEmbeddings) {
  std::vector<float> scores = {1.0f};
  std::vector<float> entity = {1.0f, 0.5f};
  std::vector<float> ip = {0.5f, 1.0f};
  std::string body;
  EncodeResponse(ResponseFormat{ResponseFormat::kJson, true}, scores, entity, ip, 2, &body);
  EXPECT_EQ(
      body,
      R"({"predictions":[{"dot_product":1,"entity_embedding":[1,0.5],"ip_embedding":[0.5,1]}]})");
}

TEST(ResponseCodec, FloatsRoundTripExactly) {
  for (float value : {0.1f, -3.4028235e38f, 1.17549435e-38f, 1e-45f, 0.33333334f, 123456.79f}) {
    std::string text;
    AppendFloat(value, &text);
    float back = 0;
    std::from_chars(text.data(), text.data() + text.size(), back);
    EXPECT_EQ(back, value) << text;
  }
  std::string text;
  AppendFloat(std::nanf(""), &text);
  EXPECT_EQ(text, "null");
}

}  // namespace
}  // namespace ipinsights
