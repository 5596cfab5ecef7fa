#include "ipinsights/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "ipinsights/base/error.h"
#include "ipinsights/base/hash.h"
#include "ipinsights/model/ip_encoder.h"
#include "ipinsights/model/kernels.h"
#include "ipinsights/model/logistic_loss.h"
#include "ipinsights/model/sparse_adam.h"
#include "ipinsights/train/batch_buffers.h"
#include "ipinsights/train/negative_sampler.h"
#include "ipinsights/train/prefix_dropout.h"
#include "ipinsights/train/worker_pool.h"

namespace ipinsights {
namespace {

constexpr size_t kChunk = 32;  // items per parallel task
inline size_t Chunks(size_t n) { return (n + kChunk - 1) / kChunk; }

}  // namespace

struct Trainer::State {
  Model::Impl* model;
  TrainerOptions options;
  WorkerPool pool;
  NegativeSampler sampler;
  bool sampler_ready = false;
  BatchBuffers batch{BatchShape::Of(*model)};
  ModelGradient gradient{*model};
  SparseAdam adam{model};
  double lr_scale = 1.0;                     // the schedule's factor for the next step
  std::vector<std::vector<float>> scratch =  // per worker: 2 * D floats
      std::vector<std::vector<float>>(pool.threads(), std::vector<float>(2 * model->dim));
  std::vector<float> last_weight_transposed;  // W^T of this batch (D x D), when L >= 1

  State(Model::Impl* m, const TrainerOptions& o) : model(m), options(o), pool(o.threads) {}

  void EncodeAddresses(const TrainingRow* rows, uint64_t batch_seed);
  void BuildShuffles(const TrainingRow* rows, uint64_t batch_seed);
  void ScorePairs();
  void TransposeLastLayer();
  void FoldEntities(size_t begin, size_t end);
  void SampleLosses(size_t j, float scale);
  void UnfoldEntityGradients(size_t begin, size_t end);
  void BackpropAddresses();
  void DenseGradients();
  void CollectTouchedRows();
};

// Phase 1, per address: the observed ones and the random negatives, their prefix rows,
// prefix sums and hidden layers.
void Trainer::State::EncodeAddresses(const TrainingRow* rows, uint64_t batch_seed) {
  const Model::Impl& m = *model;
  BatchBuffers& b = batch;
  const int64_t dim = b.shape.dim;
  const int64_t random_negatives = b.shape.random_negatives;
  const uint64_t prefix_table_rows = static_cast<uint64_t>(m.prefix_rows());
  pool.Run(Chunks(b.addresses), [&](size_t chunk, size_t worker) {
    const size_t begin = chunk * kChunk;
    const size_t end = std::min(b.addresses, (chunk + 1) * kChunk);
    for (size_t i = begin; i < end; ++i) {
      if (i < b.pairs) {
        b.ips[i] = rows[i].ip;
      } else {
        const size_t j = (i - b.pairs) / random_negatives;
        b.ips[i] = sampler.Draw(rows[j].ip, static_cast<int64_t>((i - b.pairs) % random_negatives),
                                RandomAt(batch_seed, i));
      }
      const int count = IpPrefixRows(b.ips[i], m.hash_seed, prefix_table_rows,
                                     &b.prefix_rows[i * kMaxIpPrefixes]);
      b.prefix_count[i] = static_cast<uint8_t>(count);
      b.prefix_kept[i] = KeptPrefixes(count, RandomAt(batch_seed ^ 0x44524f50ULL, i));
    }
    constexpr size_t kAhead = 2;
    auto prefetch = [&](size_t i) {
      for (int k = 0; k < b.prefix_count[i]; ++k) {
        kernels::Prefetch(m.PrefixVector(b.prefix_rows[i * kMaxIpPrefixes + k]), dim, false);
      }
    };
    for (size_t i = begin; i < std::min(end, begin + kAhead); ++i) prefetch(i);
    for (size_t i = begin; i < end; ++i) {
      if (i + kAhead < end) prefetch(i + kAhead);
      const uint32_t* my_rows = &b.prefix_rows[i * kMaxIpPrefixes];
      const int count = b.prefix_count[i];
      float* z = b.activations[0].data() + i * dim;
      std::memcpy(z, m.PrefixVector(my_rows[0]), dim * sizeof(float));
      for (int k = 1; k < count; ++k) {
        if ((b.prefix_kept[i] >> k) & 1) kernels::Axpy(1.0f, m.PrefixVector(my_rows[k]), z, dim);
      }
      for (int64_t l = 0; l + 1 < b.shape.layers; ++l) {
        m.ApplyLayer(l, b.activations[l].data() + i * dim, b.activations[l + 1].data() + i * dim);
      }
    }
  });
}

// The S shuffled negatives of each pair (see DrawShuffle).
void Trainer::State::BuildShuffles(const TrainingRow* rows, uint64_t batch_seed) {
  for (int64_t s = 0; s < batch.shape.shuffled_negatives; ++s) {
    DrawShuffle(rows, batch.pairs, Mix64(batch_seed ^ (0x5348554646ULL + s)),
                batch.shuffle[s].data(), batch.shuffle_inverse[s].data(),
                batch.shuffle_valid[s].data());
  }
}

// Phase 2, per observed pair: the entity's side of every sample of the pair. The last layer
// (W, b) is folded into the entity, so that each sample costs one dot product:
//   score_k = v . a_k + c,   v = W^T u,   c = u . b
// then the loss phase (SampleLosses) gives g_k = d loss / d score_k, and back through the
// fold to the entity:   dv = sum_k g_k a_k,   dc = sum_k g_k,   du = W dv + b dc
void Trainer::State::ScorePairs() {
  BatchBuffers& b = batch;
  const size_t n = b.pairs;
  const uint64_t unshuffled = n * (1 + b.shape.random_negatives);
  b.samples = unshuffled;
  for (const std::vector<uint8_t>& valid : b.shuffle_valid) {
    for (size_t j = 0; j < n; ++j) b.samples += valid[j];
  }
  b.weight_sum = static_cast<double>(unshuffled) +
                 kShuffledNegativeWeight * static_cast<double>(b.samples - unshuffled);
  const float scale = static_cast<float>(1.0 / b.weight_sum);
  TransposeLastLayer();
  // Task 0 is phase 5 (serial, and it needs only what phase 1 chose): one worker collects
  // the touched rows while the others score. Measured: 8% of the epoch when it ran alone.
  pool.Run(1 + Chunks(n), [&](size_t task, size_t worker) {
    if (task == 0) {
      CollectTouchedRows();
      return;
    }
    const size_t begin = (task - 1) * kChunk;
    const size_t end = std::min(n, begin + kChunk);
    FoldEntities(begin, end);
    for (size_t j = begin; j < end; ++j) SampleLosses(j, scale);
    UnfoldEntityGradients(begin, end);
  });
  b.loss_sum = 0;
  b.correct = 0;
  for (size_t j = 0; j < n; ++j) {
    b.loss_sum += b.pair_loss[j];
    b.correct += b.pair_correct[j];
  }
}

// W^T, for the unfold's du = W dv as a product of vectors with a matrix (UnfoldEntityGradients).
void Trainer::State::TransposeLastLayer() {
  if (batch.shape.layers < 1) return;
  const int64_t dim = batch.shape.dim;
  const std::vector<float>& weight = model->layers[batch.shape.layers - 1].weight;
  last_weight_transposed.resize(weight.size());
  for (int64_t r = 0; r < dim; ++r) {
    for (int64_t c = 0; c < dim; ++c) last_weight_transposed[c * dim + r] = weight[r * dim + c];
  }
}

// u, v = W^T u and c = u . b of pairs [begin, end) (v = u, c = 0 without layers). The
// pairs' v at once (VecMatMany: each block of W loaded once per 4 pairs); measured, with
// the unfold batched the same way: 1.08x the records/s of one pair at a time.
void Trainer::State::FoldEntities(size_t begin, size_t end) {
  const int64_t dim = batch.shape.dim;
  const float* entities[kChunk] = {};
  for (size_t j = begin; j < end; ++j) {
    float* u = batch.entity.data() + j * dim;
    std::memcpy(u, model->EntityVector(batch.entity_rows[j]), dim * sizeof(float));
    entities[j - begin] = u;
  }
  float* v = batch.folded_entity.data() + begin * dim;
  if (batch.shape.layers < 1) {
    std::memcpy(v, batch.entity.data() + begin * dim, (end - begin) * dim * sizeof(float));
    std::fill(batch.folded_offset.data() + begin, batch.folded_offset.data() + end, 0.0f);
    return;
  }
  const DenseLayer& last = model->layers[batch.shape.layers - 1];
  kernels::VecMatMany(entities, end - begin, last.weight.data(), dim, dim, v);
  for (size_t j = begin; j < end; ++j) {
    batch.folded_offset[j] = kernels::Dot(entities[j - begin], last.bias.data(), dim);
  }
}

// The loss phase, pair j's samples. Sample k has label y_k (1 for k = 0, else 0) and weight
// w_k (kShuffledNegativeWeight for the shuffled negatives, else 1); the batch loss is the
// weighted mean of the logistic loss (model/logistic_loss.h), scale = 1 / sum w:
//   loss = (1 / sum w) sum_j sum_k w_k (softplus(score_k) - y_k score_k)
//   g_k = d loss / d score_k = w_k (sigmoid(score_k) - y_k) / sum w
// A shuffled sample without a valid partner is left out (g_k = 0). Also dv and dc.
void Trainer::State::SampleLosses(size_t j, float scale) {
  BatchBuffers& b = batch;
  const int64_t dim = b.shape.dim;
  const int64_t random_negatives = b.shape.random_negatives;
  const float* v = b.folded_entity.data() + j * dim;
  const float c = b.folded_offset[j];
  float* g = b.score_gradient.data() + j * b.shape.samples_per_pair;
  float* dv = b.folded_entity_gradient.data() + j * dim;
  std::memset(dv, 0, dim * sizeof(float));
  float dc = 0.0f;
  double loss = 0;
  uint32_t right = 0;
  for (int64_t k = 0; k < b.shape.samples_per_pair; ++k) {
    const bool shuffled = k > random_negatives;
    if (shuffled && !b.shuffle_valid[k - 1 - random_negatives][j]) {
      g[k] = 0.0f;
      continue;
    }
    const float* a = b.LastLayerInput(b.AddressOfSample(j, k));
    const float score = kernels::Dot(v, a, dim) + c;
    const SampleLoss sample =
        LogisticLoss(score, k == 0 ? 1.0f : 0.0f, shuffled ? kShuffledNegativeWeight : 1.0f, scale);
    loss += sample.loss;
    right += ((score > 0.0f) == (k == 0)) ? 1 : 0;
    g[k] = sample.gradient;
    kernels::Axpy(sample.gradient, a, dv, dim);
    dc += sample.gradient;
  }
  b.folded_offset_gradient[j] = dc;
  b.pair_loss[j] = loss;
  b.pair_correct[j] = right;
}

// du = W dv + b dc for pairs [begin, end) (du = dv without layers): du^T = dv^T W^T.
void Trainer::State::UnfoldEntityGradients(size_t begin, size_t end) {
  const int64_t dim = batch.shape.dim;
  const float* dv = batch.folded_entity_gradient.data() + begin * dim;
  float* du = batch.entity_gradient.data() + begin * dim;
  if (batch.shape.layers < 1) {
    std::memcpy(du, dv, (end - begin) * dim * sizeof(float));
    return;
  }
  const float* gradients[kChunk] = {};
  for (size_t j = begin; j < end; ++j) gradients[j - begin] = dv + (j - begin) * dim;
  kernels::VecMatMany(gradients, end - begin, last_weight_transposed.data(), dim, dim, du);
  const float* bias = model->layers[batch.shape.layers - 1].bias.data();
  for (size_t j = begin; j < end; ++j) {
    kernels::Axpy(batch.folded_offset_gradient[j], bias, du + (j - begin) * dim, dim);
  }
}

// Phase 3, per address: gather d loss / d a from every sample that used it, then back
// through the hidden layers (ReLU) to the prefix sum.
void Trainer::State::BackpropAddresses() {
  const Model::Impl& m = *model;
  BatchBuffers& b = batch;
  const int64_t dim = b.shape.dim;
  const int64_t random_negatives = b.shape.random_negatives;
  const int64_t samples_per_pair = b.shape.samples_per_pair;
  const size_t n = b.pairs;
  pool.Run(Chunks(b.addresses), [&](size_t chunk, size_t worker) {
    const size_t end = std::min(b.addresses, (chunk + 1) * kChunk);
    float* buffer = scratch[worker].data();
    for (size_t i = chunk * kChunk; i < end; ++i) {
      // a_i's samples: its own pair's (k = 0) and the shuffles that lent it to another pair,
      // or, for a random negative, the one sample it was drawn for: da = sum g_k v.
      float* da = b.address_gradient.data() + i * dim;
      std::memset(da, 0, dim * sizeof(float));
      if (i < n) {
        kernels::Axpy(b.score_gradient[i * samples_per_pair], b.folded_entity.data() + i * dim, da,
                      dim);
        for (int64_t s = 0; s < b.shape.shuffled_negatives; ++s) {
          const size_t j = b.shuffle_inverse[s][i];
          if (b.shuffle_valid[s][j]) {
            kernels::Axpy(b.score_gradient[j * samples_per_pair + 1 + random_negatives + s],
                          b.folded_entity.data() + j * dim, da, dim);
          }
        }
      } else {
        const size_t j = (i - n) / random_negatives;
        const size_t r = (i - n) % random_negatives;
        kernels::Axpy(b.score_gradient[j * samples_per_pair + 1 + r],
                      b.folded_entity.data() + j * dim, da, dim);
      }
      // Hidden layer l maps activations[l] to activations[l + 1] (ReLU); the last layer's
      // backward step is the fold's (phase 2).
      const float* grad_out = da;
      for (int64_t l = b.shape.layers - 2; l >= 0; --l) {
        float* grad_in = l == 0 ? b.prefix_sum_gradient.data() + i * dim : buffer + (l % 2) * dim;
        m.HiddenLayerBackward(l, b.activations[l + 1].data() + i * dim, grad_out,
                              b.hidden_deltas[l].data() + i * dim, grad_in);
        grad_out = grad_in;
      }
    }
  });
}

// Phase 4, per weight row: the dense layers' gradients, summed over the batch in a fixed
// order.  Last layer: dW[o] = sum_j u_j[o] dv_j, db[o] = sum_j u_j[o] dc_j.
// Hidden layer l: dW_l[o] = sum_i delta_i[o] activations[l]_i, db_l[o] = sum_i delta_i[o].
void Trainer::State::DenseGradients() {
  const BatchBuffers& b = batch;
  const int64_t dim = b.shape.dim;
  constexpr int64_t kRowsPerTask = 8;
  const int64_t tasks_per_layer = (dim + kRowsPerTask - 1) / kRowsPerTask;
  pool.Run(static_cast<size_t>(b.shape.layers * tasks_per_layer), [&](size_t task, size_t worker) {
    const int64_t l = static_cast<int64_t>(task) / tasks_per_layer;
    const int64_t begin = (static_cast<int64_t>(task) % tasks_per_layer) * kRowsPerTask;
    const int64_t end = std::min(dim, begin + kRowsPerTask);
    const bool last = l == b.shape.layers - 1;
    // A^T B with A = u (pairs) or the hidden deltas (addresses), B = dv or activations[l].
    const float* x = last ? b.entity.data() : b.hidden_deltas[l].data();
    const float* y = last ? b.folded_entity_gradient.data() : b.activations[l].data();
    const size_t rows = last ? b.pairs : b.addresses;
    kernels::GemmTransposedA(x, y, rows, dim, dim, begin, end, gradient.layer_weights[l].data());
    for (int64_t o = begin; o < end; ++o) {
      float bias = 0.0f;
      if (last) {
        for (size_t j = 0; j < b.pairs; ++j)
          bias += b.entity[j * dim + o] * b.folded_offset_gradient[j];
      } else {
        for (size_t i = 0; i < b.addresses; ++i) bias += x[i * dim + o];
      }
      gradient.layer_biases[l][o] = bias;
    }
  });
}

// Phase 5 (run by ScorePairs, beside phase 2): the embedding rows the batch touched, each with its
// contributions: entity row of pair j <- du_j; every prefix row in address i's sum <- d loss / d
// z_i.
void Trainer::State::CollectTouchedRows() {
  const BatchBuffers& b = batch;
  gradient.entities.Reset(b.entity_gradient.data(), 1, b.pairs);
  for (size_t j = 0; j < b.pairs; ++j)
    gradient.entities.Add(b.entity_rows[j], static_cast<uint32_t>(j));
  gradient.prefixes.Reset(batch.PrefixSumGradients(), kMaxIpPrefixes, b.addresses * kMaxIpPrefixes);
  for (size_t i = 0; i < b.addresses; ++i) {
    for (int k = 0; k < b.prefix_count[i]; ++k) {
      if (((b.prefix_kept[i] >> k) & 1) == 0) continue;
      gradient.prefixes.Add(b.prefix_rows[i * kMaxIpPrefixes + k],
                            static_cast<uint32_t>(i * kMaxIpPrefixes + k));
    }
  }
}

Trainer::Trainer(Model::Impl* model, const TrainerOptions& options)
    : state_(std::make_unique<State>(model, options)) {}

Trainer::~Trainer() = default;

size_t Trainer::threads() const { return state_->pool.threads(); }

double Trainer::ComputeGradients(const TrainingRow* rows, size_t n, uint64_t batch_seed) {
  State& s = *state_;
  IPI_CHECK(n > 0);
  s.batch.Resize(n);
  for (size_t j = 0; j < n; ++j)
    s.batch.entity_rows[j] = s.model->EntityRowOfHash(rows[j].entity_hash);
  s.EncodeAddresses(rows, batch_seed);
  s.BuildShuffles(rows, batch_seed);
  s.ScorePairs();  // and CollectTouchedRows
  s.BackpropAddresses();
  s.DenseGradients();
  return s.batch.loss_sum / s.batch.weight_sum;
}

// Adam on the dense layers and on every touched embedding row (see model/sparse_adam.h).
void Trainer::ApplyGradients() {
  State& s = *state_;
  s.pool.Run(s.adam.BeginStep(s.gradient, s.lr_scale), [&](size_t task, size_t worker) {
    s.adam.RunStepTask(task, s.scratch[worker].data());
  });
}

void Trainer::SetNegativeNetworks(const std::vector<TrainingRow>& rows) {
  state_->sampler = NegativeSampler(rows);
  state_->sampler_ready = true;
}

std::vector<float> Trainer::EntityRowGradient(uint64_t row) const {
  return state_->gradient.entities.RowGradient(row);
}
std::vector<float> Trainer::PrefixRowGradient(uint64_t row) const {
  return state_->gradient.prefixes.RowGradient(row);
}

const std::vector<float>& Trainer::LayerWeightGradient(size_t layer) const {
  return state_->gradient.layer_weights[layer];
}
const std::vector<float>& Trainer::LayerBiasGradient(size_t layer) const {
  return state_->gradient.layer_biases[layer];
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
      const double progress =
          (double(epoch) * batches + batch_index) / (double(s.options.total_epochs) * batches);
      s.lr_scale = std::max(0.0, 1.0 - progress);
    }
    const uint64_t batch_seed =
        Mix64(Mix64(s.options.seed + 0x4e4547ULL) ^ (uint64_t(epoch) << 40) ^ batch_index);
    ComputeGradients(rows->data() + begin, n, batch_seed);
    ApplyGradients();
    loss_sum += s.batch.loss_sum;
    correct += s.batch.correct;
    samples += s.batch.samples;
    weight_sum += s.batch.weight_sum;
    if (on_batch)
      on_batch(n * s.batch.shape.samples_per_pair, loss_sum / weight_sum,
               double(correct) / samples);
  }
  metrics.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics.records = samples;
  metrics.loss = weight_sum > 0 ? loss_sum / weight_sum : 0;
  metrics.accuracy = samples ? double(correct) / samples : 0;
  metrics.records_per_second = metrics.seconds > 0 ? samples / metrics.seconds : 0;
  return metrics;
}

}  // namespace ipinsights
