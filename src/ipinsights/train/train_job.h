// RunTrainJob: the whole `train` job: read the training (and validation) CSV, build or
// warm-start a model, train the epochs, write DIR/model.ipinsights and DIR/metrics.json.
// The CLI, `demo` and `pipeline` call it; it prints nothing itself but reports log lines
// (SageMaker's shape) through `log` and draws a Progress bar unless quiet.
//
// Thread-safety: one job at a time per model directory.
//
//   TrainJobOptions options;
//   options.train = "train.csv"; options.model_dir = "out";
//   options.hyperparameters.epochs = 5;
//   TrainJobResult result = RunTrainJob(options);
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ipinsights/model/hyperparameters.h"
#include "ipinsights/model/model_impl.h"
#include "ipinsights/train/trainer.h"

namespace ipinsights {

struct EpochRecord;

struct TrainJobOptions {
  std::string train;       // location of the training CSV (file, folder, s3)
  std::string validation;  // optional: validation CSV
  std::string model_dir;   // where model.ipinsights and metrics.json go
  std::string init_model;  // optional: warm start from this model file
  Hyperparameters hyperparameters;
  // Names of the hyperparameters given explicitly; with init_model, shape parameters not
  // named here are taken from the model, and named ones must match it.
  std::set<std::string> explicit_hyperparameters;
  size_t threads = 0;
  uint64_t seed = 1;
  bool quiet = false;
  bool strict = false;  // the first bad row of --train or --validation is an Error
  std::function<void(const std::string&)> log;  // one line, no newline; may be empty
  // SageMaker's metric lines (Epoch[0] ..., #quality_metric: ...), 0-based as SageMaker
  // writes them, for log scrapers; one line, no newline; may be empty.
  std::function<void(const std::string&)> metrics_log;
  // Called after each epoch (its 0-based number is record.metrics.epoch); may be empty.
  std::function<void(const EpochRecord& record, int64_t epochs)> epoch_done;
};

struct EpochRecord {
  EpochMetrics metrics;
  std::optional<double> validation_auc;
};

struct TrainJobResult {
  std::string model_location;
  std::string metrics_location;
  uint64_t training_rows = 0;
  uint64_t entities = 0;  // distinct entities in the training rows
  uint64_t bad_rows = 0;
  uint64_t validation_rows = 0;
  uint64_t validation_bad_rows = 0;
  std::vector<std::string> row_errors;  // the first bad rows of --train (BadRecordLog messages)
  std::vector<EpochRecord> epochs;
  double seconds = 0;
  size_t threads = 0;
  Hyperparameters hyperparameters;  // as trained (ip_hash_buckets resolved)
  // Advice, not errors: num_entity_vectors far from twice the distinct entities, a model
  // that looks underfit. Each says what to change.
  std::vector<std::string> warnings;
};

// Throws UsageError for bad options, Error for unreadable inputs or unwritable outputs.
TrainJobResult RunTrainJob(const TrainJobOptions& options);

// Why a model with hyperparameters `model` cannot warm-start a job asking for `wanted` (of
// which `explicit_names` were given explicitly): a shape parameter named explicitly that
// differs ("vector_dim is 64 in the model but 128 was asked for"), or nullopt when it can.
// Shape parameters not named are taken from the model.
std::optional<std::string> WarmStartMismatch(const Hyperparameters& wanted,
                                             const std::set<std::string>& explicit_names,
                                             const Hyperparameters& model);

// Throws Error unless `final_loss` and every weight are finite: a diverged model would
// score every pair NaN and flag nothing, so it is never written.
void CheckTrainedModel(const Model::Impl& model, double final_loss);

// metrics.json text for a finished job.
std::string MetricsJson(const TrainJobResult& result, uint64_t seed);

}  // namespace ipinsights
