// Model::Impl: the weights of a model and the forward pass over them. Trainers and the
// model file code use it directly; everyone else goes through model.h.
//
//   entity_table   num_entity_vectors x dim   row = Hash64(entity, hash_seed) % rows
//   prefix_table   ip_hash_buckets x dim      network-prefix rows, see IpPrefixRows (ip_encoder.h)
//   layers         num_ip_encoder_layers dense layers dim -> dim; ReLU between them, the
//                  last one linear
//
// IP embedding = layers(sum of the prefix rows of the address); score = dot(entity row,
// IP embedding), computed with the last layer folded into the entity side (FoldEntities,
// ScoreFolded; see Model::ScoreBatch).
//
// Thread-safety: const methods are safe from any number of threads; mutation (training)
// is the owner's business.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/model/entity_novelty.h"
#include "ipinsights/model/huge_page_allocator.h"
#include "ipinsights/model/hyperparameters.h"
#include "ipinsights/model/model.h"
#include "ipinsights/model/score_calibration.h"
#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {

struct DenseLayer {
  int64_t inputs = 0;
  int64_t outputs = 0;
  std::vector<float> weight;  // outputs x inputs, row-major: y[o] = b[o] + sum_i w[o][i] x[i]
  std::vector<float> bias;    // outputs
};

struct Model::Impl {
  Hyperparameters hyperparameters;  // ip_hash_buckets always resolved (> 0)
  uint64_t hash_seed = 0;
  int64_t dim = 0;
  FloatTable entity_table;
  FloatTable prefix_table;
  std::vector<DenseLayer> layers;
  // Free-form JSON object stored in the model file ("{}" when none): what trained it.
  std::string training_info = "{}";
  // How normal pairs score (train fills it; absent in models from before calibration).
  std::optional<ScoreCalibration> calibration;
  // Each entity's rate of new networks, combined with the dot product in Model::Score (train
  // fills it when it has a validation channel; empty in older models: the score is the dot).
  EntityNovelty novelty;
  // The checksum of the history.ipinsights written with it (train sets it; absent before).
  std::optional<uint64_t> history_checksum;

  int64_t entity_rows() const { return hyperparameters.num_entity_vectors; }
  int64_t prefix_rows() const { return hyperparameters.ip_hash_buckets; }

  uint64_t EntityHash(std::string_view entity) const;
  uint64_t EntityRowOfHash(uint64_t entity_hash) const {
    return entity_hash % static_cast<uint64_t>(entity_rows());
  }
  const float* EntityVector(uint64_t row) const { return entity_table.data() + row * dim; }
  float* EntityVector(uint64_t row) { return entity_table.data() + row * dim; }
  const float* PrefixVector(uint64_t row) const { return prefix_table.data() + row * dim; }
  float* PrefixVector(uint64_t row) { return prefix_table.data() + row * dim; }

  // Sum of the prefix rows of `ip` (the encoder's input to the dense layers).
  void PrefixSum(const IpAddress& ip, float* out) const;
  // The full IP encoder: writes dim floats to out. `scratch` holds 2 * dim floats.
  void EncodeIp(const IpAddress& ip, float* out, float* scratch) const;
  // y = layer(x) (+ ReLU unless it is the last layer).
  void ApplyLayer(size_t layer_index, const float* x, float* y) const;
  // Back through hidden layer `layer_index` (not the last one), given its output y and
  // grad_y = d loss / d y (training):
  //   delta = grad_y * [y > 0]  (d loss / d pre-activation),   grad_x = W^T delta
  void HiddenLayerBackward(size_t layer_index, const float* y, const float* grad_y, float* delta,
                           float* grad_x) const;

  // Batch scoring folds the last (linear) layer into the entity side:
  //   u . (W h + b) = (W^T u) . h + u . b
  // so W is applied once per distinct entity of a batch instead of once per pair.
  // FoldEntities writes, for each of the entity rows entity_rows[0..count), W^T u to
  // folded[e * dim ..] and u . b to offsets[e]. A folded row depends only on its entity,
  // not on the others folded with it. `pointers` holds count pointers. Layers non-empty.
  void FoldEntities(const uint64_t* entity_rows, size_t count, const float** pointers,
                    float* folded, float* offsets) const;
  // Read-side models whose entity table is at most kMaxPrecomputedFoldBytes fold every
  // entity row once, at load: then a lone pair (a one-pair request to serve) costs a dot
  // product instead of a dim x dim matrix-vector product. Same bits as FoldEntities.
  // Empty when not precomputed (training models, large tables).
  static constexpr size_t kMaxPrecomputedFoldBytes = size_t{64} << 20;
  FloatTable folded_entities;         // entity_rows x dim: W^T u per row
  std::vector<float> folded_offsets;  // entity_rows: u . b per row
  void PrecomputeFolded(size_t threads);
  bool has_folded() const { return !folded_offsets.empty(); }

  // The score of the address whose prefix rows are rows[0..num_rows) against a folded
  // entity (layers non-empty). `scratch` holds 2 * dim floats.
  float ScoreFolded(const float* folded, float offset, const uint32_t* rows, int num_rows,
                    float* scratch) const;

  // Weights drawn so that first scores are near 0 (first loss about ln 2); deterministic
  // in `seed`. The hash seed is derived from `seed`.
  static std::unique_ptr<Impl> CreateRandom(const Hyperparameters& hyperparameters, uint64_t seed);
};

}  // namespace ipinsights
