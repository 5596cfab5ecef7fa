#include "ipinsights/train/discriminator_auc.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "ipinsights/base/hash.h"
#include "ipinsights/model/model_impl.h"

namespace ipinsights {
namespace {

std::unique_ptr<Model::Impl> SmallModel() {
  Hyperparameters hp;
  hp.num_entity_vectors = 50;
  hp.vector_dim = 8;
  hp.ip_hash_buckets = 1024;
  return Model::Impl::CreateRandom(hp, 5);
}

std::vector<TrainingRow> Rows(const Model::Impl& model) {
  std::vector<TrainingRow> rows;
  for (int i = 0; i < 3000; ++i) {  // several parallel chunks
    const std::string ip = i % 3 == 0 ? "2001:db8::" + std::to_string(i % 999)
                                      : "10.1." + std::to_string(i % 200) + ".7";
    rows.push_back(
        {Hash64("user" + std::to_string(i % 40), model.hash_seed), *IpAddress::Parse(ip)});
  }
  return rows;
}

TEST(DiscriminatorAuc, NoRowsGiveOneHalf) {
  EXPECT_EQ(DiscriminatorAuc(*SmallModel(), {}, 1, 1), 0.5);
}

TEST(DiscriminatorAuc, SameWhateverTheThreadCount) {
  auto model = SmallModel();
  const std::vector<TrainingRow> rows = Rows(*model);
  const double one = DiscriminatorAuc(*model, rows, 7, 1);
  EXPECT_GE(one, 0.0);
  EXPECT_LE(one, 1.0);
  EXPECT_EQ(DiscriminatorAuc(*model, rows, 7, 3), one);
}

// A diverged model must reach CheckTrainedModel's "training diverged" message, not fail
// here on a NaN score.
TEST(DiscriminatorAuc, NanScoresGiveNan) {
  auto model = SmallModel();
  for (float& w : model->entity_table) w = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(DiscriminatorAuc(*model, Rows(*model), 7, 2)));
}

}  // namespace
}  // namespace ipinsights
