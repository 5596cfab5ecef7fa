// Model::ScoreBatch and Model::Score (last layer folded into the entity side) against the
// straightforward per-pair computation dot(EntityEmbedding, IpEmbedding) =
// u . layers(sum of prefix rows).
//
// Tolerance: the folded score (W^T u) . h + u . b and the straightforward u . (W h + b)
// sum the same products in another order, so they differ by float rounding only:
// |fast - reference| <= 4 * dim * FLT_EPSILON * sum_o |u_o| (sum_i |W_oi h_i| + |b_o|).
// ScoreBatch and Score agree bit for bit, whatever the batch.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <string>
#include <vector>

#include "ipinsights/base/hash.h"
#include "ipinsights/model/ip_encoder.h"
#include "ipinsights/model/kernels.h"
#include "ipinsights/model/model.h"
#include "ipinsights/model/model_impl.h"

namespace ipinsights {
namespace {

std::shared_ptr<Model> MakeModel(int layers, int64_t dim, int64_t entity_vectors = 1000) {
  Hyperparameters hp;
  hp.num_entity_vectors = entity_vectors;
  hp.vector_dim = dim;
  hp.num_ip_encoder_layers = layers;
  auto model = Model::Create(hp, 11);
  // Trained models have biases; initial ones are zero, which would hide the u . b term.
  for (DenseLayer& layer : model->impl().layers) {
    for (size_t o = 0; o < layer.bias.size(); ++o) layer.bias[o] = 0.05f * std::sin(1.0f + o);
  }
  return model;
}

struct Reference {
  double score;  // dot(EntityEmbedding, IpEmbedding), summed in double
  double bound;  // allowed |ScoreBatch - score|
};

Reference Straightforward(const Model& model, std::string_view entity, const IpAddress& ip) {
  const Model::Impl& m = model.impl();
  const int64_t dim = m.dim;
  std::vector<float> u(dim), h(dim), next(dim);
  model.EntityEmbedding(entity, u.data());
  m.PrefixSum(ip, h.data());
  for (size_t l = 0; l + 1 < m.layers.size(); ++l) {
    m.ApplyLayer(l, h.data(), next.data());
    h.swap(next);
  }
  double magnitude = 0;
  if (m.layers.empty()) {
    for (int64_t i = 0; i < dim; ++i) magnitude += std::fabs(double(u[i]) * h[i]);
  } else {
    const DenseLayer& last = m.layers.back();
    for (int64_t o = 0; o < dim; ++o) {
      double row = std::fabs(last.bias[o]);
      for (int64_t i = 0; i < dim; ++i) row += std::fabs(double(last.weight[o * dim + i]) * h[i]);
      magnitude += std::fabs(u[o]) * row;
    }
  }
  std::vector<float> v(dim);
  model.IpEmbedding(ip, v.data());
  double dot = 0;
  for (int64_t i = 0; i < dim; ++i) dot += double(u[i]) * v[i];
  return {dot, 4.0 * dim * FLT_EPSILON * magnitude + 1e-30};
}

std::vector<IpAddress> Addresses(size_t n, bool v6) {
  std::vector<IpAddress> ips;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t bits = Mix64(i + 1);
    if (v6) {
      ips.push_back(*IpAddress::Parse("2001:db8:" + std::to_string(bits % 7) + ":" +
                                      std::to_string((bits >> 8) % 5) +
                                      "::" + std::to_string((bits >> 16) % 1000)));
    } else {
      ips.push_back(IpAddress::FromV4(static_cast<uint32_t>(bits)));
    }
  }
  return ips;
}

void ExpectBatchMatches(const Model& model, const std::vector<std::string>& names,
                        const std::vector<IpAddress>& ips) {
  std::vector<std::string_view> entities(names.begin(), names.end());
  std::vector<float> scores(ips.size() + 1, -12345.0f);
  model.ScoreBatch(entities.data(), ips.data(), ips.size(), scores.data());
  EXPECT_EQ(scores[ips.size()], -12345.0f) << "wrote past n";
  for (size_t i = 0; i < ips.size(); ++i) {
    const Reference reference = Straightforward(model, entities[i], ips[i]);
    EXPECT_NEAR(scores[i], reference.score, reference.bound)
        << "pair " << i << " " << names[i] << " " << ips[i].ToString();
    EXPECT_EQ(scores[i], model.Score(entities[i], ips[i])) << "pair " << i;
    // A pair's score does not depend on the rest of its batch.
    float alone = 0;
    model.ScoreBatch(&entities[i], &ips[i], 1, &alone);
    EXPECT_EQ(scores[i], alone) << "pair " << i;
  }
}

std::vector<std::string> Entities(size_t n, size_t distinct) {
  std::vector<std::string> names;
  for (size_t i = 0; i < n; ++i) names.push_back("user" + std::to_string(i % distinct));
  return names;
}

TEST(ScoreBatch, MatchesStraightforwardScoringForEveryShape) {
  for (auto set :
       {kernels::KernelSet::kAvx512, kernels::KernelSet::kAvx2, kernels::KernelSet::kScalar}) {
    kernels::LimitKernels(set);
    for (int layers : {0, 1, 2}) {
      for (int64_t dim : {4, 20, 24, 32, 128}) {
        auto model = MakeModel(layers, dim);
        for (bool v6 : {false, true}) {
          SCOPED_TRACE(testing::Message() << kernels::ActiveKernels() << " layers " << layers
                                          << " dim " << dim << " v6 " << v6);
          ExpectBatchMatches(*model, Entities(300, 7), Addresses(300, v6));    // repeated
          ExpectBatchMatches(*model, Entities(300, 300), Addresses(300, v6));  // distinct
        }
      }
    }
  }
  kernels::LimitKernels(kernels::KernelSet::kAvx512);
}

TEST(ScoreBatch, MixedFamiliesAndSingletons) {
  for (int layers : {0, 1, 2}) {
    auto model = MakeModel(layers, 32);
    std::vector<IpAddress> ips = Addresses(50, false);
    const std::vector<IpAddress> v6 = Addresses(50, true);
    ips.insert(ips.end(), v6.begin(), v6.end());
    ExpectBatchMatches(*model, Entities(100, 3), ips);
    ExpectBatchMatches(*model, Entities(1, 1), Addresses(1, false));
    ExpectBatchMatches(*model, Entities(1, 1), Addresses(1, true));
  }
}

TEST(ScoreBatch, EmptyBatchWritesNothing) {
  auto model = MakeModel(1, 32);
  float score = 7.0f;
  model->ScoreBatch(nullptr, nullptr, 0, &score);
  EXPECT_EQ(score, 7.0f);
}

TEST(ScoreBatch, WithoutLayersEqualsScoreExactly) {
  auto model = MakeModel(0, 32);
  const auto names = Entities(200, 9);
  const std::vector<std::string_view> entities(names.begin(), names.end());
  const auto ips = Addresses(200, false);
  std::vector<float> scores(200);
  model->ScoreBatch(entities.data(), ips.data(), 200, scores.data());
  for (size_t i = 0; i < 200; ++i) EXPECT_EQ(scores[i], model->Score(entities[i], ips[i]));
}

// More distinct entities than the per-batch cache of folded entities holds (2^21 floats):
// the rest are folded per pair, with the same results.
TEST(ScoreBatch, MoreDistinctEntitiesThanTheFoldCacheHolds) {
  auto model = MakeModel(1, 128, 50000);
  const size_t n = 40000;
  const auto names = Entities(n, 20000);
  const std::vector<std::string_view> entities(names.begin(), names.end());
  const auto ips = Addresses(n, false);
  std::vector<float> scores(n);
  model->ScoreBatch(entities.data(), ips.data(), n, scores.data());
  for (size_t i = 0; i < n; i += 97) {
    float alone = 0;
    model->ScoreBatch(&entities[i], &ips[i], 1, &alone);
    EXPECT_EQ(scores[i], alone) << "pair " << i;
    const Reference reference = Straightforward(*model, entities[i], ips[i]);
    EXPECT_NEAR(scores[i], reference.score, reference.bound) << "pair " << i;
  }
}

}  // namespace
}  // namespace ipinsights
