// LogisticLoss: the training loss of one labelled sample and its derivative by the score.
//
// The model's score is log-odds that the pair is normal, so the loss is the binary
// cross-entropy of sigmoid(score) against label y (1 normal, 0 negative), with a sample
// weight w (shared/spec/ALGORITHM.md; the weights are the trainer's):
//   loss = w (log(1 + exp(score)) - y score) = w (softplus(score) - y score)
//   d loss / d score = w (sigmoid(score) - y)
//
// Thread-safety: pure functions.
//
//   SampleLoss s = LogisticLoss(score, /*label=*/1.0f, /*weight=*/1.0f, /*scale=*/1.0f / n);
#pragma once

#include <cmath>

namespace ipinsights {

// log(1 + exp(x)) without overflow.
inline double Softplus(double x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

inline float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

struct SampleLoss {
  double loss;     // w (softplus(score) - y score), in double: batches sum many of them
  float gradient;  // scale * d loss / d score
};

// `scale` multiplies the derivative only: 1 / (sum of the batch's weights) when the batch
// loss is the weighted mean.
inline SampleLoss LogisticLoss(float score, float label, float weight, float scale) {
  return {weight * (Softplus(score) - label * score), (Sigmoid(score) - label) * scale * weight};
}

}  // namespace ipinsights
