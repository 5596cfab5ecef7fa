// ScoreRows: a trained model's score of many (entity hash, address) rows, the form training
// keeps pairs in (training_set.h), as `train` needs them: each epoch's validation AUC
// (discriminator_auc.h), and after the last epoch to fit the entity novelty (novelty_fit.h),
// to calibrate the threshold on the validation pairs and to summarise each entity's own
// scores for the history. Equal to Model::Score up to float rounding
// (the same folding of the last layer into the entity side, done once per distinct entity of a
// chunk).
//
// Thread-safety: reads the model only; runs `threads` workers (0: every core).
//
//   std::vector<float> scores = ScoreRows(*model, validation.rows, threads);
#pragma once

#include <cstddef>
#include <vector>

#include "ipinsights/model/model_impl.h"
#include "ipinsights/train/training_set.h"

namespace ipinsights {

// Model::Score, or the dot product alone (Model::DotProduct).
enum class RowScore { kScore, kDotProduct };

// scores[i] is the score of rows[i].
std::vector<float> ScoreRows(const Model::Impl& model, const std::vector<TrainingRow>& rows,
                             size_t threads, RowScore kind = RowScore::kScore);
// The same into scores[0..n), for rows that are part of a larger array.
void ScoreRows(const Model::Impl& model, const TrainingRow* rows, size_t n, size_t threads,
               RowScore kind, float* scores);

}  // namespace ipinsights
