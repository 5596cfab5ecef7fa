#include "ipinsights/train/row_scores.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <utility>

#include "ipinsights/base/parallel.h"
#include "ipinsights/model/kernels.h"

namespace ipinsights {

namespace {

// Rows scored per block: its order index is 32-bit and 64 MB at most, whatever the rows.
constexpr size_t kBlockRows = size_t{1} << 24;

void ScoreBlock(const Model::Impl& model, const TrainingRow* rows, size_t n, size_t threads,
                RowScore kind, float* scores) {
  const int64_t dim = model.dim;
  const int64_t layers = static_cast<int64_t>(model.layers.size());
  // Rows of one entity next to each other, so its side of the score is folded once:
  //   u . (W h + b) = (W^T u) . h + u . b
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return model.EntityRowOfHash(rows[a].entity_hash) < model.EntityRowOfHash(rows[b].entity_hash);
  });
  const size_t chunk = 4096;
  ParallelFor((n + chunk - 1) / chunk, threads, [&](size_t task, size_t) {
    std::vector<float> v(dim), a(dim), b(dim);
    float c = 0;
    uint64_t folded_row = ~uint64_t{0};
    const size_t end = std::min(n, (task + 1) * chunk);
    for (size_t k = task * chunk; k < end; ++k) {
      const TrainingRow& row = rows[order[k]];
      const uint64_t entity_row = model.EntityRowOfHash(row.entity_hash);
      if (entity_row != folded_row) {
        const float* u = model.EntityVector(entity_row);
        if (layers == 0) {
          std::memcpy(v.data(), u, dim * sizeof(float));
          c = 0;
        } else {
          const DenseLayer& last = model.layers[layers - 1];
          kernels::VecMat(u, last.weight.data(), dim, dim, v.data());
          c = kernels::Dot(u, last.bias.data(), dim);
        }
        folded_row = entity_row;
      }
      model.PrefixSum(row.ip, a.data());
      for (int64_t l = 0; l + 1 < layers; ++l) {
        model.ApplyLayer(l, a.data(), b.data());
        std::swap(a, b);
      }
      const float dot = kernels::Dot(v.data(), a.data(), dim) + c;
      scores[order[k]] =
          kind == RowScore::kScore
              ? model.novelty.Adjust(dot, model.novelty.RateIndex(row.entity_hash, entity_row),
                                     row.ip)
              : dot;
    }
  });
}

}  // namespace

void ScoreRows(const Model::Impl& model, const TrainingRow* rows, size_t n, size_t threads,
               RowScore kind, float* scores) {
  for (size_t begin = 0; begin < n; begin += kBlockRows) {
    ScoreBlock(model, rows + begin, std::min(kBlockRows, n - begin), threads, kind, scores + begin);
  }
}

std::vector<float> ScoreRows(const Model::Impl& model, const std::vector<TrainingRow>& rows,
                             size_t threads, RowScore kind) {
  std::vector<float> scores(rows.size());
  ScoreRows(model, rows.data(), rows.size(), threads, kind, scores.data());
  return scores;
}

}  // namespace ipinsights
