// Serve speaks SageMaker's contract: its dot_product is the dot product, even for a model
// that scores with each entity's rate of new networks (model/entity_novelty.h).
#include "ipinsights/serve/model_scorer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string_view>

#include "ipinsights/model/model.h"
#include "ipinsights/model/model_impl.h"

namespace ipinsights {
namespace {

TEST(ModelScorer, AnswersTheDotProductWhateverTheModelsNovelty) {
  Hyperparameters hp;
  hp.num_entity_vectors = 64;
  hp.vector_dim = 8;
  hp.ip_hash_buckets = 1024;
  std::shared_ptr<Model> model = Model::Create(hp, 21);
  EntityNovelty& novelty = model->impl().novelty;
  novelty.model_weight = 0.5f;
  novelty.model_offset = 1;
  novelty.fade_below = -20;
  novelty.log_rate.assign(64, std::log(0.2f));
  const ModelScorer scorer(model);
  const std::string_view entities[] = {"alice", "bob"};
  const IpAddress ips[] = {*IpAddress::Parse("192.0.2.1"), *IpAddress::Parse("2001:db8::5")};
  float answers[2];
  scorer.ScoreBatch(entities, ips, 2, answers);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(answers[i], model->DotProduct(entities[i], ips[i])) << i;
    EXPECT_NE(answers[i], model->Score(entities[i], ips[i])) << i;
  }
}

}  // namespace
}  // namespace ipinsights
