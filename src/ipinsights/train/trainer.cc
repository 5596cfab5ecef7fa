#include "ipinsights/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "ipinsights/base/error.h"
#include "ipinsights/base/hash.h"
#include "ipinsights/base/parallel.h"
#include "ipinsights/model/ip_encoder.h"
#include "ipinsights/model/kernels.h"
#include "ipinsights/train/auc.h"
#include "ipinsights/train/negative_sampler.h"
#include "ipinsights/train/worker_pool.h"

namespace ipinsights {
namespace {

constexpr size_t kChunk = 32;  // items per parallel task
// Prefix dropout (see EncodeAddresses): a prefix finer than the network (IPv4 /24, IPv6
// /48 and /64) is kept in a training sample's sum with probability kFinePrefixKeepEighths/8.
// Those rows are trained by few samples each, and a visitor's or attacker's address in a
// network usually lands on a row that someone else's home trained: noise, where the score
// should rest on the network. Measured (bench/train_bench.sh data, test AUC / recall at 3%
// FPR, oracle 0.9969 / 0.9998), before NegativeSampler drew negatives inside seen subnets:
// keep all 0.9908 / 0.989 (an earlier model), 4/8 0.9931 / 0.9985, 2/8 0.9935 / 0.9991,
// 1/8 0.9936 / 0.9992, never 0.9937 / 0.9993; with them: 4/8 0.99366, 2/8 0.99373, 1/8
// 0.99374. Never would throw away what a real /24 says (a corporate /24 inside a
// provider's /16; the simulator's networks each own their /16, so it cannot show that),
// hence 2/8, the most kept at the best figure.
constexpr bool kPrefixDropout = true;
constexpr uint64_t kFinePrefixKeepEighths = 2;

// Loss weight of the shuffled negatives (ours; SageMaker weighs every sample alike). They
// are drawn from the traffic's own addresses, so at full weight they teach the model that
// a popular network is suspect for everyone who is not a member of it, which is backwards
// for an attacker who may come from any network. They still teach one thing nothing else
// does: that another known entity's network is not this entity's (a colleague's key used
// from the wrong home), which the benchmark below does not test, so they keep a weight.
// Measured on bench/train_bench.sh's data (test AUC, oracle 0.9969), with the other
// choices of this file: weight 0.25 0.99374, 0.1 0.99394, 0 0.99426; on a second population
// (simulate --seed 2; oracle 0.9972) 0.25 0.99387, 0.1 0.99412. Recall at 3% FPR 0.9994
// in each. Before the network negatives: weight 1 0.9923, 0.25 0.9929.
constexpr float kShuffledNegativeWeight = 0.1f;

inline size_t Chunks(size_t n) { return (n + kChunk - 1) / kChunk; }

// Counter-based random stream: the k-th value of stream `seed`.
inline uint64_t RandomAt(uint64_t seed, uint64_t k) { return Mix64(seed ^ Mix64(k)); }

// log(1 + exp(x)) without overflow.
inline double Softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

// Asks for the cache lines of `floats` floats at p: embedding rows are scattered over a large
// table, so the first touch of each would otherwise stall (measured: Adam on touched rows
// was the largest cost before).
inline void PrefetchRow(const float* p, int64_t floats, bool for_write) {
  const char* bytes = reinterpret_cast<const char*>(p);
  for (int64_t offset = 0; offset < floats * 4; offset += 64) {
    if (for_write) {
      __builtin_prefetch(bytes + offset, 1);
    } else {
      __builtin_prefetch(bytes + offset, 0);
    }
  }
}

inline float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace

struct Trainer::State {
  Model::Impl* model;
  TrainerOptions options;
  WorkerPool pool;
  NegativeSampler sampler;
  bool sampler_ready = false;
  int64_t D, R, S, K, L;
  uint64_t N, P;

  // The current mini-batch.
  size_t n = 0, n_ip = 0;
  std::vector<IpAddress> ips;              // n observed, then n * R random
  std::vector<uint32_t> prefix_rows;       // kMaxIpPrefixes per address
  std::vector<uint8_t> prefix_count;
  std::vector<uint8_t> prefix_kept;       // bit k: prefix k is in this sample's sum
  std::vector<std::vector<float>> acts;    // acts[0] prefix sums; acts[l+1] = hidden layer l
  std::vector<uint64_t> entity_rows;
  std::vector<float> U;                    // per pair: the entity row (a copy, for dW)
  std::vector<float> V, c;                 // per pair: W^T u, u . b (last layer folded in)
  std::vector<float> G;                    // per sample: d(mean loss)/d(score)
  std::vector<float> dV, dc, dU;           // per pair
  std::vector<float> dA;                   // per address: d loss / d(last layer input)
  std::vector<float> dZ;                   // per address: d loss / d(prefix sum), L >= 2
  std::vector<std::vector<float>> deltas;  // hidden layer l: d loss / d(pre-activation)
  std::vector<std::vector<uint32_t>> perm, inverse;  // S derangements of the batch
  std::vector<std::vector<uint8_t>> valid;           // false: no distinct pair found
  std::vector<double> pair_loss;
  std::vector<uint32_t> pair_correct;
  double loss_sum = 0;      // weighted
  double weight_sum = 0;    // the batch's sample weights: the loss is their weighted mean
  uint64_t samples = 0, correct = 0;

  std::vector<std::vector<float>> dW, db;

  // Adam moments.
  // Sparse tables: per row [m (D floats) | v (D floats)], one stream per touched row.
  FloatTable entity_moments, prefix_moments;
  std::vector<std::vector<float>> W_m, W_v, b_m, b_v;
  uint64_t step = 0;
  double lr_scale = 1.0;  // the schedule's factor for the next step
  std::vector<uint32_t> entity_steps, prefix_steps;  // updates each row has had
  std::vector<float> row_correction;  // [k]: sqrt(1 - beta2^k) / (1 - beta1^k)
  double base_lr = 0;
  // Adam's bias correction for an embedding row counts that row's own updates, not the
  // global step: with the global count, a row's first updates (rare entities, the /24 of a
  // one-off trip) came out several times larger than anyone else's, as if its learning
  // rate were multiplied by sqrt(1000 / updates). Measured: AUC +0.0002, recall at 3% FPR
  // +0.0007 on the tutorial-like benchmark.
  kernels::AdamStep RowStep(const kernels::AdamStep& global, uint32_t* steps) const {
    kernels::AdamStep step = global;
    const uint32_t k = ++*steps;
    step.learning_rate = static_cast<float>(base_lr * (k < row_correction.size() ? row_correction[k] : 1.0f));
    return step;
  }

  // Touched embedding rows of the batch, grouped: slot -> row, and each slot's list of
  // contributions (entity: pair j -> dU_j; prefix: address i, k -> dZ_i).
  struct SparseGroups {
    std::vector<uint32_t> stamp, slot_of_row;
    std::vector<uint64_t> rows;
    std::vector<int32_t> head, next;
  };
  SparseGroups entity_groups, prefix_groups;
  uint32_t stamp = 0;

  std::vector<std::vector<float>> scratch;  // per worker

  State(Model::Impl* m, const TrainerOptions& o) : model(m), options(o), pool(o.threads) {}

  size_t IpIndex(size_t j, int64_t k) const {
    if (k == 0) return j;
    if (k <= R) return n + j * R + (k - 1);
    return perm[k - 1 - R][j];
  }
  const float* LastInput(size_t i) const { return acts[L >= 2 ? L - 1 : 0].data() + i * D; }
  float* PrefixGradient(size_t i) { return (L >= 2 ? dZ.data() : dA.data()) + i * D; }
  const float* PrefixGradient(size_t i) const {
    return (L >= 2 ? dZ.data() : dA.data()) + i * D;
  }

  void Reserve(size_t batch);
  void EncodeAddresses(const TrainingRow* rows, uint64_t batch_seed);
  void BuildShuffles(const TrainingRow* rows, uint64_t batch_seed);
  void ScorePairs();
  void BackpropAddresses();
  void DenseGradients();
  void GroupSparse();
  void Apply();
};

void Trainer::State::Reserve(size_t batch) {
  const size_t addresses = batch * (1 + R);
  if (ips.size() >= addresses) return;
  ips.resize(addresses);
  prefix_rows.resize(addresses * kMaxIpPrefixes);
  prefix_count.resize(addresses);
  prefix_kept.resize(addresses);
  for (auto& a : acts) a.resize(addresses * D);
  entity_rows.resize(batch);
  U.resize(batch * D);
  V.resize(batch * D);
  c.resize(batch);
  G.resize(batch * K);
  dV.resize(batch * D);
  dc.resize(batch);
  dU.resize(batch * D);
  dA.resize(addresses * D);
  if (L >= 2) dZ.resize(addresses * D);
  for (auto& d : deltas) d.resize(addresses * D);
  for (int64_t s = 0; s < S; ++s) {
    perm[s].resize(batch);
    inverse[s].resize(batch);
    valid[s].resize(batch);
  }
  pair_loss.resize(batch);
  pair_correct.resize(batch);
  entity_groups.next.resize(batch);
  prefix_groups.next.resize(addresses * kMaxIpPrefixes);
}

// Phase 1, per address: the observed ones and the random negatives, their prefix rows,
// prefix sums and hidden layers.
void Trainer::State::EncodeAddresses(const TrainingRow* rows, uint64_t batch_seed) {
  const Model::Impl& m = *model;
  pool.Run(Chunks(n_ip), [&](size_t chunk, size_t worker) {
    const size_t begin = chunk * kChunk;
    const size_t end = std::min(n_ip, (chunk + 1) * kChunk);
    for (size_t i = begin; i < end; ++i) {
      if (i < n) {
        ips[i] = rows[i].ip;
      } else {
        const size_t j = (i - n) / R;
        ips[i] = sampler.Draw(rows[j].ip, static_cast<int64_t>((i - n) % R), RandomAt(batch_seed, i));
      }
      const int count = IpPrefixRows(ips[i], m.hash_seed, P, &prefix_rows[i * kMaxIpPrefixes]);
      prefix_count[i] = static_cast<uint8_t>(count);
      // Prefix dropout: each prefix finer than the second is mostly left out of this
      // sample's sum, so the coarser network rows must carry the score on their own and a
      // new subnet of a known network is not mistaken for a random address.
      uint8_t kept = 0b11;
      const uint64_t coin = RandomAt(batch_seed ^ 0x44524f50ULL, i);
      for (int k = 2; k < count; ++k) {
        if (!kPrefixDropout || ((coin >> (8 * k)) & 7) < kFinePrefixKeepEighths) kept |= uint8_t(1u << k);
      }
      prefix_kept[i] = kept;
    }
    constexpr size_t kAhead = 2;
    for (size_t i = begin; i < std::min(end, begin + kAhead); ++i) {
      for (int k = 0; k < prefix_count[i]; ++k) {
        PrefetchRow(m.PrefixVector(prefix_rows[i * kMaxIpPrefixes + k]), D, false);
      }
    }
    for (size_t i = begin; i < end; ++i) {
      if (i + kAhead < end) {
        const size_t ahead = i + kAhead;
        for (int k = 0; k < prefix_count[ahead]; ++k) {
          PrefetchRow(m.PrefixVector(prefix_rows[ahead * kMaxIpPrefixes + k]), D, false);
        }
      }
      const uint32_t* my_rows = &prefix_rows[i * kMaxIpPrefixes];
      const int count = prefix_count[i];
      float* z = acts[0].data() + i * D;
      std::memcpy(z, m.PrefixVector(my_rows[0]), D * sizeof(float));
      for (int k = 1; k < count; ++k) {
        if ((prefix_kept[i] >> k) & 1) kernels::Axpy(1.0f, m.PrefixVector(my_rows[k]), z, D);
      }
      for (int64_t l = 0; l + 1 < L; ++l) {
        m.ApplyLayer(l, acts[l].data() + i * D, acts[l + 1].data() + i * D);
      }
    }
  });
}

// S random derangements of the batch (Sattolo's algorithm gives a single cycle, so no pair
// meets its own address); where an entity would meet the very address it was observed
// with (duplicate rows), swap targets with a random other pair until neither does.
void Trainer::State::BuildShuffles(const TrainingRow* rows, uint64_t batch_seed) {
  auto same = [&](size_t a, size_t b) {
    return rows[a].entity_hash == rows[b].entity_hash && rows[a].ip == rows[b].ip;
  };
  for (int64_t s = 0; s < S; ++s) {
    std::vector<uint32_t>& p = perm[s];
    uint64_t draw = 0;
    const uint64_t stream = Mix64(batch_seed ^ (0x5348554646ULL + s));
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint32_t>(i);
    for (size_t i = n; i-- > 1;) std::swap(p[i], p[UniformBelow(RandomAt(stream, draw++), i)]);
    for (size_t j = 0; j < n; ++j) {
      bool ok = n > 1 && !same(j, p[j]);
      for (int attempt = 0; !ok && n > 1 && attempt < 32; ++attempt) {
        const size_t k = UniformBelow(RandomAt(stream, draw++), n);
        if (k == j) continue;
        std::swap(p[j], p[k]);
        if (p[j] != j && p[k] != k && !same(j, p[j]) && !same(k, p[k])) {
          ok = true;
        } else {
          std::swap(p[j], p[k]);
        }
      }
      valid[s][j] = ok ? 1 : 0;
    }
    for (size_t j = 0; j < n; ++j) {
      // A later swap may have broken an earlier pair's validity: check again.
      if (valid[s][j] && (p[j] == j || same(j, p[j]))) valid[s][j] = 0;
      inverse[s][p[j]] = static_cast<uint32_t>(j);
    }
  }
}

// Phase 2, per observed pair: the entity's view of every sample of this pair.
//   score_k = v . a_k + c with v = W^T u, c = u . b     (last layer folded into the entity)
//   loss_k = w_k (softplus(score_k) - y_k score_k);  d loss_k / d score_k = w_k (sigmoid(score_k) - y_k)
//   (w_k: 1, or kShuffledNegativeWeight for the shuffled negatives; the loss is the mean
//   weighted by w_k)
//   dv = sum_k g_k a_k, dc = sum_k g_k, du = W dv + b dc
void Trainer::State::ScorePairs() {
  const Model::Impl& m = *model;
  uint64_t counted = n * (1 + R);
  for (int64_t s = 0; s < S; ++s) {
    for (size_t j = 0; j < n; ++j) counted += valid[s][j];
  }
  samples = counted;
  const uint64_t shuffled = counted - n * (1 + R);
  weight_sum = static_cast<double>(n * (1 + R)) + kShuffledNegativeWeight * static_cast<double>(shuffled);
  const float scale = static_cast<float>(1.0 / weight_sum);
  pool.Run(Chunks(n), [&](size_t chunk, size_t worker) {
    const size_t end = std::min(n, (chunk + 1) * kChunk);
    for (size_t j = chunk * kChunk; j < end; ++j) {
      float* u = U.data() + j * D;
      std::memcpy(u, m.EntityVector(entity_rows[j]), D * sizeof(float));
      float* v = V.data() + j * D;
      if (L >= 1) {
        const DenseLayer& last = m.layers[L - 1];
        kernels::VecMat(u, last.weight.data(), D, D, v);
        c[j] = kernels::Dot(u, last.bias.data(), D);
      } else {
        std::memcpy(v, u, D * sizeof(float));
        c[j] = 0.0f;
      }
      float* dv = dV.data() + j * D;
      std::memset(dv, 0, D * sizeof(float));
      float dc_j = 0.0f;
      double loss = 0;
      uint32_t right = 0;
      for (int64_t k = 0; k < K; ++k) {
        if (k > R && !valid[k - 1 - R][j]) {
          G[j * K + k] = 0.0f;
          continue;
        }
        const float* a = LastInput(IpIndex(j, k));
        const float score = kernels::Dot(v, a, D) + c[j];
        const float label = k == 0 ? 1.0f : 0.0f;
        const float weight = k > R ? kShuffledNegativeWeight : 1.0f;
        loss += weight * (Softplus(score) - label * score);
        right += ((score > 0.0f) == (k == 0)) ? 1 : 0;
        const float g = (Sigmoid(score) - label) * scale * weight;
        G[j * K + k] = g;
        kernels::Axpy(g, a, dv, D);
        dc_j += g;
      }
      dc[j] = dc_j;
      pair_loss[j] = loss;
      pair_correct[j] = right;
      float* du = dU.data() + j * D;
      if (L >= 1) {
        const DenseLayer& last = m.layers[L - 1];
        for (int64_t o = 0; o < D; ++o) {
          du[o] = kernels::Dot(&last.weight[o * D], dv, D) + last.bias[o] * dc_j;
        }
      } else {
        std::memcpy(du, dv, D * sizeof(float));
      }
    }
  });
  loss_sum = 0;
  correct = 0;
  for (size_t j = 0; j < n; ++j) {
    loss_sum += pair_loss[j];
    correct += pair_correct[j];
  }
}

// Phase 3, per address: gather d loss / d a from every sample that used it, then back
// through the hidden layers (ReLU) to the prefix sum.
void Trainer::State::BackpropAddresses() {
  const Model::Impl& m = *model;
  pool.Run(Chunks(n_ip), [&](size_t chunk, size_t worker) {
    const size_t end = std::min(n_ip, (chunk + 1) * kChunk);
    float* buffer = scratch[worker].data();
    for (size_t i = chunk * kChunk; i < end; ++i) {
      float* da = dA.data() + i * D;
      std::memset(da, 0, D * sizeof(float));
      if (i < n) {
        kernels::Axpy(G[i * K], V.data() + i * D, da, D);
        for (int64_t s = 0; s < S; ++s) {
          const size_t j = inverse[s][i];
          if (valid[s][j]) kernels::Axpy(G[j * K + 1 + R + s], V.data() + j * D, da, D);
        }
      } else {
        const size_t j = (i - n) / R;
        const size_t r = (i - n) % R;
        kernels::Axpy(G[j * K + 1 + r], V.data() + j * D, da, D);
      }
      // Hidden layer l maps acts[l] to acts[l + 1] = relu(W_l acts[l] + b_l):
      //   delta = grad_out * [acts[l + 1] > 0],  grad_in = W_l^T delta
      const float* grad_out = da;
      for (int64_t l = L - 2; l >= 0; --l) {
        const DenseLayer& layer = m.layers[l];
        float* delta = deltas[l].data() + i * D;
        const float* out = acts[l + 1].data() + i * D;
        for (int64_t o = 0; o < D; ++o) delta[o] = out[o] > 0.0f ? grad_out[o] : 0.0f;
        float* grad_in = l == 0 ? dZ.data() + i * D : buffer + (l % 2) * D;
        std::memset(grad_in, 0, D * sizeof(float));
        for (int64_t o = 0; o < D; ++o) {
          if (delta[o] != 0.0f) kernels::Axpy(delta[o], &layer.weight[o * D], grad_in, D);
        }
        grad_out = grad_in;
      }
    }
  });
}

// Phase 4, per weight row: the dense layers' gradients, summed over the batch in a fixed
// order.  Last layer: dW[o] = sum_j u_j[o] dv_j, db[o] = sum_j u_j[o] dc_j.
// Hidden layer l: dW_l[o] = sum_i delta_i[o] acts[l]_i, db_l[o] = sum_i delta_i[o].
void Trainer::State::DenseGradients() {
  constexpr int64_t kRowsPerTask = 8;
  const int64_t tasks_per_layer = (D + kRowsPerTask - 1) / kRowsPerTask;
  pool.Run(static_cast<size_t>(L * tasks_per_layer), [&](size_t task, size_t worker) {
    const int64_t l = static_cast<int64_t>(task) / tasks_per_layer;
    const int64_t begin = (static_cast<int64_t>(task) % tasks_per_layer) * kRowsPerTask;
    const int64_t end = std::min(D, begin + kRowsPerTask);
    const bool last = l == L - 1;
    // A^T B with A = U (pairs) or the hidden deltas (addresses), B = dV or acts[l].
    const float* a = last ? U.data() : deltas[l].data();
    const float* b = last ? dV.data() : acts[l].data();
    const size_t rows = last ? n : n_ip;
    kernels::GemmTransposedA(a, b, rows, D, D, begin, end, dW[l].data());
    for (int64_t o = begin; o < end; ++o) {
      float bias = 0.0f;
      if (last) {
        for (size_t j = 0; j < n; ++j) bias += U[j * D + o] * dc[j];
      } else {
        for (size_t i = 0; i < n_ip; ++i) bias += a[i * D + o];
      }
      db[l][o] = bias;
    }
  });
}

void Trainer::State::GroupSparse() {
  ++stamp;
  if (stamp == 0) {  // wrapped: forget old stamps
    std::fill(entity_groups.stamp.begin(), entity_groups.stamp.end(), 0);
    std::fill(prefix_groups.stamp.begin(), prefix_groups.stamp.end(), 0);
    stamp = 1;
  }
  auto add = [&](SparseGroups& groups, uint64_t row, int32_t contribution) {
    if (groups.stamp[row] != stamp) {
      groups.stamp[row] = stamp;
      groups.slot_of_row[row] = static_cast<uint32_t>(groups.rows.size());
      groups.rows.push_back(row);
      groups.head.push_back(-1);
    }
    const uint32_t slot = groups.slot_of_row[row];
    groups.next[contribution] = groups.head[slot];
    groups.head[slot] = contribution;
  };
  entity_groups.rows.clear();
  entity_groups.head.clear();
  for (size_t j = 0; j < n; ++j) add(entity_groups, entity_rows[j], static_cast<int32_t>(j));
  prefix_groups.rows.clear();
  prefix_groups.head.clear();
  for (size_t i = 0; i < n_ip; ++i) {
    for (int k = 0; k < prefix_count[i]; ++k) {
      if (((prefix_kept[i] >> k) & 1) == 0) continue;
      add(prefix_groups, prefix_rows[i * kMaxIpPrefixes + k],
          static_cast<int32_t>(i * kMaxIpPrefixes + k));
    }
  }
}

// Adam on the dense layers and on every touched embedding row (lazy: untouched rows and
// their moments stay as they are).
void Trainer::State::Apply() {
  Model::Impl& m = *model;
  ++step;
  const double lr = m.hyperparameters.learning_rate;
  kernels::AdamStep adam;
  adam.learning_rate = static_cast<float>(lr * lr_scale * std::sqrt(1.0 - std::pow(0.999, double(step))) /
                                          (1.0 - std::pow(0.9, double(step))));
  adam.weight_decay = static_cast<float>(m.hyperparameters.weight_decay);
  base_lr = lr * lr_scale;
  const size_t entity_slots = entity_groups.rows.size();
  const size_t prefix_slots = prefix_groups.rows.size();
  const size_t dense_tasks = static_cast<size_t>(L * (D + 1));
  const size_t entity_tasks = Chunks(entity_slots);
  const size_t prefix_tasks = Chunks(prefix_slots);
  pool.Run(dense_tasks + entity_tasks + prefix_tasks, [&](size_t task, size_t worker) {
    if (task < dense_tasks) {
      const int64_t l = static_cast<int64_t>(task) / (D + 1);
      const int64_t o = static_cast<int64_t>(task) % (D + 1);
      DenseLayer& layer = m.layers[l];
      if (o < D) {
        kernels::AdamUpdate(&layer.weight[o * D], &W_m[l][o * D], &W_v[l][o * D], &dW[l][o * D],
                            D, adam);
      } else {
        kernels::AdamUpdate(layer.bias.data(), b_m[l].data(), b_v[l].data(), db[l].data(), D,
                            adam);
      }
      return;
    }
    float* g = scratch[worker].data() + 2 * D;
    const bool entity = task < dense_tasks + entity_tasks;
    const size_t chunk = entity ? task - dense_tasks : task - dense_tasks - entity_tasks;
    const SparseGroups& groups = entity ? entity_groups : prefix_groups;
    const size_t end = std::min(groups.rows.size(), (chunk + 1) * kChunk);
    constexpr size_t kAhead = 3;
    auto prefetch = [&](size_t slot) {
      const uint64_t row = groups.rows[slot];
      PrefetchRow(entity ? m.EntityVector(row) : m.PrefixVector(row), D, true);
      PrefetchRow(entity ? &entity_moments[row * 2 * D] : &prefix_moments[row * 2 * D], 2 * D,
                  true);
    };
    for (size_t slot = chunk * kChunk; slot < std::min(end, chunk * kChunk + kAhead); ++slot) {
      prefetch(slot);
    }
    for (size_t slot = chunk * kChunk; slot < end; ++slot) {
      if (slot + kAhead < end) prefetch(slot + kAhead);
      std::memset(g, 0, D * sizeof(float));
      for (int32_t cnt = groups.head[slot]; cnt >= 0; cnt = groups.next[cnt]) {
        const float* source = entity ? dU.data() + static_cast<size_t>(cnt) * D
                                     : PrefixGradient(static_cast<size_t>(cnt) / kMaxIpPrefixes);
        kernels::Axpy(1.0f, source, g, D);
      }
      const uint64_t row = groups.rows[slot];
      if (entity) {
        float* moments = &entity_moments[row * 2 * D];
        kernels::AdamUpdate(m.EntityVector(row), moments, moments + D, g, D, RowStep(adam, &entity_steps[row]));
      } else {
        float* moments = &prefix_moments[row * 2 * D];
        kernels::AdamUpdate(m.PrefixVector(row), moments, moments + D, g, D, RowStep(adam, &prefix_steps[row]));
      }
    }
  });
}

Trainer::Trainer(Model::Impl* model, const TrainerOptions& options)
    : state_(std::make_unique<State>(model, options)) {
  State& s = *state_;
  const Hyperparameters& hp = model->hyperparameters;
  s.D = model->dim;
  s.R = hp.random_negative_sampling_rate;
  s.S = hp.shuffled_negative_sampling_rate;
  s.K = 1 + s.R + s.S;
  s.L = static_cast<int64_t>(model->layers.size());
  s.N = static_cast<uint64_t>(model->entity_rows());
  s.P = static_cast<uint64_t>(model->prefix_rows());
  s.acts.resize(std::max<int64_t>(1, s.L));
  s.deltas.resize(std::max<int64_t>(0, s.L - 1));
  s.perm.resize(s.S);
  s.inverse.resize(s.S);
  s.valid.resize(s.S);
  s.dW.resize(s.L);
  s.db.resize(s.L);
  s.W_m.resize(s.L);
  s.W_v.resize(s.L);
  s.b_m.resize(s.L);
  s.b_v.resize(s.L);
  for (int64_t l = 0; l < s.L; ++l) {
    s.dW[l].assign(s.D * s.D, 0.0f);
    s.db[l].assign(s.D, 0.0f);
    s.W_m[l].assign(s.D * s.D, 0.0f);
    s.W_v[l].assign(s.D * s.D, 0.0f);
    s.b_m[l].assign(s.D, 0.0f);
    s.b_v[l].assign(s.D, 0.0f);
  }
  s.entity_moments.assign(2 * model->entity_table.size(), 0.0f);
  s.entity_steps.assign(s.N, 0);
  s.prefix_steps.assign(s.P, 0);
  s.row_correction.resize(20000);
  for (size_t k = 1; k < s.row_correction.size(); ++k) {
    s.row_correction[k] = static_cast<float>(std::sqrt(1.0 - std::pow(0.999, double(k))) / (1.0 - std::pow(0.9, double(k))));
  }
  s.prefix_moments.assign(2 * model->prefix_table.size(), 0.0f);
  s.entity_groups.stamp.assign(s.N, 0);
  s.entity_groups.slot_of_row.assign(s.N, 0);
  s.prefix_groups.stamp.assign(s.P, 0);
  s.prefix_groups.slot_of_row.assign(s.P, 0);
  s.scratch.assign(s.pool.threads(), std::vector<float>(4 * s.D));
}

Trainer::~Trainer() = default;

size_t Trainer::threads() const { return state_->pool.threads(); }

double Trainer::ComputeGradients(const TrainingRow* rows, size_t n, uint64_t batch_seed) {
  State& s = *state_;
  IPI_CHECK(n > 0);
  s.Reserve(n);
  s.n = n;
  s.n_ip = n * (1 + s.R);
  for (size_t j = 0; j < n; ++j) s.entity_rows[j] = s.model->EntityRowOfHash(rows[j].entity_hash);
  s.EncodeAddresses(rows, batch_seed);
  s.BuildShuffles(rows, batch_seed);
  s.ScorePairs();
  s.BackpropAddresses();
  s.DenseGradients();
  s.GroupSparse();
  return s.loss_sum / s.weight_sum;
}

void Trainer::ApplyGradients() { state_->Apply(); }

void Trainer::SetNegativeNetworks(const std::vector<TrainingRow>& rows) {
  state_->sampler = NegativeSampler(rows);
  state_->sampler_ready = true;
}

std::vector<float> Trainer::EntityRowGradient(uint64_t row) const {
  const State& s = *state_;
  std::vector<float> g(s.D, 0.0f);
  const auto& groups = s.entity_groups;
  if (groups.stamp[row] != s.stamp) return g;
  for (int32_t c = groups.head[groups.slot_of_row[row]]; c >= 0; c = groups.next[c]) {
    kernels::Axpy(1.0f, s.dU.data() + static_cast<size_t>(c) * s.D, g.data(), s.D);
  }
  return g;
}

std::vector<float> Trainer::PrefixRowGradient(uint64_t row) const {
  const State& s = *state_;
  std::vector<float> g(s.D, 0.0f);
  const auto& groups = s.prefix_groups;
  if (groups.stamp[row] != s.stamp) return g;
  for (int32_t c = groups.head[groups.slot_of_row[row]]; c >= 0; c = groups.next[c]) {
    kernels::Axpy(1.0f, s.PrefixGradient(static_cast<size_t>(c) / kMaxIpPrefixes), g.data(), s.D);
  }
  return g;
}

const std::vector<float>& Trainer::LayerWeightGradient(size_t layer) const {
  return state_->dW[layer];
}
const std::vector<float>& Trainer::LayerBiasGradient(size_t layer) const {
  return state_->db[layer];
}

EpochMetrics Trainer::TrainEpoch(std::vector<TrainingRow>* rows, int epoch,
                                 const BatchCallback& on_batch) {
  State& s = *state_;
  if (!s.sampler_ready) SetNegativeNetworks(*rows);
  const auto start = std::chrono::steady_clock::now();
  // Fisher-Yates, deterministic in (seed, epoch).
  const uint64_t shuffle_stream = Mix64(s.options.seed ^ Mix64(0x5348 + uint64_t(epoch)));
  for (size_t i = rows->size(); i-- > 1;) {
    std::swap((*rows)[i], (*rows)[UniformBelow(RandomAt(shuffle_stream, i), i + 1)]);
  }
  const size_t batch = static_cast<size_t>(s.model->hyperparameters.mini_batch_size);
  EpochMetrics metrics;
  metrics.epoch = epoch;
  double loss_sum = 0, weight_sum = 0;
  uint64_t correct = 0, samples = 0;
  uint64_t batch_index = 0;
  const uint64_t batches = (rows->size() + batch - 1) / batch;
  for (size_t begin = 0; begin < rows->size(); begin += batch, ++batch_index) {
    const size_t n = std::min(batch, rows->size() - begin);
    if (s.options.total_epochs > 0) {
      // Linear decay to zero over the run (as fastText does): the last steps are small, so
      // the final weights are an average of sorts rather than one noisy Adam step.
      const double progress = (double(epoch) * batches + batch_index) /
                              (double(s.options.total_epochs) * batches);
      s.lr_scale = std::max(0.0, 1.0 - progress);
    }
    const uint64_t batch_seed =
        Mix64(Mix64(s.options.seed + 0x4e4547ULL) ^ (uint64_t(epoch) << 40) ^ batch_index);
    ComputeGradients(rows->data() + begin, n, batch_seed);
    ApplyGradients();
    loss_sum += s.loss_sum;
    correct += s.correct;
    samples += s.samples;
    weight_sum += s.weight_sum;
    if (on_batch) on_batch(n * s.K, loss_sum / weight_sum, double(correct) / samples);
  }
  metrics.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics.records = samples;
  metrics.loss = weight_sum > 0 ? loss_sum / weight_sum : 0;
  metrics.accuracy = samples ? double(correct) / samples : 0;
  metrics.records_per_second = metrics.seconds > 0 ? samples / metrics.seconds : 0;
  return metrics;
}

double DiscriminatorAuc(const Model::Impl& model, const std::vector<TrainingRow>& rows,
                        uint64_t seed, size_t threads) {
  const int64_t D = model.dim;
  const int64_t L = static_cast<int64_t>(model.layers.size());
  std::vector<float> positives(rows.size()), negatives(rows.size());
  const size_t chunk = 1024;
  const uint64_t stream = Mix64(seed ^ 0x56414c4944ULL);
  // Entity side of the score: v = W^T u and c = u . b (the last layer folded in), so each
  // address only needs its prefix sum and hidden layers.
  auto entity_side = [&](uint64_t row, float* v, float* c) {
    const float* u = model.EntityVector(row);
    if (L == 0) {
      std::memcpy(v, u, D * sizeof(float));
      *c = 0;
      return;
    }
    const DenseLayer& last = model.layers[L - 1];
    std::memset(v, 0, D * sizeof(float));
    for (int64_t o = 0; o < D; ++o) kernels::Axpy(u[o], &last.weight[o * D], v, D);
    *c = kernels::Dot(u, last.bias.data(), D);
  };
  ParallelFor((rows.size() + chunk - 1) / chunk, threads, [&](size_t task, size_t) {
    std::vector<float> v(D), a(D), b(D);
    float c = 0;
    const size_t end = std::min(rows.size(), (task + 1) * chunk);
    for (size_t i = task * chunk; i < end; ++i) {
      entity_side(model.EntityRowOfHash(rows[i].entity_hash), v.data(), &c);
      auto encode = [&](const IpAddress& ip) {
        model.PrefixSum(ip, a.data());
        for (int64_t l = 0; l + 1 < L; ++l) {
          model.ApplyLayer(l, a.data(), b.data());
          std::swap(a, b);
        }
        return kernels::Dot(v.data(), a.data(), D) + c;
      };
      positives[i] = encode(rows[i].ip);
      negatives[i] = encode(UniformRandomIp(!rows[i].ip.is_v4(), RandomAt(stream, i)));
    }
  });
  return AreaUnderRoc(positives, negatives);
}

}  // namespace ipinsights
