// Fuzzes the Content-Type and Accept parsers (serve/media_type.h), header values straight
// from the client. Invariants: both are deterministic; one Accept entry with verbose=True
// appended keeps its verdict and kind and is verbose; a list ending in application/json is
// always acceptable; the empty Accept gives plain JSON.
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz/fuzz_util.h"
#include "ipinsights/base/error.h"
#include "ipinsights/serve/media_type.h"

using namespace ipinsights;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::AsText(data, size);
  try {
    std::optional<RequestFormat> in = ParseContentType(text);
    std::optional<RequestFormat> in_again = ParseContentType(std::string(text));
    FUZZ_CHECK(in == in_again, "ParseContentType is deterministic");

    std::optional<ResponseFormat> out = ParseAccept(text);
    std::optional<ResponseFormat> out_again = ParseAccept(std::string(text));
    FUZZ_CHECK(out.has_value() == out_again.has_value(), "ParseAccept is deterministic");
    if (out) {
      FUZZ_CHECK(out->kind == out_again->kind && out->verbose == out_again->verbose,
                 "ParseAccept is deterministic");
    }
    // Also as one entry of a list and with the verbose parameter, the way SageMaker clients
    // send it.
    std::string listed = std::string(text) + ", application/json";
    FUZZ_CHECK(ParseAccept(listed).has_value(), "a list ending in application/json is acceptable");
    // One entry (no comma) that is not blank: appending verbose=True keeps its verdict and
    // kind and turns verbose on, with or without the space.
    if (text.find(',') == std::string_view::npos &&
        text.find_first_not_of(" \t") != std::string_view::npos) {
      for (const char* suffix : {"; verbose=True", ";verbose=True"}) {
        std::optional<ResponseFormat> verbose = ParseAccept(std::string(text) + suffix);
        FUZZ_CHECK(verbose.has_value() == out.has_value(), "verbose=True keeps the verdict");
        if (verbose) {
          FUZZ_CHECK(verbose->kind == out->kind, "verbose=True keeps the kind");
          FUZZ_CHECK(verbose->verbose, "verbose=True is seen");
        }
      }
    }
    (void)ParseContentType(std::string(text) + "; charset=utf-8");
  } catch (const Error&) {
  }
  std::optional<ResponseFormat> plain = ParseAccept("");
  FUZZ_CHECK(plain && plain->kind == ResponseFormat::kJson && !plain->verbose,
             "empty Accept is JSON");
  return 0;
}
