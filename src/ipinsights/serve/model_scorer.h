// ModelScorer: the trained Model behind the server's Scorer interface, and the loader the
// ModelRegistry uses to (re)read model files.
//
// Thread-safety: as Model (immutable, any number of threads).
//
//   ModelRegistry registry(specs, LoadModelScorer, &metrics);
#pragma once

#include <memory>
#include <string>

#include "ipinsights/serve/scorer.h"

namespace ipinsights {

class Model;

class ModelScorer : public Scorer {
 public:
  explicit ModelScorer(std::shared_ptr<const Model> model) : model_(std::move(model)) {}

  int vector_dim() const override;
  void ScoreBatch(const std::string_view* entities, const IpAddress* ips, size_t n,
                  float* scores) const override;
  void EntityEmbedding(std::string_view entity, float* out) const override;
  void IpEmbedding(const IpAddress& ip, float* out) const override;

 private:
  std::shared_ptr<const Model> model_;
};

// Model::Load(location) wrapped in a ModelScorer. Throws Error.
std::shared_ptr<const Scorer> LoadModelScorer(const std::string& location);

}  // namespace ipinsights
