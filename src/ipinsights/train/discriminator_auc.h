// DiscriminatorAuc: train's per-epoch validation figure (SageMaker's
// "validation discriminator_auc", shared/spec/ALGORITHM.md): how well the model tells each
// validation pair from its entity with one random address. The AUC itself is evaluate's
// (LabeledScores::Auc, eval/labeled_scores.h), so both commands count it the same way.
//
// Thread-safety: reads the model only; runs `threads` threads of its own.
//
//   double auc = DiscriminatorAuc(model, validation.rows, /*seed=*/7, /*threads=*/2);
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ipinsights/model/model_impl.h"
#include "ipinsights/train/training_set.h"

namespace ipinsights {

// The AUC of the scores of `rows` (normal) against those of their entities each with one
// random address (anomalous; IPv4 for IPv4 pairs, global-unicast IPv6 for IPv6 ones),
// deterministic in `seed`. 0.5 when `rows` is empty; NaN when a score is NaN (a diverged
// model).
double DiscriminatorAuc(const Model::Impl& model, const std::vector<TrainingRow>& rows,
                        uint64_t seed, size_t threads);

}  // namespace ipinsights
