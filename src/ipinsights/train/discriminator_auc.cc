#include "ipinsights/train/discriminator_auc.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "ipinsights/base/hash.h"
#include "ipinsights/base/parallel.h"
#include "ipinsights/eval/labeled_scores.h"
#include "ipinsights/model/kernels.h"
#include "ipinsights/train/negative_sampler.h"

namespace ipinsights {

double DiscriminatorAuc(const Model::Impl& model, const std::vector<TrainingRow>& rows,
                        uint64_t seed, size_t threads) {
  if (rows.empty()) return 0.5;
  const int64_t dim = model.dim;
  const int64_t layers = static_cast<int64_t>(model.layers.size());
  std::vector<float> positives(rows.size()), negatives(rows.size());
  const size_t chunk = 1024;
  const uint64_t stream = Mix64(seed ^ 0x56414c4944ULL);
  // Entity side of the score: v = W^T u and c = u . b (the last layer folded in), so each
  // address only needs its prefix sum and hidden layers.
  auto entity_side = [&](uint64_t row, float* v, float* c) {
    const float* u = model.EntityVector(row);
    if (layers == 0) {
      std::memcpy(v, u, dim * sizeof(float));
      *c = 0;
      return;
    }
    const DenseLayer& last = model.layers[layers - 1];
    std::memset(v, 0, dim * sizeof(float));
    for (int64_t o = 0; o < dim; ++o) kernels::Axpy(u[o], &last.weight[o * dim], v, dim);
    *c = kernels::Dot(u, last.bias.data(), dim);
  };
  ParallelFor((rows.size() + chunk - 1) / chunk, threads, [&](size_t task, size_t) {
    std::vector<float> v(dim), a(dim), b(dim);
    float c = 0;
    const size_t end = std::min(rows.size(), (task + 1) * chunk);
    for (size_t i = task * chunk; i < end; ++i) {
      entity_side(model.EntityRowOfHash(rows[i].entity_hash), v.data(), &c);
      auto encode = [&](const IpAddress& ip) {
        model.PrefixSum(ip, a.data());
        for (int64_t l = 0; l + 1 < layers; ++l) {
          model.ApplyLayer(l, a.data(), b.data());
          std::swap(a, b);
        }
        return kernels::Dot(v.data(), a.data(), dim) + c;
      };
      positives[i] = encode(rows[i].ip);
      negatives[i] = encode(UniformRandomIp(!rows[i].ip.is_v4(), RandomAt(stream, i)));
    }
  });
  for (const std::vector<float>* scores : {&positives, &negatives}) {
    for (float score : *scores) {
      if (std::isnan(score)) return std::numeric_limits<double>::quiet_NaN();
    }
  }
  return LabeledScores(std::move(positives), std::move(negatives)).Auc();
}

}  // namespace ipinsights
