// Kernels: the few vector operations training and scoring spend their time in.
//
// Each has a plain scalar loop (the reference, and the fallback on any CPU), an AVX2/FMA
// version and an AVX-512 one; the best the CPU has is chosen once at run time with
// __builtin_cpu_supports (no -march=native in the build). Results of the three differ only
// by floating-point summation order.
//
// Thread-safety: pure functions over caller-owned memory.
//
//   float s = kernels::Dot(entity_row, ip_embedding, dim);
//   kernels::Axpy(g, ip_embedding, entity_gradient, dim);   // y += a * x
#pragma once

#include <cstddef>

namespace ipinsights::kernels {

// Adam's constants for one step; see AdamUpdate.
struct AdamStep {
  float learning_rate;  // already bias-corrected: lr * sqrt(1 - beta2^t) / (1 - beta1^t)
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-8f;
  float weight_decay = 0.0f;  // L2: adds weight_decay * w to the gradient
};

// sum_i a[i] * b[i]
float Dot(const float* a, const float* b, size_t n);

// y[i] += alpha * x[i]
void Axpy(float alpha, const float* x, float* y, size_t n);

// v[c] = sum_r u[r] * w[r * cols + c] for c < cols (v = u^T W; W rows x cols, row-major).
void VecMat(const float* u, const float* w, size_t rows, size_t cols, float* v);

// v[e * cols + c] = sum_r u[e][r] * w[r * cols + c] for e < count, c < cols: VecMat of
// `count` vectors at once (each block of W is loaded once per 4 vectors). Every output
// is summed over r in increasing order by the same code whatever `count` and the
// vector's position, so a vector's result does not depend on what it is batched with.
void VecMatMany(const float* const* u, size_t count, const float* w, size_t rows, size_t cols,
                float* v);

// sum_i a[i] * (rows[0][i] + rows[1][i] + ... + rows[num_rows - 1][i]), num_rows >= 1: the
// dot product of `a` with a sum of rows, without writing the sum (scoring: folded entity
// vector . sum of an address's prefix rows). The rows are added in order, as
// memcpy + Axpy(1, ...) would.
float DotWithRowSum(const float* a, const float* const* rows, int num_rows, size_t n);

// c[i * k + col] = sum_j a[j * m + i] * b[j * k + col] for i in [i_begin, i_end), col < k
// (C = A^T B restricted to rows i_begin..i_end of C; A is n x m, B is n x k, row-major).
// Rows of C are overwritten. Each output is summed over j in increasing
// order, so results do not depend on how callers split the rows among threads.
void GemmTransposedA(const float* a, const float* b, size_t n, size_t m, size_t k, size_t i_begin,
                     size_t i_end, float* c);

// One Adam step on n parameters w with moments m, v and gradient g:
//   g' = g + weight_decay * w
//   m = beta1 m + (1 - beta1) g'        v = beta2 v + (1 - beta2) g'^2
//   w -= learning_rate * m / (sqrt(v) + epsilon)
void AdamUpdate(float* w, float* m, float* v, const float* g, size_t n, const AdamStep& step);

// One RMSprop step (Adam without its first moment: beta1 = 0) on n parameters w with second
// moment v and gradient g; step.beta1 is not used:
//   g' = g + weight_decay * w
//   v = beta2 v + (1 - beta2) g'^2
//   w -= learning_rate * g' / (sqrt(v) + epsilon)
void RmsPropUpdate(float* w, float* v, const float* g, size_t n, const AdamStep& step);

// Asks for the cache lines of the n floats at p, to be read (for_write false) or written.
// Embedding rows are scattered over large tables, so the first touch of each would
// otherwise stall (measured: Adam on touched rows was the largest cost of a step before).
// A hint only: no effect on any result.
inline void Prefetch(const float* p, size_t n, bool for_write) {
  const char* bytes = reinterpret_cast<const char*>(p);
  for (size_t offset = 0; offset < n * sizeof(float); offset += 64) {
    if (for_write) {
      __builtin_prefetch(bytes + offset, 1);
    } else {
      __builtin_prefetch(bytes + offset, 0);
    }
  }
}

// The kernel sets, in order: each CPU gets the best it has.
enum class KernelSet { kScalar, kAvx2, kAvx512 };

// What the dispatch picked: its set, and its name ("avx512", "avx2+fma" or "scalar").
KernelSet ActiveKernelSet();
const char* ActiveKernels();

// Tests and benchmarks: use at most `max` (kScalar forces the fallback; kAvx512 goes back
// to the CPU's best).
void LimitKernels(KernelSet max);

// The scalar references, always available (tests compare against them).
namespace scalar {
float Dot(const float* a, const float* b, size_t n);
float DotWithRowSum(const float* a, const float* const* rows, int num_rows, size_t n);
void Axpy(float alpha, const float* x, float* y, size_t n);
void AdamUpdate(float* w, float* m, float* v, const float* g, size_t n, const AdamStep& step);
void RmsPropUpdate(float* w, float* v, const float* g, size_t n, const AdamStep& step);
void VecMat(const float* u, const float* w, size_t rows, size_t cols, float* v);
void VecMatMany(const float* const* u, size_t count, const float* w, size_t rows, size_t cols,
                float* v);
void GemmTransposedA(const float* a, const float* b, size_t n, size_t m, size_t k, size_t i_begin,
                     size_t i_end, float* c);
}  // namespace scalar

}  // namespace ipinsights::kernels
