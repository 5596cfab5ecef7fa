#include "ipinsights/model/model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ipinsights/base/hash.h"
#include "ipinsights/base/parallel.h"
#include "ipinsights/model/ip_encoder.h"
#include "ipinsights/model/kernels.h"
#include "ipinsights/model/model_file.h"
#include "ipinsights/model/model_impl.h"

namespace ipinsights {

// ---- Model::Impl ----

uint64_t Model::Impl::EntityHash(std::string_view entity) const {
  return Hash64(entity, hash_seed);
}

void Model::Impl::PrefixSum(const IpAddress& ip, float* out) const {
  uint32_t rows[kMaxIpPrefixes];
  const int n = IpPrefixRows(ip, hash_seed, static_cast<uint64_t>(prefix_rows()), rows);
  std::memcpy(out, PrefixVector(rows[0]), dim * sizeof(float));
  for (int k = 1; k < n; ++k) kernels::Axpy(1.0f, PrefixVector(rows[k]), out, dim);
}

void Model::Impl::ApplyLayer(size_t layer_index, const float* x, float* y) const {
  const DenseLayer& layer = layers[layer_index];
  const bool last = layer_index + 1 == layers.size();
  for (int64_t o = 0; o < layer.outputs; ++o) {
    const float value =
        layer.bias[o] + kernels::Dot(&layer.weight[o * layer.inputs], x, layer.inputs);
    y[o] = (last || value > 0.0f) ? value : 0.0f;
  }
}

void Model::Impl::HiddenLayerBackward(size_t layer_index, const float* y, const float* grad_y,
                                      float* delta, float* grad_x) const {
  const DenseLayer& layer = layers[layer_index];
  for (int64_t o = 0; o < layer.outputs; ++o) delta[o] = y[o] > 0.0f ? grad_y[o] : 0.0f;
  std::memset(grad_x, 0, layer.inputs * sizeof(float));
  for (int64_t o = 0; o < layer.outputs; ++o) {
    if (delta[o] != 0.0f)
      kernels::Axpy(delta[o], &layer.weight[o * layer.inputs], grad_x, layer.inputs);
  }
}

void Model::Impl::EncodeIp(const IpAddress& ip, float* out, float* scratch) const {
  if (layers.empty()) {
    PrefixSum(ip, out);
    return;
  }
  float* a = scratch;
  float* b = scratch + dim;
  PrefixSum(ip, a);
  for (size_t l = 0; l < layers.size(); ++l) {
    float* y = (l + 1 == layers.size()) ? out : b;
    ApplyLayer(l, a, y);
    std::swap(a, b);
  }
}

void Model::Impl::FoldEntities(const uint64_t* entity_rows, size_t count, const float** pointers,
                               float* folded, float* offsets) const {
  const DenseLayer& last = layers.back();
  for (size_t e = 0; e < count; ++e) pointers[e] = EntityVector(entity_rows[e]);
  // folded (count x inputs) = U (count x outputs) W (outputs x inputs).
  kernels::VecMatMany(pointers, count, last.weight.data(), static_cast<size_t>(last.outputs),
                      static_cast<size_t>(last.inputs), folded);
  for (size_t e = 0; e < count; ++e) {
    offsets[e] = kernels::Dot(pointers[e], last.bias.data(), static_cast<size_t>(dim));
  }
}

void Model::Impl::PrecomputeFolded(size_t threads) {
  const size_t rows = static_cast<size_t>(entity_rows());
  const size_t udim = static_cast<size_t>(dim);
  if (layers.empty() || rows * udim * sizeof(float) > kMaxPrecomputedFoldBytes) return;
  folded_entities.resize(rows * udim);
  folded_offsets.resize(rows);
  constexpr size_t kRowsPerTask = 256;
  ParallelFor((rows + kRowsPerTask - 1) / kRowsPerTask, threads, [&](size_t task, size_t) {
    const size_t begin = task * kRowsPerTask;
    const size_t count = std::min(kRowsPerTask, rows - begin);
    uint64_t row_ids[kRowsPerTask];
    const float* pointers[kRowsPerTask];
    for (size_t i = 0; i < count; ++i) row_ids[i] = begin + i;
    FoldEntities(row_ids, count, pointers, folded_entities.data() + begin * udim,
                 folded_offsets.data() + begin);
  });
}

float Model::Impl::ScoreFolded(const float* folded, float offset, const uint32_t* rows,
                               int num_rows, float* scratch) const {
  if (layers.size() == 1) {
    // The folded vector meets the prefix sum directly: no layer per pair at all.
    const float* prefix[kMaxIpPrefixes];
    for (int k = 0; k < num_rows; ++k) prefix[k] = PrefixVector(rows[k]);
    return kernels::DotWithRowSum(folded, prefix, num_rows, static_cast<size_t>(dim)) + offset;
  }
  // Earlier (ReLU) layers still run per pair; only the last one is folded.
  float* a = scratch;
  float* b = scratch + dim;
  std::memcpy(a, PrefixVector(rows[0]), dim * sizeof(float));
  for (int k = 1; k < num_rows; ++k) kernels::Axpy(1.0f, PrefixVector(rows[k]), a, dim);
  for (size_t l = 0; l + 1 < layers.size(); ++l) {
    ApplyLayer(l, a, b);
    std::swap(a, b);
  }
  return kernels::Dot(folded, a, static_cast<size_t>(dim)) + offset;
}

namespace {

// Per-thread scratch of ScoreBatch, reused across calls (up to kFoldedFloatBudget floats
// of folded entities, 5 MB for a 10,000-pair batch of distinct entities at dim 128).
struct BatchScratch {
  // Per pair of the current window.
  std::vector<uint32_t> prefix_rows;  // kMaxIpPrefixes per pair
  std::vector<uint8_t> prefix_counts;
  std::vector<uint32_t> pair_slots;
  std::vector<uint64_t> pair_rates;  // where each pair's entity's novelty rate is (RateIndex)
  // Open addressing: entity row + 1 (0 = empty) -> slot of `folded` (dim floats each) and
  // `offsets`.
  std::vector<uint64_t> keys;
  std::vector<uint32_t> slots;
  std::vector<float> folded;
  std::vector<float> offsets;
  // Entities of the current window still to fold, and FoldEntities' scratch.
  std::vector<uint64_t> pending;
  std::vector<const float*> pointers;
  std::vector<float> work;
};

// Pairs per window: the per-pair rows of a window stay in L1/L2 while it is scored.
constexpr size_t kWindow = 1024;
// Folded entities cached per batch: at most this many floats (8 MiB, but at least one
// window's worth), so that a batch of all-distinct entities does not grow the scratch
// without bound. When a window might not fit, the cache starts over (same results).
constexpr size_t kFoldedFloatBudget = size_t{2} << 20;

// A uniform float in [-scale, scale) from a counter (deterministic, parallel-friendly).
inline float UniformAt(uint64_t stream, uint64_t index, float scale) {
  const uint64_t bits = Mix64(stream ^ Mix64(index));
  const float unit = static_cast<float>(bits >> 40) * (1.0f / 16777216.0f);  // [0, 1)
  return (2.0f * unit - 1.0f) * scale;
}

template <typename Vector>
void FillUniform(Vector& values, uint64_t stream, float scale) {
  for (size_t i = 0; i < values.size(); ++i) values[i] = UniformAt(stream, i, scale);
}

}  // namespace

std::unique_ptr<Model::Impl> Model::Impl::CreateRandom(const Hyperparameters& hyperparameters,
                                                       uint64_t seed) {
  hyperparameters.Validate();
  auto impl = std::make_unique<Impl>();
  impl->hyperparameters = hyperparameters;
  impl->hyperparameters.ip_hash_buckets = hyperparameters.EffectiveIpHashBuckets();
  impl->hash_seed = Mix64(seed ^ 0x6970696e73696768ULL);
  impl->dim = hyperparameters.vector_dim;
  const int64_t dim = impl->dim;
  impl->entity_table.resize(static_cast<size_t>(impl->entity_rows() * dim));
  impl->prefix_table.resize(static_cast<size_t>(impl->prefix_rows() * dim));
  // Scale so that a first score u . W (sum of 4 prefix rows) has a standard deviation of
  // about 0.05: var = dim * (a^2/3) * 4 (a^2/3) for entity and prefix values U(-a, a) and a
  // variance-preserving W, so a = (0.05^2 * 9 / (4 dim))^(1/4).
  const float a = static_cast<float>(std::pow(0.0025 * 9.0 / (4.0 * dim), 0.25));
  FillUniform(impl->entity_table, Mix64(seed + 1), a);
  FillUniform(impl->prefix_table, Mix64(seed + 2), a);
  const int64_t layers = hyperparameters.num_ip_encoder_layers;
  impl->layers.resize(static_cast<size_t>(layers));
  for (int64_t l = 0; l < layers; ++l) {
    DenseLayer& layer = impl->layers[l];
    layer.inputs = dim;
    layer.outputs = dim;
    layer.weight.resize(static_cast<size_t>(dim * dim));
    layer.bias.assign(static_cast<size_t>(dim), 0.0f);
    // Uniform with variance 1/dim (linear last layer) or 2/dim (He, before a ReLU).
    const bool last = l + 1 == layers;
    const float scale = static_cast<float>(std::sqrt((last ? 3.0 : 6.0) / dim));
    FillUniform(layer.weight, Mix64(seed + 3 + l), scale);
  }
  return impl;
}

// ---- Model ----

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::shared_ptr<Model> Model::Create(const Hyperparameters& hyperparameters, uint64_t seed) {
  return std::make_shared<Model>(Impl::CreateRandom(hyperparameters, seed));
}

std::shared_ptr<const Model> Model::Load(const std::string& location) {
  std::unique_ptr<Impl> impl = ReadModelFile(location);
  impl->PrecomputeFolded(HardwareThreads());
  return std::make_shared<Model>(std::move(impl));
}

void Model::Save(const std::string& location) const { WriteModelFile(*impl_, location); }

const Hyperparameters& Model::hyperparameters() const { return impl_->hyperparameters; }
int Model::vector_dim() const { return static_cast<int>(impl_->dim); }
uint64_t Model::hash_seed() const { return impl_->hash_seed; }
bool Model::ScoresPairsAlone() const { return impl_->layers.empty() || impl_->has_folded(); }
const ScoreCalibration* Model::calibration() const {
  return impl_->calibration ? &*impl_->calibration : nullptr;
}

std::optional<uint64_t> Model::history_checksum() const { return impl_->history_checksum; }

void Model::EntityEmbedding(std::string_view entity, float* out) const {
  const float* row = impl_->EntityVector(impl_->EntityRowOfHash(impl_->EntityHash(entity)));
  std::memcpy(out, row, impl_->dim * sizeof(float));
}

void Model::IpEmbedding(const IpAddress& ip, float* out) const {
  thread_local std::vector<float> scratch;
  if (scratch.size() < static_cast<size_t>(2 * impl_->dim)) scratch.resize(2 * impl_->dim);
  impl_->EncodeIp(ip, out, scratch.data());
}

float Model::Score(std::string_view entity, const IpAddress& ip) const {
  const Impl& m = *impl_;
  const uint64_t hash = m.EntityHash(entity);
  const uint64_t entity_row = m.EntityRowOfHash(hash);
  return m.novelty.Adjust(DotOfRow(entity_row, ip), m.novelty.RateIndex(hash, entity_row), ip);
}

float Model::DotProduct(std::string_view entity, const IpAddress& ip) const {
  const Impl& m = *impl_;
  return DotOfRow(m.EntityRowOfHash(m.EntityHash(entity)), ip);
}

float Model::DotOfRow(uint64_t entity_row, const IpAddress& ip) const {
  const Impl& m = *impl_;
  const float* row = m.EntityVector(entity_row);
  thread_local std::vector<float> buffer;
  if (buffer.size() < static_cast<size_t>(3 * m.dim)) buffer.resize(3 * m.dim);
  if (m.layers.empty()) {
    m.PrefixSum(ip, buffer.data());
    return kernels::Dot(row, buffer.data(), m.dim);
  }
  uint32_t rows[kMaxIpPrefixes];
  const int n = IpPrefixRows(ip, m.hash_seed, static_cast<uint64_t>(m.prefix_rows()), rows);
  if (m.has_folded()) {
    return m.ScoreFolded(m.folded_entities.data() + entity_row * m.dim,
                         m.folded_offsets[entity_row], rows, n, buffer.data() + m.dim);
  }
  // The same folded computation as ScoreBatch (VecMat gives VecMatMany's bits), so a
  // pair scores the same through either; and with one layer it is cheaper than the layer.
  const DenseLayer& last = m.layers.back();
  float* folded = buffer.data();
  kernels::VecMat(row, last.weight.data(), static_cast<size_t>(last.outputs),
                  static_cast<size_t>(last.inputs), folded);
  const float offset = kernels::Dot(row, last.bias.data(), static_cast<size_t>(m.dim));
  return m.ScoreFolded(folded, offset, rows, n, buffer.data() + m.dim);
}

// Without layers this is Score per pair. With layers, the last (linear) layer is folded
// into the entity vector once per distinct entity row of the batch (Impl::FoldEntities,
// four entities per pass over W), so with one layer a pair costs a hash, its prefix rows
// and one fused dot product. A pair's score does not depend on the rest of the batch
// (caching only saves work) and equals Score's bit for bit; it differs from
// dot(EntityEmbedding, IpEmbedding) by float summation order only (at most
// 4 dim FLT_EPSILON sum_o |u_o| (sum_i |W_oi h_i| + |b_o|); tests/model/score_batch_test.cc).
void Model::ScoreBatch(const std::string_view* entities, const IpAddress* ips, size_t n,
                       float* scores) const {
  Batch(entities, ips, n, true, scores);
}

void Model::DotProductBatch(const std::string_view* entities, const IpAddress* ips, size_t n,
                            float* dot_products) const {
  Batch(entities, ips, n, false, dot_products);
}

void Model::Batch(const std::string_view* entities, const IpAddress* ips, size_t n, bool novelty,
                  float* scores) const {
  const Impl& m = *impl_;
  const int64_t dim = m.dim;
  // Without layers, or with every entity folded at load, a pair's work is its own.
  if (m.layers.empty() || m.has_folded()) {
    for (size_t i = 0; i < n; ++i) {
      scores[i] = novelty ? Score(entities[i], ips[i]) : DotProduct(entities[i], ips[i]);
    }
    return;
  }
  thread_local BatchScratch scratch;
  const size_t udim = static_cast<size_t>(dim);
  const size_t max_slots = std::max(std::min(n, kWindow), std::min(n, kFoldedFloatBudget / udim));
  size_t table_size = 16;
  while (table_size < 2 * max_slots) table_size *= 2;
  const size_t mask = table_size - 1;
  scratch.keys.assign(table_size, 0);
  scratch.slots.resize(table_size);
  if (scratch.folded.size() < max_slots * udim) scratch.folded.resize(max_slots * udim);
  if (scratch.offsets.size() < max_slots) scratch.offsets.resize(max_slots);
  if (scratch.work.size() < 2 * udim) scratch.work.resize(2 * udim);
  scratch.pair_slots.resize(kWindow);
  scratch.pair_rates.resize(kWindow);
  scratch.prefix_rows.resize(kWindow * kMaxIpPrefixes);
  scratch.prefix_counts.resize(kWindow);
  scratch.pending.resize(kWindow);
  scratch.pointers.resize(kWindow);
  size_t used_slots = 0;

  for (size_t begin = 0; begin < n; begin += kWindow) {
    const size_t count = std::min(kWindow, n - begin);
    if (used_slots + count > max_slots) {
      std::fill(scratch.keys.begin(), scratch.keys.end(), 0);
      used_slots = 0;
    }
    // Pass 1: rows of every pair; new entities get the next slots.
    const size_t first_new = used_slots;
    for (size_t j = 0; j < count; ++j) {
      const uint64_t hash = m.EntityHash(entities[begin + j]);
      const uint64_t row = m.EntityRowOfHash(hash);
      scratch.pair_rates[j] = m.novelty.RateIndex(hash, row);
      scratch.prefix_counts[j] = static_cast<uint8_t>(
          IpPrefixRows(ips[begin + j], m.hash_seed, static_cast<uint64_t>(m.prefix_rows()),
                       &scratch.prefix_rows[j * kMaxIpPrefixes]));
      const uint64_t key = row + 1;
      size_t probe = static_cast<size_t>(Mix64(key)) & mask;
      while (scratch.keys[probe] != 0 && scratch.keys[probe] != key) probe = (probe + 1) & mask;
      if (scratch.keys[probe] == 0) {
        scratch.keys[probe] = key;
        scratch.slots[probe] = static_cast<uint32_t>(used_slots);
        scratch.pending[used_slots - first_new] = row;
        ++used_slots;
      }
      scratch.pair_slots[j] = scratch.slots[probe];
    }
    // Pass 2: fold the window's new entities together.
    m.FoldEntities(scratch.pending.data(), used_slots - first_new, scratch.pointers.data(),
                   scratch.folded.data() + first_new * udim, scratch.offsets.data() + first_new);
    // Pass 3: score. (Software prefetch of the prefix rows a few pairs ahead measured no
    // faster: the independent pairs already keep enough loads in flight.)
    for (size_t j = 0; j < count; ++j) {
      const uint32_t slot = scratch.pair_slots[j];
      const float dot = m.ScoreFolded(scratch.folded.data() + slot * udim, scratch.offsets[slot],
                                      &scratch.prefix_rows[j * kMaxIpPrefixes],
                                      scratch.prefix_counts[j], scratch.work.data());
      scores[begin + j] =
          novelty ? m.novelty.Adjust(dot, scratch.pair_rates[j], ips[begin + j]) : dot;
    }
  }
}

}  // namespace ipinsights
