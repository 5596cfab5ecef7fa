// Inputs the fuzzers (fuzz/) found to misbehave, kept as ordinary tests. They matter most
// in the debug preset (ASan + UBSan), where the original failure was a sanitizer report.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "ipinsights/serve/request_codec.h"

namespace ipinsights {
namespace {

// fuzz/request_codec_fuzzer: DecodeJson passed a default string_view's null data() to
// simdjson, which memcpy'd from it (UBSan: null pointer passed as argument 2).
TEST(RequestCodecFuzzRegression, EmptyDefaultViewIsAnInvalidJsonError) {
  PairBatch batch;
  std::optional<std::string> error = DecodeJson(std::string_view(), &batch);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(batch.size(), 0u);
  PairBatch lines;
  EXPECT_FALSE(DecodeJsonLines(std::string_view(), &lines).has_value());
  EXPECT_EQ(lines.size(), 0u);
}

}  // namespace
}  // namespace ipinsights
