// Trainer: trains a Model::Impl in place on TrainingRows (shared/spec/ALGORITHM.md).
//
// One mini-batch of B observed pairs gives (1 + R + S) * B labelled samples: the pair
// itself (label 1), R random addresses for its entity (label 0) and S re-pairings of its
// entity with another pair's address from the batch (label 0; a derangement, re-drawn so
// the true pair never comes back). Loss: mean binary cross-entropy of sigmoid(score), the
// shuffled negatives weighted 0.1 (ours, see kShuffledNegativeWeight). Random negatives: see
// NegativeSampler. Optimiser: Adam, its learning rate decaying linearly to zero over the
// run (ours, with TrainerOptions::total_epochs); embedding rows get lazy updates (only rows
// the batch touched), L2 weight decay on what is updated.
//
// Prefix dropout (ours): in each sample every address prefix finer than the /16 (IPv6 /32)
// is left out of the IP encoder's sum with probability 3/4, so the network rows carry the
// score alone and a new subnet of an entity's network is not taken for a random address.
// Adam's bias correction counts each embedding row's own updates (ours).
//
// Parallelism: synchronous data-parallel steps over every core. Each step is a few
// parallel loops over independent items (addresses, pairs, weight rows, touched embedding
// rows), each item's result computed by one worker in a fixed order, so the trained
// model is bit-for-bit the same for a given seed and data whatever the thread count.
// Hogwild-style training (a single-threaded trainer per core, lock-free writes to shared
// weights) was measured against it (bench/hogwild_bench.cc, tutorial benchmark, 2 threads):
// 1.22M vs 1.09M records/s, the same test AUC (0.9939). It is not used: it cannot give the
// same model twice, which the product promises.
// The speed trick: with a linear last layer, u . (W h + b) = (W^T u) . h + u . b, so W is
// applied once per entity instead of once per negative address.
//
// The pieces: the batch layout and its legend (train/batch_buffers.h), the loss
// (model/logistic_loss.h), the optimiser (model/sparse_adam.h), random and shuffled
// negatives (train/negative_sampler.h), prefix dropout (train/prefix_dropout.h). The
// validation figure is train/discriminator_auc.h.
//
// Thread-safety: one Trainer per model; not thread-safe itself (it runs its own threads).
//
//   Trainer trainer(&model.impl(), {.threads = 2, .seed = 7});
//   for (int e = 0; e < epochs; ++e) EpochMetrics m = trainer.TrainEpoch(&rows, e, nullptr);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "ipinsights/model/model_impl.h"
#include "ipinsights/train/training_set.h"

namespace ipinsights {

struct TrainerOptions {
  size_t threads = 0;  // 0 = every core
  uint64_t seed = 0;   // shuffling and negative sampling
  // Epochs the run will train (TrainEpoch's epoch numbers 0..total_epochs-1); the learning
  // rate decays linearly over them (see TrainEpoch). 0: a constant learning rate.
  int total_epochs = 0;
};

struct EpochMetrics {
  int epoch = 0;         // 0-based
  double loss = 0;       // mean binary cross-entropy over the epoch's samples
  double accuracy = 0;   // fraction of samples with (score > 0) == label
  uint64_t records = 0;  // labelled samples: (1 + R + S) per observed pair
  double seconds = 0;
  double records_per_second = 0;
};

class Trainer {
 public:
  // Trains `model` (not owned) with its hyperparameters.
  Trainer(Model::Impl* model, const TrainerOptions& options);
  ~Trainer();

  // Shuffles `rows` (deterministically from seed and epoch) and trains one pass.
  // `on_batch(samples_done, running_loss, running_accuracy)` runs after each mini-batch.
  using BatchCallback = std::function<void(uint64_t, double, double)>;
  EpochMetrics TrainEpoch(std::vector<TrainingRow>* rows, int epoch, const BatchCallback& on_batch);

  // One forward and backward pass on rows[0..n) with negatives drawn from `batch_seed`,
  // without updating. Returns the mean loss. ApplyGradients() then takes the step.
  double ComputeGradients(const TrainingRow* rows, size_t n, uint64_t batch_seed);
  void ApplyGradients();

  // The networks random negatives are drawn from (see NegativeSampler): those of `rows`.
  // TrainEpoch sets them from its rows on first use; until then every draw is uniform.
  void SetNegativeNetworks(const std::vector<TrainingRow>& rows);

  // The gradients of the last ComputeGradients (for gradient checks): the mean loss's
  // derivative by each value of an entity or prefix row (zeros when untouched), and by
  // each layer's weights and biases.
  std::vector<float> EntityRowGradient(uint64_t row) const;
  std::vector<float> PrefixRowGradient(uint64_t row) const;
  const std::vector<float>& LayerWeightGradient(size_t layer) const;
  const std::vector<float>& LayerBiasGradient(size_t layer) const;

  size_t threads() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace ipinsights
