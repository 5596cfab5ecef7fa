#include "ipinsights/model/model.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "ipinsights/base/error.h"
#include "ipinsights/base/hash.h"
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
    const float value = layer.bias[o] + kernels::Dot(&layer.weight[o * layer.inputs], x, layer.inputs);
    y[o] = (last || value > 0.0f) ? value : 0.0f;
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

namespace {

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

void Model::Impl::CheckSameShape(const Impl& other, const std::string& what) const {
  auto mismatch = [&](const char* name, int64_t mine, int64_t theirs) {
    if (mine != theirs) {
      throw Error(fmt::format("{}: shape mismatch: {} is {} in the model but {} for this training",
                              what, name, theirs, mine));
    }
  };
  mismatch("num_entity_vectors", entity_rows(), other.entity_rows());
  mismatch("vector_dim", dim, other.dim);
  mismatch("num_ip_encoder_layers", static_cast<int64_t>(layers.size()),
           static_cast<int64_t>(other.layers.size()));
  mismatch("ip_hash_buckets", prefix_rows(), other.prefix_rows());
}

// ---- Model ----

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::shared_ptr<Model> Model::Create(const Hyperparameters& hyperparameters, uint64_t seed) {
  return std::make_shared<Model>(Impl::CreateRandom(hyperparameters, seed));
}

std::shared_ptr<const Model> Model::Load(const std::string& location) {
  return std::make_shared<Model>(ReadModelFile(location));
}

void Model::Save(const std::string& location) const { WriteModelFile(*impl_, location); }

const Hyperparameters& Model::hyperparameters() const { return impl_->hyperparameters; }
int Model::vector_dim() const { return static_cast<int>(impl_->dim); }
uint64_t Model::hash_seed() const { return impl_->hash_seed; }

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
  thread_local std::vector<float> buffer;
  if (buffer.size() < static_cast<size_t>(3 * impl_->dim)) buffer.resize(3 * impl_->dim);
  float* ip_embedding = buffer.data();
  impl_->EncodeIp(ip, ip_embedding, buffer.data() + impl_->dim);
  const float* row = impl_->EntityVector(impl_->EntityRowOfHash(impl_->EntityHash(entity)));
  return kernels::Dot(row, ip_embedding, impl_->dim);
}

void Model::ScoreBatch(const std::string_view* entities, const IpAddress* ips, size_t n,
                       float* scores) const {
  for (size_t i = 0; i < n; ++i) scores[i] = Score(entities[i], ips[i]);
}

}  // namespace ipinsights
