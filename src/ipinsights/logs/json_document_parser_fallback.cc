// The JsonDocumentParser walker on simdjson's builtin kernel for a build without -march
// flags (the portable fallback on x86-64; the native kernel on ARM).
#include <simdjson.h>

#include <cstring>
#include <memory>
#include <string_view>
#include <type_traits>

#include "ipinsights/logs/json_document_parser.h"

#define IPI_ONDEMAND simdjson::ondemand
#define IPI_PARSER_CLASS FallbackJsonDocumentParser
#define IPI_PARSER_NAME "fallback"
#include "ipinsights/logs/json_document_parser_impl.inc"

namespace ipinsights {
std::unique_ptr<JsonDocumentParser> NewFallbackJsonDocumentParser(LogKind kind,
                                                                  const EntitySpec& entity,
                                                                  bool want_fields) {
  if (want_fields) return std::make_unique<FallbackJsonDocumentParser<true>>(kind, entity);
  return std::make_unique<FallbackJsonDocumentParser<false>>(kind, entity);
}
}  // namespace ipinsights
