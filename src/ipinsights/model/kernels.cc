#include "ipinsights/model/kernels.h"

#include <immintrin.h>

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

void AdamUpdate(float* w, float* m, float* v, const float* g, size_t n, const AdamStep& step) {
  for (size_t i = 0; i < n; ++i) {
    const float grad = g[i] + step.weight_decay * w[i];
    m[i] = step.beta1 * m[i] + (1.0f - step.beta1) * grad;
    v[i] = step.beta2 * v[i] + (1.0f - step.beta2) * grad * grad;
    w[i] -= step.learning_rate * m[i] / (std::sqrt(v[i]) + step.epsilon);
  }
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

__attribute__((target("avx2,fma"))) void AdamUpdate(float* w, float* m, float* v, const float* g,
                                                    size_t n, const AdamStep& step) {
  const __m256 b1 = _mm256_set1_ps(step.beta1), one_b1 = _mm256_set1_ps(1.0f - step.beta1);
  const __m256 b2 = _mm256_set1_ps(step.beta2), one_b2 = _mm256_set1_ps(1.0f - step.beta2);
  const __m256 lr = _mm256_set1_ps(step.learning_rate), eps = _mm256_set1_ps(step.epsilon);
  const __m256 wd = _mm256_set1_ps(step.weight_decay);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 wi = _mm256_loadu_ps(w + i);
    __m256 grad = _mm256_fmadd_ps(wd, wi, _mm256_loadu_ps(g + i));
    __m256 mi = _mm256_fmadd_ps(b1, _mm256_loadu_ps(m + i), _mm256_mul_ps(one_b1, grad));
    __m256 vi = _mm256_fmadd_ps(b2, _mm256_loadu_ps(v + i),
                                _mm256_mul_ps(one_b2, _mm256_mul_ps(grad, grad)));
    __m256 denom = _mm256_add_ps(_mm256_sqrt_ps(vi), eps);
    wi = _mm256_sub_ps(wi, _mm256_div_ps(_mm256_mul_ps(lr, mi), denom));
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
    _mm256_storeu_ps(w + i, wi);
  }
  if (i < n) scalar::AdamUpdate(w + i, m + i, v + i, g + i, n - i, step);
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
    if (col < k) {
      for (int r = 0; r < 4; ++r) {
        for (size_t cc = col; cc < k; ++cc) {
          float sum = 0.0f;
          for (size_t j = 0; j < n; ++j) sum += a[j * m + i + r] * b[j * k + cc];
          c[(i + r) * k + cc] = sum;
        }
      }
    }
  }
  if (i < i_end) scalar::GemmTransposedA(a, b, n, m, k, i, i_end, c);
}

}  // namespace avx2

namespace {

bool CpuHasAvx2Fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

const bool kHasAvx2Fma = CpuHasAvx2Fma();
std::atomic<bool> force_scalar{false};

bool UseAvx2() { return kHasAvx2Fma && !force_scalar.load(std::memory_order_relaxed); }

}  // namespace

float Dot(const float* a, const float* b, size_t n) {
  return UseAvx2() ? avx2::Dot(a, b, n) : scalar::Dot(a, b, n);
}

float DotWithRowSum(const float* a, const float* const* rows, int num_rows, size_t n) {
  return UseAvx2() ? avx2::DotWithRowSum(a, rows, num_rows, n)
                   : scalar::DotWithRowSum(a, rows, num_rows, n);
}

void Axpy(float alpha, const float* x, float* y, size_t n) {
  if (UseAvx2()) {
    avx2::Axpy(alpha, x, y, n);
  } else {
    scalar::Axpy(alpha, x, y, n);
  }
}

void AdamUpdate(float* w, float* m, float* v, const float* g, size_t n, const AdamStep& step) {
  if (UseAvx2()) {
    avx2::AdamUpdate(w, m, v, g, n, step);
  } else {
    scalar::AdamUpdate(w, m, v, g, n, step);
  }
}

void VecMat(const float* u, const float* w, size_t rows, size_t cols, float* v) {
  if (UseAvx2()) {
    avx2::VecMat(u, w, rows, cols, v);
  } else {
    scalar::VecMat(u, w, rows, cols, v);
  }
}

void VecMatMany(const float* const* u, size_t count, const float* w, size_t rows, size_t cols,
                float* v) {
  if (UseAvx2()) {
    avx2::VecMatMany(u, count, w, rows, cols, v);
  } else {
    scalar::VecMatMany(u, count, w, rows, cols, v);
  }
}

void GemmTransposedA(const float* a, const float* b, size_t n, size_t m, size_t k, size_t i_begin,
                     size_t i_end, float* c) {
  if (UseAvx2()) {
    avx2::GemmTransposedA(a, b, n, m, k, i_begin, i_end, c);
  } else {
    scalar::GemmTransposedA(a, b, n, m, k, i_begin, i_end, c);
  }
}

const char* ActiveKernels() { return UseAvx2() ? "avx2+fma" : "scalar"; }

void ForceScalarKernels(bool force) { force_scalar.store(force); }

}  // namespace ipinsights::kernels
