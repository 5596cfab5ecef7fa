// Content-Type and Accept header values of the hosting contract (ALGORITHM.md, Inference).
//
// ParseContentType maps a Content-Type to the request format; ParseAccept picks the response
// format and the `verbose=True` parameter ("application/json; verbose=True", with or
// without the space). Parameters such as charset are ignored; media types compare
// case-insensitively.
//
// Thread-safety: pure functions.
//
//   std::optional<RequestFormat> in = ParseContentType("text/csv; charset=utf-8");
//   std::optional<ResponseFormat> out = ParseAccept("application/jsonlines;verbose=True");
#pragma once

#include <optional>
#include <string_view>

namespace ipinsights {

enum class RequestFormat { kCsv, kJson, kJsonLines };

struct ResponseFormat {
  enum Kind { kJson, kJsonLines } kind = kJson;
  bool verbose = false;
};

// nullopt: unsupported (415). An empty Content-Type is unsupported too.
std::optional<RequestFormat> ParseContentType(std::string_view content_type);

// nullopt: no acceptable type (406). Empty, "*/*" and "application/*" give JSON. In a list
// ("application/jsonlines, application/json") the first supported entry wins.
std::optional<ResponseFormat> ParseAccept(std::string_view accept);

}  // namespace ipinsights
