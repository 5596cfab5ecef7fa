// AreaUnderRoc: the probability that a random positive scores above a random negative
// (ties count one half), from the sorted scores (Mann-Whitney U).
//
// Thread-safety: a pure function.
//
//   double auc = AreaUnderRoc(normal_scores, attack_scores);  // higher = more normal
#pragma once

#include <vector>

namespace ipinsights {

// 0.5 when either side is empty.
double AreaUnderRoc(const std::vector<float>& positives, const std::vector<float>& negatives);

}  // namespace ipinsights
