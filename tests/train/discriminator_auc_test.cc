#include "ipinsights/train/discriminator_auc.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "ipinsights/base/hash.h"
#include "ipinsights/eval/labeled_scores.h"
#include "ipinsights/model/kernels.h"
#include "ipinsights/model/model_impl.h"
#include "ipinsights/train/negative_sampler.h"

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
  for (int i = 0; i < 10000; ++i) {  // several of ScoreRows' chunks of 4,096
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

// The AUC of each row's score against its entity's with a uniform random address of the
// row's family (drawn from the seed's stream), both by the plain forward pass:
// u . (W (sum of prefix rows) + b).
TEST(DiscriminatorAuc, IsTheAucOfEachRowAgainstARandomAddressOfItsFamily) {
  auto model = SmallModel();
  const std::vector<TrainingRow> rows = Rows(*model);
  const uint64_t stream = Mix64(7 ^ 0x56414c4944ULL);
  const int64_t dim = model->dim;
  auto score = [&](uint64_t entity_hash, const IpAddress& ip) {
    std::vector<float> sum(dim), out(dim);
    model->PrefixSum(ip, sum.data());
    model->ApplyLayer(0, sum.data(), out.data());
    return kernels::scalar::Dot(model->EntityVector(model->EntityRowOfHash(entity_hash)),
                                out.data(), dim);
  };
  std::vector<float> normal, anomalous;
  for (size_t i = 0; i < rows.size(); ++i) {
    normal.push_back(score(rows[i].entity_hash, rows[i].ip));
    const IpAddress random = UniformRandomIp(!rows[i].ip.is_v4(), RandomAt(stream, i));
    EXPECT_EQ(random.is_v4(), rows[i].ip.is_v4());
    anomalous.push_back(score(rows[i].entity_hash, random));
  }
  const double reference = LabeledScores(std::move(normal), std::move(anomalous)).Auc();
  EXPECT_NEAR(DiscriminatorAuc(*model, rows, 7, 2), reference, 1e-4);
  EXPECT_GT(std::fabs(DiscriminatorAuc(*model, rows, 8, 2) - reference), 0.0)
      << "another seed draws other addresses";
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
