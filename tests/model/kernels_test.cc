#include "ipinsights/model/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace ipinsights {
namespace {

// Every set this CPU can run, best last; each test runs the dispatched kernels under each.
std::vector<kernels::KernelSet> Sets() {
  std::vector<kernels::KernelSet> sets;
  kernels::LimitKernels(kernels::KernelSet::kAvx512);
  for (auto set :
       {kernels::KernelSet::kScalar, kernels::KernelSet::kAvx2, kernels::KernelSet::kAvx512}) {
    if (set <= kernels::ActiveKernelSet()) sets.push_back(set);
  }
  return sets;
}

// Limits the kernels for one scope of a test; the CPU's best again after it.
class ScopedKernelSet {
 public:
  explicit ScopedKernelSet(kernels::KernelSet set) { kernels::LimitKernels(set); }
  ~ScopedKernelSet() { kernels::LimitKernels(kernels::KernelSet::kAvx512); }
};

std::vector<float> Values(size_t n, float phase) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::sin(phase + 0.37f * i) * 1.5f;
  return v;
}

// Every length around the SIMD widths, so tails are exercised.
TEST(Kernels, DispatchedDotMatchesScalarReference) {
  for (auto set : Sets()) {
    ScopedKernelSet limit(set);
    for (size_t n = 0; n <= 140; ++n) {
      const auto a = Values(n, 0.1f), b = Values(n, 2.3f);
      const float reference = kernels::scalar::Dot(a.data(), b.data(), n);
      EXPECT_NEAR(kernels::Dot(a.data(), b.data(), n), reference, 1e-4f * (1 + n))
          << kernels::ActiveKernels() << " " << n;
    }
  }
}

void ExpectVecMatManyMatchesVecMat() {
  for (size_t cols : {1, 8, 16, 20, 32, 48, 100, 128}) {
    const size_t rows = 24;
    const auto w = Values(rows * cols, 0.9f);
    const auto u = Values(9 * rows, 0.2f);
    std::vector<const float*> pointers;
    for (size_t e = 0; e < 9; ++e) pointers.push_back(u.data() + e * rows);
    std::vector<float> all(9 * cols);
    kernels::VecMatMany(pointers.data(), 9, w.data(), rows, cols, all.data());
    for (size_t e = 0; e < 9; ++e) {
      std::vector<float> reference(cols), alone(cols);
      kernels::scalar::VecMat(pointers[e], w.data(), rows, cols, reference.data());
      kernels::VecMatMany(&pointers[e], 1, w.data(), rows, cols, alone.data());
      for (size_t c = 0; c < cols; ++c) {
        EXPECT_NEAR(all[e * cols + c], reference[c], 1e-5f * rows) << cols << " " << e << " " << c;
        EXPECT_EQ(all[e * cols + c], alone[c]) << cols << " " << e << " " << c;
      }
    }
  }
}

// Every count around the group of 4 and widths around the 16-column blocks; a vector's
// result is the same whichever batch it is in.
TEST(Kernels, VecMatManyMatchesVecMatAndIgnoresItsBatch) {
  for (auto set : Sets()) {
    ScopedKernelSet limit(set);
    SCOPED_TRACE(kernels::ActiveKernels());
    ExpectVecMatManyMatchesVecMat();
  }
}

TEST(Kernels, GemmTransposedAMatchesScalarAndIgnoresTheRowSplit) {
  const size_t n = 37;
  for (auto set : Sets()) {
    ScopedKernelSet limit(set);
    for (size_t m : {1, 4, 8, 13, 24}) {
      for (size_t k : {1, 8, 16, 20, 33, 128}) {
        const auto a = Values(n * m, 0.4f), b = Values(n * k, 1.7f);
        std::vector<float> reference(m * k), whole(m * k), split(m * k);
        kernels::scalar::GemmTransposedA(a.data(), b.data(), n, m, k, 0, m, reference.data());
        kernels::GemmTransposedA(a.data(), b.data(), n, m, k, 0, m, whole.data());
        for (size_t i = 0; i < m; i += 3) {
          kernels::GemmTransposedA(a.data(), b.data(), n, m, k, i, std::min(m, i + 3),
                                   split.data());
        }
        for (size_t x = 0; x < m * k; ++x) {
          EXPECT_NEAR(whole[x], reference[x], 1e-5f * n)
              << kernels::ActiveKernels() << " " << m << " " << k << " " << x;
          EXPECT_EQ(whole[x], split[x]) << kernels::ActiveKernels() << " " << m << " " << k;
        }
      }
    }
  }
}

void ExpectDotWithRowSumMatches() {
  for (int num_rows = 1; num_rows <= 4; ++num_rows) {
    for (size_t n = 0; n <= 140; ++n) {
      const auto a = Values(n, 0.3f);
      std::vector<std::vector<float>> rows;
      const float* pointers[4];
      std::vector<float> sum(n, 0.0f);
      for (int r = 0; r < num_rows; ++r) {
        rows.push_back(Values(n, 1.1f * r + 0.2f));
        pointers[r] = rows.back().data();
      }
      double magnitude = 0;
      for (size_t i = 0; i < n; ++i) {
        for (int r = 0; r < num_rows; ++r) sum[i] += rows[r][i];
        magnitude += std::fabs(a[i] * sum[i]);
      }
      const float reference = kernels::scalar::Dot(a.data(), sum.data(), n);
      const float tolerance = 1e-6f * (1 + n) * (1 + static_cast<float>(magnitude));
      EXPECT_NEAR(kernels::DotWithRowSum(a.data(), pointers, num_rows, n), reference, tolerance)
          << num_rows << " " << n;
      EXPECT_NEAR(kernels::scalar::DotWithRowSum(a.data(), pointers, num_rows, n), reference,
                  tolerance)
          << num_rows << " " << n;
    }
  }
}

// The dot product with a sum of 1..4 rows equals Dot(a, memcpy + Axpy(1) of the rows).
TEST(Kernels, DotWithRowSumMatchesDotOfTheSum) {
  for (auto set : Sets()) {
    ScopedKernelSet limit(set);
    SCOPED_TRACE(kernels::ActiveKernels());
    ExpectDotWithRowSumMatches();
  }
}

TEST(Kernels, DispatchedAxpyMatchesScalarReference) {
  for (auto set : Sets()) {
    ScopedKernelSet limit(set);
    for (size_t n = 0; n <= 140; ++n) {
      const auto x = Values(n, 0.5f);
      auto y = Values(n, 1.0f), y_ref = y;
      kernels::Axpy(-0.75f, x.data(), y.data(), n);
      kernels::scalar::Axpy(-0.75f, x.data(), y_ref.data(), n);
      for (size_t i = 0; i < n; ++i) {
        EXPECT_NEAR(y[i], y_ref[i], 1e-6f) << kernels::ActiveKernels() << " " << n << " " << i;
      }
    }
  }
}

// Adam and RMSprop (the same step without m) against their scalar references.
TEST(Kernels, DispatchedOptimiserStepsMatchScalarReference) {
  kernels::AdamStep step;
  step.learning_rate = 0.01f;
  step.weight_decay = 0.001f;
  for (auto set : Sets()) {
    ScopedKernelSet limit(set);
    for (bool momentum : {true, false}) {
      for (size_t n : {1, 7, 8, 9, 15, 16, 17, 64, 128, 131}) {
        auto w = Values(n, 0.2f), m = Values(n, 0.4f), g = Values(n, 0.9f);
        auto v = Values(n, 0.6f);
        for (float& x : v) x = x * x;
        auto w2 = w, m2 = m, v2 = v;
        if (momentum) {
          kernels::AdamUpdate(w.data(), m.data(), v.data(), g.data(), n, step);
          kernels::scalar::AdamUpdate(w2.data(), m2.data(), v2.data(), g.data(), n, step);
        } else {
          kernels::RmsPropUpdate(w.data(), v.data(), g.data(), n, step);
          kernels::scalar::RmsPropUpdate(w2.data(), v2.data(), g.data(), n, step);
        }
        for (size_t i = 0; i < n; ++i) {
          SCOPED_TRACE(testing::Message() << kernels::ActiveKernels() << " momentum " << momentum
                                          << " n " << n << " i " << i);
          EXPECT_NEAR(w[i], w2[i], 1e-6f);
          EXPECT_NEAR(m[i], m2[i], 1e-6f);  // untouched by RMSprop: equal
          EXPECT_NEAR(v[i], v2[i], 1e-6f);
        }
      }
    }
  }
}

// The step's formula (kernels.h), recomputed in double; beta1 plays no part.
TEST(Kernels, RmsPropStepFollowsItsFormula) {
  kernels::AdamStep step;
  step.learning_rate = 0.05f;
  step.weight_decay = 0.01f;
  float w[3] = {1.0f, -2.0f, 0.5f}, v[3] = {0.0f, 0.25f, 4.0f};
  const float g[3] = {2.0f, -0.5f, 0.0f};
  double expected_w[3], expected_v[3];
  for (int i = 0; i < 3; ++i) {
    // The constants as the kernel has them (0.999f is not 0.999).
    const double beta2 = step.beta2, one_minus_beta2 = 1.0f - step.beta2;
    const double grad = g[i] + double{step.weight_decay} * w[i];
    expected_v[i] = beta2 * v[i] + one_minus_beta2 * grad * grad;
    expected_w[i] = w[i] - double{step.learning_rate} * grad / (std::sqrt(expected_v[i]) + 1e-8);
  }
  kernels::RmsPropUpdate(w, v, g, 3, step);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(w[i], expected_w[i], 1e-6) << i;
    EXPECT_NEAR(v[i], expected_v[i], 1e-7) << i;
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

TEST(Kernels, LimitingToScalarSelectsTheFallback) {
  const kernels::KernelSet best = Sets().back();
  {
    ScopedKernelSet limit(kernels::KernelSet::kScalar);
    EXPECT_STREQ(kernels::ActiveKernels(), "scalar");
    const auto a = Values(33, 0.1f), b = Values(33, 0.2f);
    EXPECT_EQ(kernels::Dot(a.data(), b.data(), 33), kernels::scalar::Dot(a.data(), b.data(), 33));
  }
  EXPECT_EQ(kernels::ActiveKernelSet(), best);  // the scope's end lifted the limit
}

// The CPU's best is what the dispatch picks: AVX-512 where the CPU has it.
TEST(Kernels, DispatchPicksTheBestSetTheCpuHas) {
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const auto expected = !avx2                               ? kernels::KernelSet::kScalar
                        : __builtin_cpu_supports("avx512f") ? kernels::KernelSet::kAvx512
                                                            : kernels::KernelSet::kAvx2;
  EXPECT_EQ(kernels::ActiveKernelSet(), expected) << kernels::ActiveKernels();
}

}  // namespace
}  // namespace ipinsights
