#include "ipinsights/model/kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cmath>

namespace ipinsights::kernels {

// ---- Scalar references: plain loops. ----
namespace scalar {

float Dot(const float* a, const float* b, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void Axpy(float alpha, const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

float DotWithRowSum(const float* a, const float* const* rows, int num_rows, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    float x = rows[0][i];
    for (int r = 1; r < num_rows; ++r) x += rows[r][i];
    sum += a[i] * x;
  }
  return sum;
}

// Adam (kMomentum) or RMSprop, Adam without the first moment (m unused).
template <bool kMomentum>
void OptimiserStep(float* w, float* m, float* v, const float* g, size_t n, const AdamStep& step) {
  for (size_t i = 0; i < n; ++i) {
    const float grad = g[i] + step.weight_decay * w[i];
    float direction = grad;
    if (kMomentum) direction = m[i] = step.beta1 * m[i] + (1.0f - step.beta1) * grad;
    v[i] = step.beta2 * v[i] + (1.0f - step.beta2) * grad * grad;
    w[i] -= step.learning_rate * direction / (std::sqrt(v[i]) + step.epsilon);
  }
}

void AdamUpdate(float* w, float* m, float* v, const float* g, size_t n, const AdamStep& step) {
  OptimiserStep<true>(w, m, v, g, n, step);
}

void RmsPropUpdate(float* w, float* v, const float* g, size_t n, const AdamStep& step) {
  OptimiserStep<false>(w, nullptr, v, g, n, step);
}

void VecMat(const float* u, const float* w, size_t rows, size_t cols, float* v) {
  for (size_t c = 0; c < cols; ++c) v[c] = 0.0f;
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) v[c] += u[r] * w[r * cols + c];
  }
}

void VecMatMany(const float* const* u, size_t count, const float* w, size_t rows, size_t cols,
                float* v) {
  for (size_t e = 0; e < count; ++e) VecMat(u[e], w, rows, cols, v + e * cols);
}

void GemmTransposedA(const float* a, const float* b, size_t n, size_t m, size_t k, size_t i_begin,
                     size_t i_end, float* c) {
  for (size_t i = i_begin; i < i_end; ++i) {
    for (size_t col = 0; col < k; ++col) c[i * k + col] = 0.0f;
    for (size_t j = 0; j < n; ++j) {
      const float aji = a[j * m + i];
      for (size_t col = 0; col < k; ++col) c[i * k + col] += aji * b[j * k + col];
    }
  }
}

}  // namespace scalar

// ---- AVX2/FMA: the same loops, 8 floats at a time. ----
namespace avx2 {

__attribute__((target("avx2,fma"))) float Dot(const float* a, const float* b, size_t n) {
  // Four independent accumulators hide the FMA latency.
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  }
  __m256 acc = _mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3));
  __m128 half = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  half = _mm_add_ps(half, _mm_movehl_ps(half, half));
  half = _mm_add_ss(half, _mm_movehdup_ps(half));
  float sum = _mm_cvtss_f32(half);
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// The row sum stays in registers; two accumulators (the loads of the rows dominate).
__attribute__((target("avx2,fma"))) float DotWithRowSum(const float* a, const float* const* rows,
                                                        int num_rows, size_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 x0 = _mm256_loadu_ps(rows[0] + i), x1 = _mm256_loadu_ps(rows[0] + i + 8);
    for (int r = 1; r < num_rows; ++r) {
      x0 = _mm256_add_ps(x0, _mm256_loadu_ps(rows[r] + i));
      x1 = _mm256_add_ps(x1, _mm256_loadu_ps(rows[r] + i + 8));
    }
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), x0, acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), x1, acc1);
  }
  for (; i + 8 <= n; i += 8) {
    __m256 x0 = _mm256_loadu_ps(rows[0] + i);
    for (int r = 1; r < num_rows; ++r) x0 = _mm256_add_ps(x0, _mm256_loadu_ps(rows[r] + i));
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), x0, acc0);
  }
  const __m256 acc = _mm256_add_ps(acc0, acc1);
  __m128 half = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  half = _mm_add_ps(half, _mm_movehl_ps(half, half));
  half = _mm_add_ss(half, _mm_movehdup_ps(half));
  float sum = _mm_cvtss_f32(half);
  for (; i < n; ++i) {
    float x = rows[0][i];
    for (int r = 1; r < num_rows; ++r) x += rows[r][i];
    sum += a[i] * x;
  }
  return sum;
}

__attribute__((target("avx2,fma"))) void Axpy(float alpha, const float* x, float* y, size_t n) {
  const __m256 a = _mm256_set1_ps(alpha);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += alpha * x[i];
}

// Adam (kMomentum) or RMSprop (m unused), as scalar::OptimiserStep.
template <bool kMomentum>
__attribute__((target("avx2,fma"))) void OptimiserStep(float* w, float* m, float* v, const float* g,
                                                       size_t n, const AdamStep& step) {
  const __m256 b1 = _mm256_set1_ps(step.beta1), one_b1 = _mm256_set1_ps(1.0f - step.beta1);
  const __m256 b2 = _mm256_set1_ps(step.beta2), one_b2 = _mm256_set1_ps(1.0f - step.beta2);
  const __m256 lr = _mm256_set1_ps(step.learning_rate), eps = _mm256_set1_ps(step.epsilon);
  const __m256 wd = _mm256_set1_ps(step.weight_decay);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 wi = _mm256_loadu_ps(w + i);
    const __m256 grad = _mm256_fmadd_ps(wd, wi, _mm256_loadu_ps(g + i));
    __m256 direction = grad;
    if (kMomentum) {
      direction = _mm256_fmadd_ps(b1, _mm256_loadu_ps(m + i), _mm256_mul_ps(one_b1, grad));
      _mm256_storeu_ps(m + i, direction);
    }
    const __m256 vi = _mm256_fmadd_ps(b2, _mm256_loadu_ps(v + i),
                                      _mm256_mul_ps(one_b2, _mm256_mul_ps(grad, grad)));
    const __m256 denom = _mm256_add_ps(_mm256_sqrt_ps(vi), eps);
    wi = _mm256_sub_ps(wi, _mm256_div_ps(_mm256_mul_ps(lr, direction), denom));
    _mm256_storeu_ps(v + i, vi);
    _mm256_storeu_ps(w + i, wi);
  }
  if (i < n) {
    scalar::OptimiserStep<kMomentum>(w + i, kMomentum ? m + i : nullptr, v + i, g + i, n - i, step);
  }
}

__attribute__((target("avx2,fma"))) void AdamUpdate(float* w, float* m, float* v, const float* g,
                                                    size_t n, const AdamStep& step) {
  OptimiserStep<true>(w, m, v, g, n, step);
}

__attribute__((target("avx2,fma"))) void RmsPropUpdate(float* w, float* v, const float* g, size_t n,
                                                       const AdamStep& step) {
  OptimiserStep<false>(w, nullptr, v, g, n, step);
}

// Accumulators stay in registers for a 32-column block while W streams past.
__attribute__((target("avx2,fma"))) void VecMat(const float* u, const float* w, size_t rows,
                                                size_t cols, float* v) {
  size_t c = 0;
  for (; c + 32 <= cols; c += 32) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    for (size_t r = 0; r < rows; ++r) {
      const __m256 ur = _mm256_set1_ps(u[r]);
      const float* row = w + r * cols + c;
      acc0 = _mm256_fmadd_ps(ur, _mm256_loadu_ps(row), acc0);
      acc1 = _mm256_fmadd_ps(ur, _mm256_loadu_ps(row + 8), acc1);
      acc2 = _mm256_fmadd_ps(ur, _mm256_loadu_ps(row + 16), acc2);
      acc3 = _mm256_fmadd_ps(ur, _mm256_loadu_ps(row + 24), acc3);
    }
    _mm256_storeu_ps(v + c, acc0);
    _mm256_storeu_ps(v + c + 8, acc1);
    _mm256_storeu_ps(v + c + 16, acc2);
    _mm256_storeu_ps(v + c + 24, acc3);
  }
  for (; c + 8 <= cols; c += 8) {
    __m256 acc = _mm256_setzero_ps();
    for (size_t r = 0; r < rows; ++r) {
      acc = _mm256_fmadd_ps(_mm256_set1_ps(u[r]), _mm256_loadu_ps(w + r * cols + c), acc);
    }
    _mm256_storeu_ps(v + c, acc);
  }
  for (; c < cols; ++c) {
    float sum = 0.0f;
    for (size_t r = 0; r < rows; ++r) sum += u[r] * w[r * cols + c];
    v[c] = sum;
  }
}

// Four vectors by 16 columns per block: each W load feeds four FMAs. Every output is the
// same FMA chain over r as in VecMat (16-column blocks, then 8, then a scalar tail, as
// VecMat's 32 and 8), so results equal VecMat's bit for bit and the last count % 4
// vectors simply go through VecMat.
__attribute__((target("avx2,fma"))) void VecMatMany(const float* const* u, size_t count,
                                                    const float* w, size_t rows, size_t cols,
                                                    float* v) {
  size_t e = 0;
  for (; e + 4 <= count; e += 4) {
    const float* group[4] = {u[e], u[e + 1], u[e + 2], u[e + 3]};
    size_t c = 0;
    const float* u0 = group[0];
    const float* u1 = group[1];
    const float* u2 = group[2];
    const float* u3 = group[3];
    for (; c + 16 <= cols; c += 16) {
      // Written out: the compiler keeps eight named accumulators in registers.
      __m256 a00 = _mm256_setzero_ps(), a01 = _mm256_setzero_ps();
      __m256 a10 = _mm256_setzero_ps(), a11 = _mm256_setzero_ps();
      __m256 a20 = _mm256_setzero_ps(), a21 = _mm256_setzero_ps();
      __m256 a30 = _mm256_setzero_ps(), a31 = _mm256_setzero_ps();
      const float* wc = w + c;
      for (size_t j = 0; j < rows; ++j, wc += cols) {
        const __m256 w0 = _mm256_loadu_ps(wc);
        const __m256 w1 = _mm256_loadu_ps(wc + 8);
        __m256 b = _mm256_broadcast_ss(u0 + j);
        a00 = _mm256_fmadd_ps(b, w0, a00);
        a01 = _mm256_fmadd_ps(b, w1, a01);
        b = _mm256_broadcast_ss(u1 + j);
        a10 = _mm256_fmadd_ps(b, w0, a10);
        a11 = _mm256_fmadd_ps(b, w1, a11);
        b = _mm256_broadcast_ss(u2 + j);
        a20 = _mm256_fmadd_ps(b, w0, a20);
        a21 = _mm256_fmadd_ps(b, w1, a21);
        b = _mm256_broadcast_ss(u3 + j);
        a30 = _mm256_fmadd_ps(b, w0, a30);
        a31 = _mm256_fmadd_ps(b, w1, a31);
      }
      const __m256 results[4][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
      for (size_t r = 0; r < 4; ++r) {
        _mm256_storeu_ps(v + (e + r) * cols + c, results[r][0]);
        _mm256_storeu_ps(v + (e + r) * cols + c + 8, results[r][1]);
      }
    }
    for (; c + 8 <= cols; c += 8) {
      for (size_t r = 0; r < 4; ++r) {
        __m256 acc = _mm256_setzero_ps();
        for (size_t j = 0; j < rows; ++j) {
          acc =
              _mm256_fmadd_ps(_mm256_set1_ps(group[r][j]), _mm256_loadu_ps(w + j * cols + c), acc);
        }
        _mm256_storeu_ps(v + (e + r) * cols + c, acc);
      }
    }
    for (; c < cols; ++c) {
      for (size_t r = 0; r < 4; ++r) {
        float sum = 0.0f;
        for (size_t j = 0; j < rows; ++j) sum += group[r][j] * w[j * cols + c];
        v[(e + r) * cols + c] = sum;
      }
    }
  }
  for (; e < count; ++e) VecMat(u[e], w, rows, cols, v + e * cols);
}

// Rows [i_begin, i_end) of C from column col_begin on, one output at a time: the same
// FMA chain over j as the blocks, so an output's bits do not depend on which code (or
// which caller's split of the rows) computed it.
__attribute__((target("avx2,fma"))) void GemmTransposedATail(const float* a, const float* b,
                                                             size_t n, size_t m, size_t k,
                                                             size_t i_begin, size_t i_end,
                                                             size_t col_begin, float* c) {
  for (size_t i = i_begin; i < i_end; ++i) {
    for (size_t col = col_begin; col < k; ++col) {
      float sum = 0.0f;
      for (size_t j = 0; j < n; ++j) sum = __builtin_fmaf(a[j * m + i], b[j * k + col], sum);
      c[i * k + col] = sum;
    }
  }
}

// Four rows of C by 16 columns per block: each B load feeds four FMAs.
__attribute__((target("avx2,fma"))) void GemmTransposedA(const float* a, const float* b, size_t n,
                                                         size_t m, size_t k, size_t i_begin,
                                                         size_t i_end, float* c) {
  size_t i = i_begin;
  for (; i + 4 <= i_end; i += 4) {
    size_t col = 0;
    for (; col + 16 <= k; col += 16) {
      __m256 acc[4][2];
      for (int r = 0; r < 4; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
      for (size_t j = 0; j < n; ++j) {
        const __m256 b0 = _mm256_loadu_ps(b + j * k + col);
        const __m256 b1 = _mm256_loadu_ps(b + j * k + col + 8);
        const float* aj = a + j * m + i;
        for (int r = 0; r < 4; ++r) {
          const __m256 ar = _mm256_set1_ps(aj[r]);
          acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
          acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
        }
      }
      for (int r = 0; r < 4; ++r) {
        _mm256_storeu_ps(c + (i + r) * k + col, acc[r][0]);
        _mm256_storeu_ps(c + (i + r) * k + col + 8, acc[r][1]);
      }
    }
    if (col < k) GemmTransposedATail(a, b, n, m, k, i, i + 4, col, c);
  }
  GemmTransposedATail(a, b, n, m, k, i, i_end, 0, c);
}

}  // namespace avx2

// ---- AVX-512: the same loops, 16 floats at a time; tails with masked loads. ----
// Zen 5 and recent Intel cores execute 512-bit FMAs at full rate (measured on this project's
// AMD EPYC (Zen 5) machines: see bench/kernels_bench.cc and the README's performance table).
namespace avx512 {

// GCC 12's own AVX-512 headers (_mm512_undefined_ps inside _mm512_sqrt_ps and
// _mm512_reduce_add_ps) trip its uninitialized-use warnings: false positives.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define IPI_AVX512 __attribute__((target("avx512f,avx2,fma")))

// The mask of the first n % 16 lanes (n < 16).
IPI_AVX512 inline __mmask16 TailMask(size_t n) { return static_cast<__mmask16>((1u << n) - 1); }

IPI_AVX512 float Dot(const float* a, const float* b, size_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
    acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), acc2);
    acc3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), acc3);
  }
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
  }
  if (i < n) {
    const __mmask16 mask = TailMask(n - i);
    acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i),
                           acc1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

IPI_AVX512 float DotWithRowSum(const float* a, const float* const* rows, int num_rows, size_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 mask = i + 16 <= n ? static_cast<__mmask16>(0xffff) : TailMask(n - i);
    __m512 x = _mm512_maskz_loadu_ps(mask, rows[0] + i);
    for (int r = 1; r < num_rows; ++r)
      x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask, rows[r] + i));
    if ((i / 16) % 2 == 0) {
      acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, a + i), x, acc0);
    } else {
      acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, a + i), x, acc1);
    }
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

IPI_AVX512 void Axpy(float alpha, const float* x, float* y, size_t n) {
  const __m512 a = _mm512_set1_ps(alpha);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(a, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  }
  if (i < n) {
    const __mmask16 mask = TailMask(n - i);
    const __m512 sum =
        _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(mask, x + i), _mm512_maskz_loadu_ps(mask, y + i));
    _mm512_mask_storeu_ps(y + i, mask, sum);
  }
}

// Adam (kMomentum) or RMSprop (m unused), as scalar::OptimiserStep.
template <bool kMomentum>
IPI_AVX512 void OptimiserStep(float* w, float* m, float* v, const float* g, size_t n,
                              const AdamStep& step) {
  const __m512 b1 = _mm512_set1_ps(step.beta1), one_b1 = _mm512_set1_ps(1.0f - step.beta1);
  const __m512 b2 = _mm512_set1_ps(step.beta2), one_b2 = _mm512_set1_ps(1.0f - step.beta2);
  const __m512 lr = _mm512_set1_ps(step.learning_rate), eps = _mm512_set1_ps(step.epsilon);
  const __m512 wd = _mm512_set1_ps(step.weight_decay);
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 mask = i + 16 <= n ? static_cast<__mmask16>(0xffff) : TailMask(n - i);
    __m512 wi = _mm512_maskz_loadu_ps(mask, w + i);
    const __m512 grad = _mm512_fmadd_ps(wd, wi, _mm512_maskz_loadu_ps(mask, g + i));
    __m512 direction = grad;
    if (kMomentum) {
      direction =
          _mm512_fmadd_ps(b1, _mm512_maskz_loadu_ps(mask, m + i), _mm512_mul_ps(one_b1, grad));
      _mm512_mask_storeu_ps(m + i, mask, direction);
    }
    const __m512 vi = _mm512_fmadd_ps(b2, _mm512_maskz_loadu_ps(mask, v + i),
                                      _mm512_mul_ps(one_b2, _mm512_mul_ps(grad, grad)));
    const __m512 denom = _mm512_add_ps(_mm512_sqrt_ps(vi), eps);
    wi = _mm512_sub_ps(wi, _mm512_div_ps(_mm512_mul_ps(lr, direction), denom));
    _mm512_mask_storeu_ps(v + i, mask, vi);
    _mm512_mask_storeu_ps(w + i, mask, wi);
  }
}

IPI_AVX512 void AdamUpdate(float* w, float* m, float* v, const float* g, size_t n,
                           const AdamStep& step) {
  OptimiserStep<true>(w, m, v, g, n, step);
}

IPI_AVX512 void RmsPropUpdate(float* w, float* v, const float* g, size_t n, const AdamStep& step) {
  OptimiserStep<false>(w, nullptr, v, g, n, step);
}

// Accumulators stay in registers for a 64-column block while W streams past; the last
// block is masked. Every output is one FMA chain over r from zero, as in VecMatMany.
IPI_AVX512 void VecMat(const float* u, const float* w, size_t rows, size_t cols, float* v) {
  size_t c = 0;
  for (; c + 64 <= cols; c += 64) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
    for (size_t r = 0; r < rows; ++r) {
      const __m512 ur = _mm512_set1_ps(u[r]);
      const float* row = w + r * cols + c;
      acc0 = _mm512_fmadd_ps(ur, _mm512_loadu_ps(row), acc0);
      acc1 = _mm512_fmadd_ps(ur, _mm512_loadu_ps(row + 16), acc1);
      acc2 = _mm512_fmadd_ps(ur, _mm512_loadu_ps(row + 32), acc2);
      acc3 = _mm512_fmadd_ps(ur, _mm512_loadu_ps(row + 48), acc3);
    }
    _mm512_storeu_ps(v + c, acc0);
    _mm512_storeu_ps(v + c + 16, acc1);
    _mm512_storeu_ps(v + c + 32, acc2);
    _mm512_storeu_ps(v + c + 48, acc3);
  }
  for (; c < cols; c += 16) {
    const __mmask16 mask = c + 16 <= cols ? static_cast<__mmask16>(0xffff) : TailMask(cols - c);
    __m512 acc = _mm512_setzero_ps();
    for (size_t r = 0; r < rows; ++r) {
      acc =
          _mm512_fmadd_ps(_mm512_set1_ps(u[r]), _mm512_maskz_loadu_ps(mask, w + r * cols + c), acc);
    }
    _mm512_mask_storeu_ps(v + c, mask, acc);
  }
}

// Four vectors by 32 columns per block: each W load feeds four FMAs. The same FMA chain per
// output as VecMat, so results equal VecMat's bit for bit; the last count % 4 vectors go
// through VecMat.
IPI_AVX512 void VecMatMany(const float* const* u, size_t count, const float* w, size_t rows,
                           size_t cols, float* v) {
  size_t e = 0;
  for (; e + 4 <= count; e += 4) {
    const float* u0 = u[e];
    const float* u1 = u[e + 1];
    const float* u2 = u[e + 2];
    const float* u3 = u[e + 3];
    for (size_t c = 0; c < cols; c += 32) {
      // Two 16-lane halves; the second is masked (or empty) at the end of a row.
      const __mmask16 mask0 = c + 16 <= cols ? static_cast<__mmask16>(0xffff) : TailMask(cols - c);
      const __mmask16 mask1 = c + 32 <= cols  ? static_cast<__mmask16>(0xffff)
                              : c + 16 < cols ? TailMask(cols - c - 16)
                                              : static_cast<__mmask16>(0);
      __m512 a00 = _mm512_setzero_ps(), a01 = _mm512_setzero_ps();
      __m512 a10 = _mm512_setzero_ps(), a11 = _mm512_setzero_ps();
      __m512 a20 = _mm512_setzero_ps(), a21 = _mm512_setzero_ps();
      __m512 a30 = _mm512_setzero_ps(), a31 = _mm512_setzero_ps();
      const float* wc = w + c;
      for (size_t j = 0; j < rows; ++j, wc += cols) {
        const __m512 w0 = _mm512_maskz_loadu_ps(mask0, wc);
        const __m512 w1 = _mm512_maskz_loadu_ps(mask1, wc + 16);
        __m512 b = _mm512_set1_ps(u0[j]);
        a00 = _mm512_fmadd_ps(b, w0, a00);
        a01 = _mm512_fmadd_ps(b, w1, a01);
        b = _mm512_set1_ps(u1[j]);
        a10 = _mm512_fmadd_ps(b, w0, a10);
        a11 = _mm512_fmadd_ps(b, w1, a11);
        b = _mm512_set1_ps(u2[j]);
        a20 = _mm512_fmadd_ps(b, w0, a20);
        a21 = _mm512_fmadd_ps(b, w1, a21);
        b = _mm512_set1_ps(u3[j]);
        a30 = _mm512_fmadd_ps(b, w0, a30);
        a31 = _mm512_fmadd_ps(b, w1, a31);
      }
      const __m512 results[4][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
      for (size_t r = 0; r < 4; ++r) {
        _mm512_mask_storeu_ps(v + (e + r) * cols + c, mask0, results[r][0]);
        _mm512_mask_storeu_ps(v + (e + r) * cols + c + 16, mask1, results[r][1]);
      }
    }
  }
  for (; e < count; ++e) VecMat(u[e], w, rows, cols, v + e * cols);
}

// Eight rows of C by 32 columns per block: each pair of B loads feeds sixteen FMAs.
IPI_AVX512 void GemmTransposedA(const float* a, const float* b, size_t n, size_t m, size_t k,
                                size_t i_begin, size_t i_end, float* c) {
  constexpr size_t kRows = 8;
  size_t i = i_begin;
  for (; i + kRows <= i_end; i += kRows) {
    for (size_t col = 0; col < k; col += 32) {
      const __mmask16 mask0 = col + 16 <= k ? static_cast<__mmask16>(0xffff) : TailMask(k - col);
      const __mmask16 mask1 = col + 32 <= k  ? static_cast<__mmask16>(0xffff)
                              : col + 16 < k ? TailMask(k - col - 16)
                                             : static_cast<__mmask16>(0);
      __m512 acc[kRows][2];
      for (size_t r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
      for (size_t j = 0; j < n; ++j) {
        const __m512 b0 = _mm512_maskz_loadu_ps(mask0, b + j * k + col);
        const __m512 b1 = _mm512_maskz_loadu_ps(mask1, b + j * k + col + 16);
        const float* aj = a + j * m + i;
        for (size_t r = 0; r < kRows; ++r) {
          const __m512 ar = _mm512_set1_ps(aj[r]);
          acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
          acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
        }
      }
      for (size_t r = 0; r < kRows; ++r) {
        _mm512_mask_storeu_ps(c + (i + r) * k + col, mask0, acc[r][0]);
        _mm512_mask_storeu_ps(c + (i + r) * k + col + 16, mask1, acc[r][1]);
      }
    }
  }
  avx2::GemmTransposedA(a, b, n, m, k, i, i_end, c);  // the last i_end - i < 8 rows
}

#undef IPI_AVX512
#pragma GCC diagnostic pop

}  // namespace avx512

namespace {

KernelSet BestKernelSet() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return KernelSet::kScalar;
  return __builtin_cpu_supports("avx512f") ? KernelSet::kAvx512 : KernelSet::kAvx2;
}

const KernelSet kBest = BestKernelSet();
std::atomic<KernelSet> limit{KernelSet::kAvx512};

KernelSet Active() { return std::min(kBest, limit.load(std::memory_order_relaxed)); }

}  // namespace

// Each kernel: the best set the CPU has, at most the limit.
#define IPI_DISPATCH(call)   \
  switch (Active()) {        \
    case KernelSet::kAvx512: \
      return avx512::call;   \
    case KernelSet::kAvx2:   \
      return avx2::call;     \
    case KernelSet::kScalar: \
      break;                 \
  }                          \
  return scalar::call

float Dot(const float* a, const float* b, size_t n) { IPI_DISPATCH(Dot(a, b, n)); }

float DotWithRowSum(const float* a, const float* const* rows, int num_rows, size_t n) {
  IPI_DISPATCH(DotWithRowSum(a, rows, num_rows, n));
}

void Axpy(float alpha, const float* x, float* y, size_t n) { IPI_DISPATCH(Axpy(alpha, x, y, n)); }

void AdamUpdate(float* w, float* m, float* v, const float* g, size_t n, const AdamStep& step) {
  IPI_DISPATCH(AdamUpdate(w, m, v, g, n, step));
}

void RmsPropUpdate(float* w, float* v, const float* g, size_t n, const AdamStep& step) {
  IPI_DISPATCH(RmsPropUpdate(w, v, g, n, step));
}

void VecMat(const float* u, const float* w, size_t rows, size_t cols, float* v) {
  IPI_DISPATCH(VecMat(u, w, rows, cols, v));
}

void VecMatMany(const float* const* u, size_t count, const float* w, size_t rows, size_t cols,
                float* v) {
  IPI_DISPATCH(VecMatMany(u, count, w, rows, cols, v));
}

void GemmTransposedA(const float* a, const float* b, size_t n, size_t m, size_t k, size_t i_begin,
                     size_t i_end, float* c) {
  IPI_DISPATCH(GemmTransposedA(a, b, n, m, k, i_begin, i_end, c));
}

#undef IPI_DISPATCH

KernelSet ActiveKernelSet() { return Active(); }

const char* ActiveKernels() {
  switch (Active()) {
    case KernelSet::kAvx512:
      return "avx512";
    case KernelSet::kAvx2:
      return "avx2+fma";
    case KernelSet::kScalar:
      break;
  }
  return "scalar";
}

void LimitKernels(KernelSet max) { limit.store(max); }

}  // namespace ipinsights::kernels
