#include "ipinsights/logs/json_document_parser.h"

#include <simdjson.h>

#include <cstdlib>
#include <cstring>

namespace ipinsights {
namespace {

bool CpuRunsHaswellKernel() {
#if defined(__x86_64__)
  // IPINSIGHTS_JSON_KERNEL=fallback forces the portable kernel (tests, comparisons).
  const char* forced = std::getenv("IPINSIGHTS_JSON_KERNEL");
  if (forced && std::strcmp(forced, "fallback") == 0) return false;
  // simdjson's own run-time check (AVX2, BMI1, PCLMUL, LZCNT).
  const simdjson::implementation* haswell = simdjson::get_available_implementations()["haswell"];
  return haswell != nullptr && haswell->supported_by_runtime_system();
#else
  return false;
#endif
}

}  // namespace

std::unique_ptr<JsonDocumentParser> NewJsonDocumentParser(LogKind kind, const EntitySpec& entity,
                                                          bool want_fields) {
  static const bool haswell = CpuRunsHaswellKernel();
  if (haswell) {
    if (auto parser = NewHaswellJsonDocumentParser(kind, entity, want_fields)) return parser;
  }
  return NewFallbackJsonDocumentParser(kind, entity, want_fields);
}

}  // namespace ipinsights
