#include "ipinsights/serve/model_scorer.h"

#include "ipinsights/model/model.h"

namespace ipinsights {

int ModelScorer::vector_dim() const { return model_->vector_dim(); }

void ModelScorer::ScoreBatch(const std::string_view* entities, const IpAddress* ips, size_t n,
                             float* scores) const {
  // SageMaker's dot_product, whatever else the model has (Model::Score adds the entity's
  // novelty rate, which serve's contract does not know).
  model_->DotProductBatch(entities, ips, n, scores);
}

void ModelScorer::EntityEmbedding(std::string_view entity, float* out) const {
  model_->EntityEmbedding(entity, out);
}

void ModelScorer::IpEmbedding(const IpAddress& ip, float* out) const {
  model_->IpEmbedding(ip, out);
}

std::shared_ptr<const Scorer> LoadModelScorer(const std::string& location) {
  return std::make_shared<ModelScorer>(Model::Load(location));
}

}  // namespace ipinsights
