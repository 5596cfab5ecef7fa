#include "ipinsights/serve/media_type.h"

#include "ipinsights/base/strings.h"

namespace ipinsights {
namespace {

// The media type of one "type/subtype; p=v; ..." entry, and its parameter list.
std::string_view MediaType(std::string_view entry, std::string_view* parameters) {
  size_t semicolon = entry.find(';');
  *parameters =
      semicolon == std::string_view::npos ? std::string_view() : entry.substr(semicolon + 1);
  return TrimBlanks(entry.substr(0, semicolon));
}

// True when the parameter list contains verbose=true (any case, optional quotes).
bool HasVerbose(std::string_view parameters) {
  while (!parameters.empty()) {
    size_t semicolon = parameters.find(';');
    std::string_view parameter = TrimBlanks(parameters.substr(0, semicolon));
    parameters =
        semicolon == std::string_view::npos ? std::string_view() : parameters.substr(semicolon + 1);
    size_t equals = parameter.find('=');
    if (equals == std::string_view::npos) continue;
    std::string_view name = TrimBlanks(parameter.substr(0, equals));
    std::string_view value = TrimBlanks(parameter.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (EqualsIgnoreCase(name, "verbose") && EqualsIgnoreCase(value, "true")) return true;
  }
  return false;
}

}  // namespace

std::optional<RequestFormat> ParseContentType(std::string_view content_type) {
  std::string_view parameters;
  std::string_view type = MediaType(content_type, &parameters);
  if (EqualsIgnoreCase(type, "text/csv")) return RequestFormat::kCsv;
  if (EqualsIgnoreCase(type, "application/json")) return RequestFormat::kJson;
  if (EqualsIgnoreCase(type, "application/jsonlines") ||
      EqualsIgnoreCase(type, "application/x-jsonlines") ||
      EqualsIgnoreCase(type, "application/jsonl"))
    return RequestFormat::kJsonLines;
  return std::nullopt;
}

std::optional<ResponseFormat> ParseAccept(std::string_view accept) {
  if (TrimBlanks(accept).empty()) return ResponseFormat{};
  // Entries are separated by commas; a comma never occurs inside our parameters.
  while (!accept.empty()) {
    size_t comma = accept.find(',');
    std::string_view entry = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    std::string_view parameters;
    std::string_view type = MediaType(entry, &parameters);
    ResponseFormat format;
    format.verbose = HasVerbose(parameters);
    if (EqualsIgnoreCase(type, "application/json") || type == "*/*" ||
        EqualsIgnoreCase(type, "application/*")) {
      format.kind = ResponseFormat::kJson;
      return format;
    }
    if (EqualsIgnoreCase(type, "application/jsonlines") ||
        EqualsIgnoreCase(type, "application/x-jsonlines") ||
        EqualsIgnoreCase(type, "application/jsonl")) {
      format.kind = ResponseFormat::kJsonLines;
      return format;
    }
  }
  return std::nullopt;
}

}  // namespace ipinsights
