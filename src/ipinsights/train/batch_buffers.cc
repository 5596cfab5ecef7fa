#include "ipinsights/train/batch_buffers.h"

#include <algorithm>

namespace ipinsights {

BatchShape BatchShape::Of(const Model::Impl& model) {
  BatchShape shape;
  shape.dim = model.dim;
  shape.random_negatives = model.hyperparameters.random_negative_sampling_rate;
  shape.shuffled_negatives = model.hyperparameters.shuffled_negative_sampling_rate;
  shape.samples_per_pair = 1 + shape.random_negatives + shape.shuffled_negatives;
  shape.layers = static_cast<int64_t>(model.layers.size());
  return shape;
}

BatchBuffers::BatchBuffers(const BatchShape& batch_shape)
    : shape(batch_shape),
      activations(std::max<int64_t>(1, shape.layers)),
      hidden_deltas(std::max<int64_t>(0, shape.layers - 1)),
      shuffle(shape.shuffled_negatives),
      shuffle_inverse(shape.shuffled_negatives),
      shuffle_valid(shape.shuffled_negatives) {}

void BatchBuffers::Resize(size_t batch) {
  const size_t dim = static_cast<size_t>(shape.dim);
  pairs = batch;
  addresses = batch * (1 + shape.random_negatives);
  const size_t most_addresses = batch * (1 + shape.random_negatives);
  if (ips.size() >= most_addresses) return;
  ips.resize(most_addresses);
  prefix_rows.resize(most_addresses * kMaxIpPrefixes);
  prefix_count.resize(most_addresses);
  prefix_kept.resize(most_addresses);
  for (auto& a : activations) a.resize(most_addresses * dim);
  address_gradient.resize(most_addresses * dim);
  if (shape.layers >= 2) prefix_sum_gradient.resize(most_addresses * dim);
  for (auto& d : hidden_deltas) d.resize(most_addresses * dim);
  entity_rows.resize(batch);
  entity.resize(batch * dim);
  folded_entity.resize(batch * dim);
  folded_offset.resize(batch);
  score_gradient.resize(batch * shape.samples_per_pair);
  folded_entity_gradient.resize(batch * dim);
  folded_offset_gradient.resize(batch);
  entity_gradient.resize(batch * dim);
  pair_loss.resize(batch);
  pair_correct.resize(batch);
  for (int64_t s = 0; s < shape.shuffled_negatives; ++s) {
    shuffle[s].resize(batch);
    shuffle_inverse[s].resize(batch);
    shuffle_valid[s].resize(batch);
  }
}

}  // namespace ipinsights
