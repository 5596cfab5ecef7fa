// The JsonDocumentParser walker compiled for AVX2 machines (simdjson's haswell kernel).
//
// simdjson's On-Demand API exists only for its "builtin" kernel, chosen at compile time;
// without -march flags that is the portable fallback. Here the builtin kernel is haswell and
// the simdjson code is compiled inside an avx2/bmi/pclmul/lzcnt target region, so only this
// translation unit needs those instructions, and it runs only after the CPU check in
// json_document_parser.cc. Standard headers are included before the region so no shared
// inline library code is compiled for AVX2. simdjson_inline is made a plain `inline`:
// std::pair (defined outside the region) cannot force-inline target-specific constructors.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "ipinsights/logs/json_document_parser.h"

#if defined(__x86_64__)
#define SIMDJSON_BUILTIN_IMPLEMENTATION haswell
#define simdjson_inline inline
#pragma GCC push_options
#pragma GCC target("avx2,bmi,pclmul,lzcnt")
#include <simdjson.h>

#define IPI_ONDEMAND simdjson::haswell::ondemand
#define IPI_PARSER_CLASS HaswellJsonDocumentParser
#define IPI_PARSER_NAME "haswell"
#include "ipinsights/logs/json_document_parser_impl.inc"

namespace ipinsights {
std::unique_ptr<JsonDocumentParser> NewHaswellJsonDocumentParser(LogKind kind,
                                                                 const EntitySpec& entity,
                                                                 bool want_fields) {
  if (want_fields) return std::make_unique<HaswellJsonDocumentParser<true>>(kind, entity);
  return std::make_unique<HaswellJsonDocumentParser<false>>(kind, entity);
}
}  // namespace ipinsights
#pragma GCC pop_options

#else
namespace ipinsights {
std::unique_ptr<JsonDocumentParser> NewHaswellJsonDocumentParser(LogKind, const EntitySpec&, bool) {
  return nullptr;
}
}  // namespace ipinsights
#endif
