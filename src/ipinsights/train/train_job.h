// RunTrainJob: the whole `train` job: read the training (and validation) CSV, build or
// warm-start a model, train the epochs, calibrate its threshold, write DIR/model.ipinsights,
// DIR/metrics.json and DIR/history.ipinsights.
//
// Calibration (model/score_calibration.h): after the last epoch the validation channel's
// pairs (normal pairs the model did not train on) are scored and the model stores the score
// below which `target_fpr` of them fall, with the curve of rates. Without a validation
// channel, a deterministic sample of at most kCalibrationSample training pairs is used
// instead, with a warning: the model has seen them, so the rates are understated.
//
// Entity novelty (model/entity_novelty.h, train/novelty_fit.h): with a validation channel,
// before calibrating, each entity's rate of new networks is fitted into the score.
//
// History (history/entity_history.h, docs/formats/history.md): the histories `prepare` wrote
// beside the training channel (training_history.h), merged; when there is none, one built from
// the training rows without days, with a warning. Each entity's own scores are summarised
// into it after training. With --init-model the history is still that of this job's
// training window only: earlier windows live in the earlier model's history.
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
#include "ipinsights/train/novelty_fit.h"
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
  // The share of normal pairs the calibrated threshold flags, in (0, 0.5] (`--target-fpr`;
  // not a SageMaker hyperparameter, so not in the hyperparameters).
  double target_fpr = 0.01;
  // Fit each entity's rate of new networks into the score (train/novelty_fit.h; needs a
  // validation channel). Off (`--no-entity-novelty`): the score is SageMaker's dot product.
  bool entity_novelty = true;
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

// Training pairs scored to calibrate when there is no validation channel.
inline constexpr size_t kCalibrationSample = 200000;

struct TrainJobResult {
  std::string model_location;
  std::string metrics_location;
  std::string history_location;   // DIR/history.ipinsights
  uint64_t history_entities = 0;  // entities in it
  ScoreCalibration calibration;   // as stored in the model
  // The entity novelty fit, when there was one (its tables are moved to the model; it keeps
  // the fitted numbers).
  std::optional<NoveltyFit> novelty;
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

// The fit as metrics.json and `train --json` show it ("null" without one).
std::string NoveltyFitJson(const std::optional<NoveltyFit>& fit);

}  // namespace ipinsights
