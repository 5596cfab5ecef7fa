#include "ipinsights/train/discriminator_auc.h"

#include <cmath>
#include <limits>
#include <utility>

#include "ipinsights/base/hash.h"
#include "ipinsights/eval/labeled_scores.h"
#include "ipinsights/train/negative_sampler.h"
#include "ipinsights/train/row_scores.h"

namespace ipinsights {

// Each row against itself with a uniform random address of its family, scored as the
// trainer scores (the dot product, the last layer folded once per entity by ScoreRows).
double DiscriminatorAuc(const Model::Impl& model, const std::vector<TrainingRow>& rows,
                        uint64_t seed, size_t threads) {
  if (rows.empty()) return 0.5;
  const uint64_t stream = Mix64(seed ^ 0x56414c4944ULL);
  std::vector<TrainingRow> negative_rows(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    negative_rows[i] = {rows[i].entity_hash,
                        UniformRandomIp(!rows[i].ip.is_v4(), RandomAt(stream, i))};
  }
  std::vector<float> positives = ScoreRows(model, rows, threads, RowScore::kDotProduct);
  std::vector<float> negatives = ScoreRows(model, negative_rows, threads, RowScore::kDotProduct);
  for (const std::vector<float>* scores : {&positives, &negatives}) {
    for (float score : *scores) {
      if (std::isnan(score)) return std::numeric_limits<double>::quiet_NaN();
    }
  }
  return LabeledScores(std::move(positives), std::move(negatives)).Auc();
}

}  // namespace ipinsights
