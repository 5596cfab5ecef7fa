// Scorer: what the server needs from a model, and nothing more.
//
// The routes and codecs score through this interface so that they can be tested without a
// trained model file; ModelScorer (model_scorer.h) adapts the real Model to it.
//
// Thread-safety: implementations are immutable after construction; every method may be
// called from any number of threads at once.
//
//   std::vector<float> scores(n);
//   scorer.ScoreBatch(entities.data(), ips.data(), n, scores.data());
#pragma once

#include <cstddef>
#include <string_view>

#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {

class Scorer {
 public:
  virtual ~Scorer() = default;

  // Length of both embeddings.
  virtual int vector_dim() const = 0;

  // scores[i] = dot(EntityEmbedding(entities[i]), IpEmbedding(ips[i])) for i < n.
  virtual void ScoreBatch(const std::string_view* entities, const IpAddress* ips, size_t n,
                          float* scores) const = 0;

  // Write vector_dim() floats to `out`.
  virtual void EntityEmbedding(std::string_view entity, float* out) const = 0;
  virtual void IpEmbedding(const IpAddress& ip, float* out) const = 0;
};

}  // namespace ipinsights
