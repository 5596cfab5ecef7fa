// Model: a trained IP Insights model (see shared/spec/ALGORITHM.md): hashed entity
// embeddings, an IP encoder over address prefixes followed by num_ip_encoder_layers fully
// connected layers, and a dot-product score (higher = more normal).
//
// This is the read side every consumer uses (score, evaluate, serve). Training lives in
// train/: it trains a Model::Impl (model_impl.h) in place and writes it with WriteModelFile
// (model_file.h), beside its metrics. Save() writes a Model (tests and tools).
//
// Thread-safety: a loaded Model is immutable; all const methods may be called from any
// number of threads at once. Scratch space is the caller's (see ScoreBatch).
//
//   std::shared_ptr<const Model> model = Model::Load("model.ipinsights");
//   float s = model->Score("AIDAEXAMPLE", *IpAddress::Parse("203.0.113.7"));
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/model/hyperparameters.h"
#include "ipinsights/model/score_calibration.h"
#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {

class Model {
 public:
  // Reads a model file from any storage location. Throws Error naming the location and
  // the reason when the file is truncated, corrupted, of another format or version.
  static std::shared_ptr<const Model> Load(const std::string& location);

  // Writes the model file atomically. Throws Error.
  void Save(const std::string& location) const;

  // A new model with random initial weights (scores start near 0), deterministic in
  // `seed` (which also fixes the entity/IP hash seed). The starting point of training;
  // tests use it to build small models:
  //   Hyperparameters hp; hp.num_entity_vectors = 100; hp.vector_dim = 8;
  //   Model::Create(hp, 7)->Save(dir + "/model.ipinsights");
  // Throws UsageError when the hyperparameters are invalid.
  static std::shared_ptr<Model> Create(const Hyperparameters& hyperparameters, uint64_t seed);

  const Hyperparameters& hyperparameters() const;
  int vector_dim() const;
  // The seed of the entity and IP prefix hashes (stored in the model file).
  uint64_t hash_seed() const;
  // How normal pairs score under this model (score_calibration.h); nullptr for a model
  // trained before calibration was stored.
  const ScoreCalibration* calibration() const;
  // The checksum of the training history `train` wrote with this model
  // (EntityHistory::checksum(); nullopt for models from before it was recorded).
  std::optional<uint64_t> history_checksum() const;

  // The score (higher = more normal): the dot product combined with the entity's rate of
  // new networks when the model has one (entity_novelty.h; models trained with a validation
  // channel), else the dot product itself. What score, evaluate, findings and the
  // calibration use. Equals ScoreBatch's score bit for bit.
  float Score(std::string_view entity, const IpAddress& ip) const;

  // SageMaker's score, what serve returns as dot_product: dot(EntityEmbedding, IpEmbedding),
  // up to float rounding (the last layer is applied to the entity side: u.(Wh+b) =
  // (W^T u).h + u.b; exact without layers). Equals DotProductBatch's bit for bit.
  float DotProduct(std::string_view entity, const IpAddress& ip) const;

  // Writes vector_dim() floats to `out`.
  void EntityEmbedding(std::string_view entity, float* out) const;
  void IpEmbedding(const IpAddress& ip, float* out) const;

  // True when a pair costs the same scored alone as in a batch (no layers, or every entity's
  // last layer folded at load): callers may then score pair by pair, without buffering.
  bool ScoresPairsAlone() const;

  // Scores n pairs; scores[i] = Score(entities[i], ips[i]). Fast path for batches: the
  // last layer is applied once per distinct entity of the batch.
  void ScoreBatch(const std::string_view* entities, const IpAddress* ips, size_t n,
                  float* scores) const;
  // dot_products[i] = DotProduct(entities[i], ips[i]), as fast.
  void DotProductBatch(const std::string_view* entities, const IpAddress* ips, size_t n,
                       float* dot_products) const;

  // Implementation details (weights, encoder) are in model/*.h; see the .cc.
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  ~Model();
  Impl& impl() { return *impl_; }
  const Impl& impl() const { return *impl_; }

 private:
  void Batch(const std::string_view* entities, const IpAddress* ips, size_t n, bool novelty,
             float* scores) const;
  float DotOfRow(uint64_t entity_row, const IpAddress& ip) const;

  std::unique_ptr<Impl> impl_;
};

}  // namespace ipinsights
