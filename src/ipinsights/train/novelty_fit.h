// FitEntityNovelty: after training, each entity's rate of new networks and how much of the
// dot product to keep beside it (model/entity_novelty.h, where the why and the figures are).
//
// Rates: per entity (a rate slot of its hash; model/entity_novelty.h RateSlot), the training
// events on networks (IPv4 /16, IPv6 /32) the entity used exactly once, over its events,
// shrunk towards the population's share. Network shares: per network, the distinct entities
// that used it in training against the average network's.
//
// Weights: model_weight, model_offset and network_weight are chosen on a grid to catch the
// most attacks at `target_fpr` and at 3 x `target_fpr` (averaged) on the holdout pairs (normal
// pairs the model did not train on) against addresses drawn the way NegativeSampler draws its
// network negatives (a host of a network of the training data) paired with the same entities. When
// no point of the grid beats the dot product alone by kMinGain, or the holdout has too few pairs
// for its tail at target_fpr to mean anything, the fit is empty and the score stays the dot
// product.
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
  // Drawn pairs caught at target_fpr and 3 x target_fpr (averaged) by the dot product alone,
  // and by the fitted score (= caught_dot_product when empty).
  double caught_dot_product = 0;
  double caught_with_novelty = 0;
};

// Per rate slot (RateSlot; *rate_slots = RateSlotsFor the distinct entities of `train`): the
// log of its shrunk rate of events on once-used networks (ShrunkNoveltyRate); *mean_rate is
// the population's share.
std::vector<float> EntityNoveltyLogRates(const std::vector<TrainingRow>& train,
                                         uint64_t* rate_slots, double* mean_rate);

// Per network slot (NetworkSlot): LogNetworkShare of the distinct entities of `train` that
// used it; *mean_entities is the average over the slots used.
std::vector<float> NetworkLogShares(const std::vector<TrainingRow>& train, double* mean_entities);

NoveltyFit FitEntityNovelty(const Model::Impl& model, const std::vector<TrainingRow>& train,
                            const std::vector<TrainingRow>& holdout, double target_fpr,
                            uint64_t seed, size_t threads);

}  // namespace ipinsights
