// Response codec: scores (and, verbose, embeddings) → the response body of the hosting
// contract (ALGORITHM.md, Inference).
//
//   application/json       {"predictions": [{"dot_product": 1.5}, ...]}
//   application/jsonlines  {"dot_product": 1.5}\n per pair
//   verbose=True           each prediction also has "entity_embedding": [...] and
//                          "ip_embedding": [...].
// Floats are written in the shortest form that reads back to the same float (std::to_chars),
// so a client recomputing the dot product from the printed embeddings sees the same numbers
// the server used. Non-finite values (never produced by a sane model) are written as null.
//
// Thread-safety: pure functions.
//
//   std::string body;
//   EncodeResponse({ResponseFormat::kJson, false}, scores, {}, {}, 0, &body);
#pragma once

#include <span>
#include <string>

#include "ipinsights/serve/media_type.h"

namespace ipinsights {

// Appends the body for scores.size() predictions to `out`. With format.verbose,
// entity_embeddings and ip_embeddings hold scores.size() * dim floats, row-major.
void EncodeResponse(const ResponseFormat& format, std::span<const float> scores,
                    std::span<const float> entity_embeddings, std::span<const float> ip_embeddings,
                    int dim, std::string* out);

// Appends the shortest round-trip text of `value` ("null" when not finite).
void AppendFloat(float value, std::string* out);

// The Content-Type header value of a response format.
const char* ResponseContentType(const ResponseFormat& format);

}  // namespace ipinsights
