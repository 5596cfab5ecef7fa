// BatchBuffers: the trainer's working memory for one mini-batch (internal to
// train/trainer.cc; tests reach it through Trainer).
//
// Legend, in the letters of trainer.cc's phase comments:
//   B  observed pairs in the batch (`pairs`); pair j is (entity j, address j)
//   R  random negatives per pair; S shuffled negatives per pair
//   K  = 1 + R + S samples per pair: k = 0 the observed address (label 1), k = 1..R random
//      addresses (label 0), k = R+1..R+S shuffle s = k-1-R's address (another pair's; label 0)
//   D  vector_dim; L dense layers in the IP encoder (W, b: the last one)
//   u  entity row; v = W^T u and c = u . b: the last layer folded into the entity
//   z  an address's prefix sum; a its last layer's input (z itself when L <= 1)
//   score_k = v . a_k + c;  g_k = d(mean loss) / d score_k
// Addresses (`addresses` = B (1 + R) of them): index j < B is pair j's observed address,
// B + j R + r is pair j's random negative r. Shuffled samples reuse observed addresses.
//
// Thread-safety: none; the trainer's phases write disjoint parts from their tasks.
//
//   BatchBuffers batch(BatchShape::Of(model));
//   batch.Resize(rows_in_batch);  // then the trainer's phases fill it (phase 5 beside 2)
//   const float* a = batch.LastLayerInput(batch.AddressOfSample(j, k));
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ipinsights/model/ip_encoder.h"
#include "ipinsights/model/model_impl.h"
#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {

// The sizes fixed by the model's hyperparameters.
struct BatchShape {
  static BatchShape Of(const Model::Impl& model);

  int64_t dim = 0;                 // D
  int64_t random_negatives = 0;    // R
  int64_t shuffled_negatives = 0;  // S
  int64_t samples_per_pair = 0;    // K = 1 + R + S
  int64_t layers = 0;              // L
};

struct BatchBuffers {
  explicit BatchBuffers(const BatchShape& shape);

  // Sets `pairs` and `addresses` for a batch of `batch_pairs` pairs, growing every buffer
  // to fit (never shrinking).
  void Resize(size_t batch_pairs);

  // The address of pair j's sample k.
  size_t AddressOfSample(size_t j, int64_t k) const {
    if (k == 0) return j;
    if (k <= shape.random_negatives) return pairs + j * shape.random_negatives + (k - 1);
    return shuffle[k - 1 - shape.random_negatives][j];
  }
  // a_i: the last layer's input of address i (D floats).
  const float* LastLayerInput(size_t i) const {
    return activations[shape.layers >= 2 ? shape.layers - 1 : 0].data() + i * shape.dim;
  }
  // d loss / d z of every address (D floats each): prefix_sum_gradient, or address_gradient
  // when L <= 1 (there z is a).
  float* PrefixSumGradients() {
    return shape.layers >= 2 ? prefix_sum_gradient.data() : address_gradient.data();
  }

  BatchShape shape;
  size_t pairs = 0;      // B
  size_t addresses = 0;  // B (1 + R)

  // Per address.
  std::vector<IpAddress> ips;
  std::vector<uint32_t> prefix_rows;  // kMaxIpPrefixes prefix_table rows per address
  std::vector<uint8_t> prefix_count;  // how many of them are used
  std::vector<uint8_t> prefix_kept;   // bit k: prefix k is in this sample's sum (dropout)
  // activations[0]: z; activations[l + 1]: hidden layer l's output (D floats per address).
  std::vector<std::vector<float>> activations;
  std::vector<float> address_gradient;     // d loss / d a (D per address)
  std::vector<float> prefix_sum_gradient;  // d loss / d z (D per address), only when L >= 2
  // hidden_deltas[l]: d loss / d(hidden layer l's pre-activation), D per address.
  std::vector<std::vector<float>> hidden_deltas;

  // Per pair.
  std::vector<uint64_t> entity_rows;          // u's row of entity_table
  std::vector<float> entity;                  // u (a copy, D floats: the last layer's dW reads it)
  std::vector<float> folded_entity;           // v (D floats)
  std::vector<float> folded_offset;           // c
  std::vector<float> score_gradient;          // g_k (K floats)
  std::vector<float> folded_entity_gradient;  // dv (D floats)
  std::vector<float> folded_offset_gradient;  // dc
  std::vector<float> entity_gradient;         // du (D floats)
  std::vector<double> pair_loss;              // sum_k w_k loss_k
  std::vector<uint32_t> pair_correct;         // samples with (score > 0) == label

  // Per shuffle s < S, per pair j: pair j's sample R+1+s uses address shuffle[s][j] (a
  // derangement); shuffle_inverse[s][shuffle[s][j]] = j; shuffle_valid[s][j] = 0 when no
  // distinct pair was found (the sample is left out).
  std::vector<std::vector<uint32_t>> shuffle, shuffle_inverse;
  std::vector<std::vector<uint8_t>> shuffle_valid;

  // The batch's totals, from the loss phase.
  double loss_sum = 0;    // sum over samples of w_k loss_k
  double weight_sum = 0;  // sum over samples of w_k: the loss is the weighted mean
  uint64_t samples = 0;
  uint64_t correct = 0;
};

}  // namespace ipinsights
