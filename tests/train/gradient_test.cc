// The trainer's hand-written gradients against central finite differences of its loss.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ipinsights/base/hash.h"
#include "ipinsights/model/ip_encoder.h"
#include "ipinsights/model/model_impl.h"
#include "ipinsights/train/trainer.h"

namespace ipinsights {
namespace {

struct Case {
  int layers;
  int random;
  int shuffled;
};

class GradientCheck : public ::testing::TestWithParam<Case> {};

std::vector<TrainingRow> Batch() {
  std::vector<TrainingRow> rows;
  const char* ips[] = {"10.0.0.1",    "10.0.0.2", "192.0.2.9",
                       "2001:db8::5", "10.0.0.1", "172.16.4.4"};
  for (int i = 0; i < 6; ++i) {
    rows.push_back({Hash64("user" + std::to_string(i % 4), 0), *IpAddress::Parse(ips[i])});
  }
  return rows;
}

TEST_P(GradientCheck, MatchesFiniteDifferences) {
  const Case c = GetParam();
  Hyperparameters hp;
  hp.num_entity_vectors = 7;  // collisions on purpose: rows shared by several pairs
  hp.vector_dim = 6;
  hp.num_ip_encoder_layers = c.layers;
  hp.random_negative_sampling_rate = c.random;
  hp.shuffled_negative_sampling_rate = c.shuffled;
  hp.ip_hash_buckets = 1024;
  auto model = Model::Impl::CreateRandom(hp, 3);
  // Larger weights than the initialisation so the check is not all in the linear regime.
  for (float& w : model->entity_table) w *= 8;
  for (float& w : model->prefix_table) w *= 4;
  for (auto& layer : model->layers) {
    for (size_t i = 0; i < layer.bias.size(); ++i) layer.bias[i] = 0.05f * (i % 3);
  }
  const std::vector<TrainingRow> rows = Batch();
  Trainer trainer(model.get(), TrainerOptions{1, 5});
  const uint64_t batch_seed = 99;
  trainer.ComputeGradients(rows.data(), rows.size(), batch_seed);

  auto loss_at = [&](float* parameter, float value) {
    const float saved = *parameter;
    *parameter = value;
    Trainer probe(model.get(), TrainerOptions{1, 5});
    const double loss = probe.ComputeGradients(rows.data(), rows.size(), batch_seed);
    *parameter = saved;
    return loss;
  };
  int checked = 0;
  auto check = [&](float* parameter, float analytic, const std::string& what) {
    const float h = 1e-3f;
    const double numeric =
        (loss_at(parameter, *parameter + h) - loss_at(parameter, *parameter - h)) / (2 * h);
    EXPECT_NEAR(analytic, numeric, 2e-3 + 2e-2 * std::fabs(numeric)) << what;
    ++checked;
  };

  const uint64_t D = hp.vector_dim;
  for (uint64_t row = 0; row < 7; ++row) {
    const std::vector<float> g = trainer.EntityRowGradient(row);
    for (uint64_t d = 0; d < D; d += 2) {
      check(model->EntityVector(row) + d, g[d], "entity row " + std::to_string(row));
    }
  }
  // Prefix rows of the observed addresses (the random ones' rows change with them too).
  for (const TrainingRow& r : rows) {
    uint32_t prefix[kMaxIpPrefixes];
    const int n = IpPrefixRows(r.ip, model->hash_seed, hp.ip_hash_buckets, prefix);
    for (int k = 0; k < n; k += 2) {
      const std::vector<float> g = trainer.PrefixRowGradient(prefix[k]);
      for (uint64_t d = 0; d < D; d += 3) {
        check(model->PrefixVector(prefix[k]) + d, g[d], "prefix row");
      }
    }
  }
  for (int l = 0; l < c.layers; ++l) {
    const auto& gw = trainer.LayerWeightGradient(l);
    const auto& gb = trainer.LayerBiasGradient(l);
    for (size_t i = 0; i < gw.size(); i += 5) {
      check(&model->layers[l].weight[i], gw[i], "layer " + std::to_string(l) + " weight");
    }
    for (size_t i = 0; i < gb.size(); ++i) {
      check(&model->layers[l].bias[i], gb[i], "layer " + std::to_string(l) + " bias");
    }
  }
  EXPECT_GT(checked, 20);
}

INSTANTIATE_TEST_SUITE_P(Shapes, GradientCheck,
                         ::testing::Values(Case{0, 2, 1}, Case{1, 3, 1}, Case{1, 0, 2},
                                           Case{2, 2, 1}, Case{3, 1, 1}));

}  // namespace
}  // namespace ipinsights
