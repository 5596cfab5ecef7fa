// Hyperparameters: SageMaker IP Insights' hyperparameters with their names, defaults and
// ranges (shared/spec/ALGORITHM.md), plus the few settings of our own design.
//
// Values arrive as command-line flags (`--vector-dim 64`), as SageMaker's hyperparameters
// JSON (an object of strings, numbers also accepted) or from a model file. Set() parses and
// range-checks one value and throws UsageError naming the parameter and its range.
//
// num_entity_vectors and vector_dim are required by SageMaker; we use the SageMaker
// container's defaults (100000 and 128) when they are not given.
//
// Thread-safety: a plain value type.
//
//   Hyperparameters hp;
//   hp.Set("vector_dim", "64");                       // or "vector-dim"
//   Hyperparameters from_file = Hyperparameters::FromJson(text, "hp.json");
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ipinsights {

struct Hyperparameters {
  // SageMaker's, in its order.
  int64_t num_entity_vectors = 100000;            // 1 .. 250,000,000
  int64_t vector_dim = 128;                       // 4 .. 4096
  int64_t epochs = 10;                            // >= 1
  double learning_rate = 0.001;                   // 1e-6 .. 10.0
  int64_t mini_batch_size = 5000;                 // 1 .. 500,000
  int64_t num_ip_encoder_layers = 1;              // 0 .. 100
  int64_t random_negative_sampling_rate = 1;      // 0 .. 500
  int64_t shuffled_negative_sampling_rate = 1;    // 0 .. 500; and 1 <= R + S <= 500
  double weight_decay = 0.00001;                  // 0.0 .. 10.0
  int64_t batch_metrics_publish_interval = 1000;  // >= 1

  // Ours: rows of the hashed table of IP prefix embeddings. 0 = derived from
  // num_entity_vectors when training starts (see DefaultIpHashBuckets).
  int64_t ip_hash_buckets = 0;  // 0, or 1024 .. 2^28

  // Parses and range-checks one value. `name` uses underscores or dashes. Throws
  // UsageError("vector_dim: \"abc\" is not an integer (range 4..4096)") and the like,
  // and for unknown names.
  void Set(std::string_view name, std::string_view value);

  // Checks the rules that involve several parameters (1 <= R + S <= 500). Throws UsageError.
  void Validate() const;

  // SageMaker's hyperparameters JSON: an object whose values are strings (numbers also
  // accepted). Unknown keys are errors, except SageMaker's own "_tuning_objective_metric"
  // style keys (leading underscore), which are ignored. `source` names the file in errors.
  static Hyperparameters FromJson(std::string_view json, const std::string& source);

  // A JSON object of strings, SageMaker's shape (what FromJson reads back).
  std::string ToJson() const;

  // The value of a named parameter as text (for logs and files).
  std::string Get(std::string_view name) const;

  // The ip_hash_buckets used when 0 is given: the smallest power of two >= 8 x
  // num_entity_vectors, clamped to 2^16 .. 2^18 (the table holds network prefixes, whose
  // number grows far slower than the entities'; 2^18 rows of 128 floats are 134 MB, and
  // training keeps two Adam moments per value besides).
  int64_t EffectiveIpHashBuckets() const;

  friend bool operator==(const Hyperparameters&, const Hyperparameters&) = default;
};

// The description of one hyperparameter, for flag registration and help texts.
struct HyperparameterInfo {
  const char* name;         // "num_entity_vectors"
  const char* description;  // one line for --help
  bool is_integer;
  double min;
  double max;      // inclusive; +inf when unbounded
  bool sagemaker;  // false for ours
};

// Every hyperparameter, SageMaker's first in its documented order.
const std::vector<HyperparameterInfo>& AllHyperparameters();

}  // namespace ipinsights
