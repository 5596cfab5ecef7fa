#include "ipinsights/serve/response_codec.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "ipinsights/base/json_text.h"

namespace ipinsights {
namespace {

// Appends to a string that has been reserved large enough by the caller's estimate; falls
// back to growing when the estimate was short.
inline void Append(std::string* out, const char* text, size_t n) { out->append(text, n); }

void AppendVector(const float* values, int dim, std::string* out) {
  out->push_back('[');
  for (int i = 0; i < dim; ++i) {
    if (i > 0) out->push_back(',');
    AppendFloat(values[i], out);
  }
  out->push_back(']');
}

void AppendPrediction(const ResponseFormat& format, size_t i, std::span<const float> scores,
                      std::span<const float> entity_embeddings,
                      std::span<const float> ip_embeddings, int dim, std::string* out) {
  static constexpr char kDot[] = "{\"dot_product\":";
  Append(out, kDot, sizeof(kDot) - 1);
  AppendFloat(scores[i], out);
  if (format.verbose) {
    static constexpr char kEntity[] = ",\"entity_embedding\":";
    static constexpr char kIp[] = ",\"ip_embedding\":";
    Append(out, kEntity, sizeof(kEntity) - 1);
    AppendVector(entity_embeddings.data() + i * dim, dim, out);
    Append(out, kIp, sizeof(kIp) - 1);
    AppendVector(ip_embeddings.data() + i * dim, dim, out);
  }
  out->push_back('}');
}

}  // namespace

void AppendFloat(float value, std::string* out) {
  if (!std::isfinite(value)) {
    out->append("null");
    return;
  }
  char buffer[32];
  std::to_chars_result result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, result.ptr - buffer);
}

void EncodeResponse(const ResponseFormat& format, std::span<const float> scores,
                    std::span<const float> entity_embeddings, std::span<const float> ip_embeddings,
                    int dim, std::string* out) {
  // ~16 chars per float; one reservation instead of repeated growth for large batches.
  size_t per_row = 24 + (format.verbose ? 2 * (40 + 16 * static_cast<size_t>(dim)) : 0);
  out->reserve(out->size() + 24 + per_row * scores.size());
  if (format.kind == ResponseFormat::kJsonLines) {
    for (size_t i = 0; i < scores.size(); ++i) {
      AppendPrediction(format, i, scores, entity_embeddings, ip_embeddings, dim, out);
      out->push_back('\n');
    }
    return;
  }
  static constexpr char kOpen[] = "{\"predictions\":[";
  Append(out, kOpen, sizeof(kOpen) - 1);
  for (size_t i = 0; i < scores.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendPrediction(format, i, scores, entity_embeddings, ip_embeddings, dim, out);
  }
  out->append("]}");
}

const char* ResponseContentType(const ResponseFormat& format) {
  return format.kind == ResponseFormat::kJsonLines ? "application/jsonlines" : "application/json";
}

}  // namespace ipinsights
