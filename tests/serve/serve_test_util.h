// Helpers shared by the serve tests: small real models (Model::Create) and requests.
#pragma once

#include <memory>
#include <string>

#include "ipinsights/model/hyperparameters.h"
#include "ipinsights/model/model.h"
#include "ipinsights/serve/http_types.h"
#include "ipinsights/serve/model_scorer.h"

namespace ipinsights::serve_test {

inline std::shared_ptr<Model> SmallModel(uint64_t seed, int dim = 8) {
  Hyperparameters hp;
  hp.num_entity_vectors = 1000;
  hp.vector_dim = dim;
  return Model::Create(hp, seed);
}

inline std::shared_ptr<const Scorer> SmallScorer(uint64_t seed, int dim = 8) {
  return std::make_shared<ModelScorer>(SmallModel(seed, dim));
}

inline HttpRequestView Post(std::string_view target, std::string_view content_type,
                            std::string_view body, std::string_view accept = {}) {
  HttpRequestView request;
  request.method = "POST";
  request.target = target;
  request.content_type = content_type;
  request.accept = accept;
  request.body = body;
  return request;
}

inline HttpRequestView Get(std::string_view target) {
  HttpRequestView request;
  request.method = "GET";
  request.target = target;
  return request;
}

}  // namespace ipinsights::serve_test
