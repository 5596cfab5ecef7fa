// FitEntityNovelty: after training, each entity's rate of new networks and how much of the
// dot product to keep beside it (model/entity_novelty.h, where the why and the figures are).
//
// Rates: per entity row, the training events on networks (IPv4 /16, IPv6 /32) the row used
// exactly once, over its events, shrunk towards the population's share.
//
// Weights: model_weight and model_offset are chosen on a grid to catch the most attacks at
// `target_fpr` on the holdout pairs (normal pairs the model did not train on) against
// addresses drawn the way NegativeSampler draws its network negatives (a host of a network
// of the training data) paired with the same entities. The rate fades (fade_below, see
// entity_novelty.h) under the dot product of all but a tenth of target_fpr of the normal
// pairs, so every entity can be flagged. When no point of the grid beats the
// dot product alone by kMinGain, or the holdout has too few pairs for its tail at
// target_fpr to mean anything, the fit is empty and the score stays the dot product.
//
// Thread-safety: reads the model only; runs `threads` workers (0: every core).
//
//   NoveltyFit fit = FitEntityNovelty(*model, train.rows, validation.rows, 0.01, seed, 2);
//   model->novelty = std::move(fit.novelty);
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ipinsights/model/entity_novelty.h"
#include "ipinsights/model/model_impl.h"
#include "ipinsights/train/training_set.h"

namespace ipinsights {

struct NoveltyFit {
  EntityNovelty novelty;  // empty: the dot product alone did best
  size_t holdout_pairs = 0;
  size_t drawn_pairs = 0;
  double target_fpr = 0;
  double recall_dot_product = 0;   // drawn pairs caught at target_fpr by the dot product
  double recall_with_novelty = 0;  // by the fitted score (= recall_dot_product when empty)
};

// Per entity row: the log of its shrunk rate of events on once-used networks
// (ShrunkNoveltyRate); *mean_rate is the population's share.
std::vector<float> EntityNoveltyLogRates(const Model::Impl& model,
                                         const std::vector<TrainingRow>& train, double* mean_rate);

NoveltyFit FitEntityNovelty(const Model::Impl& model, const std::vector<TrainingRow>& train,
                            const std::vector<TrainingRow>& holdout, double target_fpr,
                            uint64_t seed, size_t threads);

}  // namespace ipinsights
