#include "ipinsights/model/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace ipinsights {
namespace {

std::vector<float> Values(size_t n, float phase) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::sin(phase + 0.37f * i) * 1.5f;
  return v;
}

// Every length around the SIMD widths, so tails are exercised.
TEST(Kernels, DispatchedDotMatchesScalarReference) {
  for (size_t n = 0; n <= 140; ++n) {
    const auto a = Values(n, 0.1f), b = Values(n, 2.3f);
    const float reference = kernels::scalar::Dot(a.data(), b.data(), n);
    EXPECT_NEAR(kernels::Dot(a.data(), b.data(), n), reference, 1e-4f * (1 + n)) << n;
  }
}

TEST(Kernels, DispatchedAxpyMatchesScalarReference) {
  for (size_t n = 0; n <= 140; ++n) {
    const auto x = Values(n, 0.5f);
    auto y = Values(n, 1.0f), y_ref = y;
    kernels::Axpy(-0.75f, x.data(), y.data(), n);
    kernels::scalar::Axpy(-0.75f, x.data(), y_ref.data(), n);
    for (size_t i = 0; i < n; ++i) EXPECT_NEAR(y[i], y_ref[i], 1e-6f) << n << " " << i;
  }
}

TEST(Kernels, DispatchedAdamMatchesScalarReference) {
  kernels::AdamStep step;
  step.learning_rate = 0.01f;
  step.weight_decay = 0.001f;
  for (size_t n : {1, 7, 8, 9, 64, 128, 131}) {
    auto w = Values(n, 0.2f), m = Values(n, 0.4f), g = Values(n, 0.9f);
    auto v = Values(n, 0.6f);
    for (float& x : v) x = x * x;
    auto w2 = w, m2 = m, v2 = v;
    kernels::AdamUpdate(w.data(), m.data(), v.data(), g.data(), n, step);
    kernels::scalar::AdamUpdate(w2.data(), m2.data(), v2.data(), g.data(), n, step);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_NEAR(w[i], w2[i], 1e-6f);
      EXPECT_NEAR(m[i], m2[i], 1e-6f);
      EXPECT_NEAR(v[i], v2[i], 1e-6f);
    }
  }
}

TEST(Kernels, AdamStepMovesAgainstTheGradientByAboutTheLearningRate) {
  // First step from zero moments with bias correction: |dw| = lr * |g| / (|g| + eps).
  kernels::AdamStep step;
  step.learning_rate = 0.1f * std::sqrt(1 - 0.999f) / (1 - 0.9f);
  float w[2] = {1.0f, 1.0f}, m[2] = {0, 0}, v[2] = {0, 0};
  const float g[2] = {2.0f, -0.5f};
  kernels::AdamUpdate(w, m, v, g, 2, step);
  EXPECT_NEAR(w[0], 0.9f, 1e-4f);
  EXPECT_NEAR(w[1], 1.1f, 1e-4f);
}

TEST(Kernels, ForcingScalarSelectsTheFallback) {
  kernels::ForceScalarKernels(true);
  EXPECT_STREQ(kernels::ActiveKernels(), "scalar");
  const auto a = Values(33, 0.1f), b = Values(33, 0.2f);
  EXPECT_EQ(kernels::Dot(a.data(), b.data(), 33), kernels::scalar::Dot(a.data(), b.data(), 33));
  kernels::ForceScalarKernels(false);
}

}  // namespace
}  // namespace ipinsights
