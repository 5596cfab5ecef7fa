// Kernel micro-benchmarks: the dispatched kernels (the CPU's best, AVX-512 where it has it,
// and limited to AVX2/FMA) against their scalar references, each checking its result against
// the reference first so a fast wrong answer fails.
//
//   build/<dir>/kernels_bench --benchmark_filter=Dot
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/base/hash.h"
#include "ipinsights/model/kernels.h"
#include "ipinsights/model/model.h"
#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {
namespace {

std::vector<float> Values(size_t n, float phase) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::sin(phase + 0.37f * static_cast<float>(i));
  return v;
}

void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "kernels_bench: %s differs from the scalar reference\n", what);
    std::abort();
  }
}

bool Close(const std::vector<float>& a, const std::vector<float>& b, float tolerance) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::fabs(a[i] - b[i]) > tolerance * (1 + std::fabs(b[i]))) return false;
  }
  return true;
}

// kSet: the scalar reference, the dispatched kernels limited to AVX2/FMA, or the CPU's best
// (AVX-512 where it has it: the label says which ran).
constexpr int kReference = 0, kAvx2Only = 1, kBest = 2;

class KernelLimit {
 public:
  explicit KernelLimit(int set) {
    kernels::LimitKernels(set == kAvx2Only ? kernels::KernelSet::kAvx2
                                           : kernels::KernelSet::kAvx512);
  }
  ~KernelLimit() { kernels::LimitKernels(kernels::KernelSet::kAvx512); }
};

template <int kSet>
void BM_Dot(benchmark::State& state) {
  const KernelLimit limit(kSet);
  const size_t n = static_cast<size_t>(state.range(0));
  const auto a = Values(n, 0.1f), b = Values(n, 0.7f);
  const float reference = kernels::scalar::Dot(a.data(), b.data(), n);
  auto dot = kSet == kReference ? kernels::scalar::Dot : kernels::Dot;
  Require(std::fabs(dot(a.data(), b.data(), n) - reference) < 1e-3f * (1 + n), "Dot");
  for (auto _ : state) benchmark::DoNotOptimize(dot(a.data(), b.data(), n));
  state.SetItemsProcessed(state.iterations() * n);
  state.SetLabel(kSet == kReference ? "reference" : kernels::ActiveKernels());
}
BENCHMARK(BM_Dot<kBest>)->Arg(128)->Arg(1024);
BENCHMARK(BM_Dot<kAvx2Only>)->Arg(128)->Arg(1024);
BENCHMARK(BM_Dot<kReference>)->Arg(128)->Arg(1024);

template <int kSet>
void BM_Axpy(benchmark::State& state) {
  const KernelLimit limit(kSet);
  const size_t n = static_cast<size_t>(state.range(0));
  const auto x = Values(n, 0.1f);
  auto y = Values(n, 0.3f), y_ref = y;
  auto axpy = kSet == kReference ? kernels::scalar::Axpy : kernels::Axpy;
  axpy(0.5f, x.data(), y.data(), n);
  kernels::scalar::Axpy(0.5f, x.data(), y_ref.data(), n);
  Require(Close(y, y_ref, 1e-6f), "Axpy");
  for (auto _ : state) {
    axpy(1e-9f, x.data(), y.data(), n);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetLabel(kSet == kReference ? "reference" : kernels::ActiveKernels());
}
BENCHMARK(BM_Axpy<kBest>)->Arg(128);
BENCHMARK(BM_Axpy<kAvx2Only>)->Arg(128);
BENCHMARK(BM_Axpy<kReference>)->Arg(128);

template <int kSet>
void BM_AdamUpdate(benchmark::State& state) {
  const KernelLimit limit(kSet);
  const size_t n = static_cast<size_t>(state.range(0));
  kernels::AdamStep step;
  step.learning_rate = 1e-3f;
  step.weight_decay = 1e-5f;
  auto w = Values(n, 0.1f), m = Values(n, 0.2f), v = Values(n, 0.3f);
  for (float& x : v) x *= x;
  const auto g = Values(n, 0.4f);
  auto w2 = w, m2 = m, v2 = v;
  auto adam = kSet == kReference ? kernels::scalar::AdamUpdate : kernels::AdamUpdate;
  adam(w.data(), m.data(), v.data(), g.data(), n, step);
  kernels::scalar::AdamUpdate(w2.data(), m2.data(), v2.data(), g.data(), n, step);
  Require(Close(w, w2, 1e-6f) && Close(v, v2, 1e-6f), "AdamUpdate");
  for (auto _ : state) {
    adam(w.data(), m.data(), v.data(), g.data(), n, step);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetLabel(kSet == kReference ? "reference" : kernels::ActiveKernels());
}
BENCHMARK(BM_AdamUpdate<kBest>)->Arg(128);
BENCHMARK(BM_AdamUpdate<kAvx2Only>)->Arg(128);
BENCHMARK(BM_AdamUpdate<kReference>)->Arg(128);

template <int kSet>
void BM_RmsPropUpdate(benchmark::State& state) {
  const KernelLimit limit(kSet);
  const size_t n = static_cast<size_t>(state.range(0));
  kernels::AdamStep step;
  step.learning_rate = 1e-3f;
  step.weight_decay = 1e-5f;
  auto w = Values(n, 0.1f), v = Values(n, 0.3f);
  for (float& x : v) x *= x;
  const auto g = Values(n, 0.4f);
  auto w2 = w, v2 = v;
  auto rmsprop = kSet == kReference ? kernels::scalar::RmsPropUpdate : kernels::RmsPropUpdate;
  rmsprop(w.data(), v.data(), g.data(), n, step);
  kernels::scalar::RmsPropUpdate(w2.data(), v2.data(), g.data(), n, step);
  Require(Close(w, w2, 1e-6f) && Close(v, v2, 1e-6f), "RmsPropUpdate");
  for (auto _ : state) {
    rmsprop(w.data(), v.data(), g.data(), n, step);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetLabel(kSet == kReference ? "reference" : kernels::ActiveKernels());
}
BENCHMARK(BM_RmsPropUpdate<kBest>)->Arg(128);
BENCHMARK(BM_RmsPropUpdate<kAvx2Only>)->Arg(128);
BENCHMARK(BM_RmsPropUpdate<kReference>)->Arg(128);

// v = u^T W for a 128 x 128 layer: once per entity per mini-batch.
template <int kSet>
void BM_VecMat(benchmark::State& state) {
  const KernelLimit limit(kSet);
  const size_t d = static_cast<size_t>(state.range(0));
  const auto u = Values(d, 0.1f), w = Values(d * d, 0.5f);
  std::vector<float> v(d), v_ref(d);
  auto vecmat = kSet == kReference ? kernels::scalar::VecMat : kernels::VecMat;
  vecmat(u.data(), w.data(), d, d, v.data());
  kernels::scalar::VecMat(u.data(), w.data(), d, d, v_ref.data());
  Require(Close(v, v_ref, 1e-4f), "VecMat");
  for (auto _ : state) {
    vecmat(u.data(), w.data(), d, d, v.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * d * d);
  state.SetLabel(kSet == kReference ? "reference" : kernels::ActiveKernels());
}
BENCHMARK(BM_VecMat<kBest>)->Arg(128);
BENCHMARK(BM_VecMat<kAvx2Only>)->Arg(128);
BENCHMARK(BM_VecMat<kReference>)->Arg(128);

// v_e = u_e^T W for 64 vectors u_e at once, 128 x 128 (folding entities for scoring).
template <int kSet>
void BM_VecMatMany(benchmark::State& state) {
  const KernelLimit limit(kSet);
  const size_t d = static_cast<size_t>(state.range(0)), count = 64;
  const auto u = Values(count * d, 0.1f), w = Values(d * d, 0.5f);
  std::vector<const float*> pointers;
  for (size_t e = 0; e < count; ++e) pointers.push_back(u.data() + e * d);
  std::vector<float> v(count * d), v_ref(count * d);
  auto vecmat = kSet == kReference ? kernels::scalar::VecMatMany : kernels::VecMatMany;
  vecmat(pointers.data(), count, w.data(), d, d, v.data());
  kernels::scalar::VecMatMany(pointers.data(), count, w.data(), d, d, v_ref.data());
  Require(Close(v, v_ref, 1e-4f), "VecMatMany");
  for (auto _ : state) {
    vecmat(pointers.data(), count, w.data(), d, d, v.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * count * d * d);
  state.SetLabel(kSet == kReference ? "reference" : kernels::ActiveKernels());
}
BENCHMARK(BM_VecMatMany<kBest>)->Arg(128);
BENCHMARK(BM_VecMatMany<kAvx2Only>)->Arg(128);
BENCHMARK(BM_VecMatMany<kReference>)->Arg(128);

// dW = U^T dV over a mini-batch of 1000 pairs, 128 x 128.
template <int kSet>
void BM_GemmTransposedA(benchmark::State& state) {
  const KernelLimit limit(kSet);
  const size_t n = 1000, d = static_cast<size_t>(state.range(0));
  const auto a = Values(n * d, 0.1f), b = Values(n * d, 0.9f);
  std::vector<float> c(d * d), c_ref(d * d);
  auto gemm = kSet == kReference ? kernels::scalar::GemmTransposedA : kernels::GemmTransposedA;
  gemm(a.data(), b.data(), n, d, d, 0, d, c.data());
  kernels::scalar::GemmTransposedA(a.data(), b.data(), n, d, d, 0, d, c_ref.data());
  Require(Close(c, c_ref, 1e-3f), "GemmTransposedA");
  for (auto _ : state) {
    gemm(a.data(), b.data(), n, d, d, 0, d, c.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n * d * d);
  state.SetLabel(kSet == kReference ? "reference" : kernels::ActiveKernels());
}
BENCHMARK(BM_GemmTransposedA<kBest>)->Arg(128);
BENCHMARK(BM_GemmTransposedA<kAvx2Only>)->Arg(128);
BENCHMARK(BM_GemmTransposedA<kReference>)->Arg(128);

// Model scoring with the tutorial's shape (vector_dim 128, one IP encoder layer, 100,000
// entity vectors): batches of 10,000 pairs (the server's batch) of random IPv4 addresses
// over range(0) distinct entities. kFolded: Model::ScoreBatch (last layer folded into the
// entity side); otherwise the straightforward dot(EntityEmbedding, IpEmbedding) per pair,
// which is what ScoreBatch computed before. Items = pairs.
struct ScoringFixture {
  std::shared_ptr<Model> model;
  std::vector<std::string> names;
  std::vector<std::string_view> entities;
  std::vector<IpAddress> ips;
  std::vector<float> scores;
};

ScoringFixture MakeScoringFixture(size_t distinct) {
  ScoringFixture f;
  Hyperparameters hp;
  hp.num_entity_vectors = 100000;
  hp.vector_dim = 128;
  hp.num_ip_encoder_layers = 1;
  f.model = Model::Create(hp, 3);
  const size_t n = 10000;
  for (size_t i = 0; i < n; ++i) {
    f.names.push_back("AIDAUSER" + std::to_string(Mix64(i % distinct) % 1000000007));
    f.ips.push_back(IpAddress::FromV4(static_cast<uint32_t>(Mix64(i + 99))));
  }
  f.entities.assign(f.names.begin(), f.names.end());
  f.scores.resize(n);
  return f;
}

void StraightforwardScores(ScoringFixture& f) {
  const size_t dim = static_cast<size_t>(f.model->vector_dim());
  std::vector<float> u(dim), v(dim);
  for (size_t i = 0; i < f.ips.size(); ++i) {
    f.model->EntityEmbedding(f.entities[i], u.data());
    f.model->IpEmbedding(f.ips[i], v.data());
    f.scores[i] = kernels::Dot(u.data(), v.data(), dim);
  }
}

template <bool kFolded>
void BM_ScoreBatch(benchmark::State& state) {
  ScoringFixture f = MakeScoringFixture(static_cast<size_t>(state.range(0)));
  const size_t n = f.ips.size();
  StraightforwardScores(f);
  const std::vector<float> reference = f.scores;
  f.model->ScoreBatch(f.entities.data(), f.ips.data(), n, f.scores.data());
  for (size_t i = 0; i < n; ++i) {
    if (std::fabs(f.scores[i] - reference[i]) > 1e-5f * (1 + std::fabs(reference[i]))) {
      Require(false, "Model::ScoreBatch");
    }
  }
  for (auto _ : state) {
    if (kFolded) {
      f.model->ScoreBatch(f.entities.data(), f.ips.data(), n, f.scores.data());
    } else {
      StraightforwardScores(f);
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_ScoreBatch<true>)->Arg(10000)->Arg(1000)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScoreBatch<false>)->Arg(10000)->Arg(100)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ipinsights

BENCHMARK_MAIN();
