#include "ipinsights/train/train_job.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "ipinsights/base/bad_record.h"
#include "ipinsights/base/distinct_hashes.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/hash.h"
#include "ipinsights/base/parallel.h"
#include "ipinsights/base/progress.h"
#include "ipinsights/dataset/channel_listing.h"
#include "ipinsights/logs/gzip_reader.h"
#include "ipinsights/model/kernels.h"
#include "ipinsights/model/model_file.h"
#include "ipinsights/storage/storage.h"
#include "ipinsights/train/discriminator_auc.h"
#include "ipinsights/train/row_scores.h"
#include "ipinsights/train/training_history.h"

namespace ipinsights {
namespace {

// Whether `location`'s first object starts like a log file (gzip, or a JSON object or
// array), the usual reason a "training CSV" has no valid row.
bool LooksLikeJsonLogs(const std::string& location) {
  try {
    Storage& storage = OpenStorage(location);
    const std::vector<ObjectInfo> objects = ListChannel(location);
    if (objects.empty() || objects[0].location == "-") return false;
    std::unique_ptr<SequentialReader> reader = storage.OpenSequential(objects[0].location);
    char head[64];
    const std::string_view text(head, reader->Read(head, sizeof(head)));
    if (LooksGzipped(text)) return true;
    const size_t first = text.find_first_not_of(" \t\r\n");
    return first != std::string_view::npos && (text[first] == '{' || text[first] == '[');
  } catch (const Error&) {
    return false;  // only a hint: the read error itself was reported already
  }
}

uint64_t DistinctEntities(const std::vector<TrainingRow>& rows) {
  DistinctHashes entities;
  for (const TrainingRow& row : rows) entities.Add(row.entity_hash);
  return entities.size();
}

// SageMaker's advice is about twice as many entity vectors as distinct entities: fewer and
// entities share rows (their addresses blur together), far more and the model is mostly
// untrained rows (memory and file size for nothing).
std::string EntityVectorAdvice(int64_t num_entity_vectors, uint64_t entities) {
  const double ratio = static_cast<double>(num_entity_vectors) / std::max<uint64_t>(entities, 1);
  if (ratio >= 1 && ratio <= 10) return "";
  return fmt::format(
      "num_entity_vectors is {} for {} distinct entities: {}; about twice the entities ({}) is "
      "SageMaker's advice",
      num_entity_vectors, entities,
      ratio < 1 ? "several entities share each embedding row, which blurs their addresses"
                : "most rows stay untrained and the model is larger than it needs to be",
      2 * entities);
}

// A model whose final training accuracy stays low has not learnt the data (too few steps,
// too small a learning rate): its scores separate little, and nothing else would say so.
std::string UnderfitAdvice(const Hyperparameters& hp, uint64_t rows, double accuracy) {
  if (accuracy >= 0.85) return "";
  const uint64_t steps_per_epoch = (rows + static_cast<uint64_t>(hp.mini_batch_size) - 1) /
                                   static_cast<uint64_t>(hp.mini_batch_size);
  return fmt::format(
      "training accuracy is {:.3f} after {} epochs of {} mini-batches: the model looks underfit. "
      "Give it more steps or a larger step: --epochs, --learning-rate (0.01 is common), or a "
      "smaller --mini-batch-size",
      accuracy, hp.epochs, steps_per_epoch);
}

std::string Number(double value) {
  if (!std::isfinite(value)) return "null";
  return fmt::format("{:.6g}", value);
}

// Up to kCalibrationSample of `rows`, evenly spaced. Training has shuffled them (each
// epoch, from the seed), so this is a uniform sample of the rows (a pair seen often is
// sampled as often), the same for the same seed and data.
std::vector<TrainingRow> CalibrationSample(const std::vector<TrainingRow>& rows) {
  if (rows.size() <= kCalibrationSample) return rows;
  std::vector<TrainingRow> sample;
  sample.reserve(kCalibrationSample);
  for (size_t i = 0; i < kCalibrationSample; ++i) {
    sample.push_back(rows[static_cast<size_t>(static_cast<unsigned __int128>(i) * rows.size() /
                                              kCalibrationSample)]);
  }
  return sample;
}

// The warm-start model, with the shape parameters reconciled.
std::unique_ptr<Model::Impl> WarmStart(const TrainJobOptions& options, Hyperparameters* hp) {
  std::unique_ptr<Model::Impl> model = ReadModelFile(options.init_model);
  const Hyperparameters& old = model->hyperparameters;
  if (std::optional<std::string> mismatch =
          WarmStartMismatch(*hp, options.explicit_hyperparameters, old)) {
    throw Error(fmt::format("--init-model {}: shape mismatch: {}", options.init_model, *mismatch));
  }
  hp->num_entity_vectors = old.num_entity_vectors;
  hp->vector_dim = old.vector_dim;
  hp->num_ip_encoder_layers = old.num_ip_encoder_layers;
  hp->ip_hash_buckets = old.ip_hash_buckets;
  model->hyperparameters = *hp;
  return model;
}

}  // namespace

std::optional<std::string> WarmStartMismatch(const Hyperparameters& wanted,
                                             const std::set<std::string>& explicit_names,
                                             const Hyperparameters& model) {
  struct Shape {
    const char* name;
    int64_t Hyperparameters::*field;
  };
  const Shape shapes[] = {{"num_entity_vectors", &Hyperparameters::num_entity_vectors},
                          {"vector_dim", &Hyperparameters::vector_dim},
                          {"num_ip_encoder_layers", &Hyperparameters::num_ip_encoder_layers},
                          {"ip_hash_buckets", &Hyperparameters::ip_hash_buckets}};
  for (const Shape& shape : shapes) {
    if (explicit_names.count(shape.name) == 0 || wanted.*shape.field == model.*shape.field)
      continue;
    // ip_hash_buckets 0 means "derive it", which the model's value satisfies.
    if (shape.field == &Hyperparameters::ip_hash_buckets && wanted.*shape.field == 0) continue;
    return fmt::format("{} is {} in the model but {} was asked for", shape.name, model.*shape.field,
                       wanted.*shape.field);
  }
  return std::nullopt;
}

TrainJobResult RunTrainJob(const TrainJobOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto log = [&](const std::string& line) {
    if (options.log) options.log(line);
  };
  auto metrics_log = [&](const std::string& line) {
    if (options.metrics_log) options.metrics_log(line);
  };
  Hyperparameters hp = options.hyperparameters;
  hp.Validate();
  if (options.train.empty()) throw UsageError("train: --train is required");
  if (options.model_dir.empty()) throw UsageError("train: --model-dir is required");
  if (!(options.target_fpr > 0 && options.target_fpr <= 0.5)) {
    throw UsageError(
        fmt::format("--target-fpr {}: must be in (0, 0.5] (0.01 flags 1% of normal pairs)",
                    options.target_fpr));
  }

  std::unique_ptr<Model::Impl> model;
  if (!options.init_model.empty()) {
    model = WarmStart(options, &hp);
  } else {
    model = Model::Impl::CreateRandom(hp, options.seed);
  }
  hp = model->hyperparameters;

  TrainJobResult result;
  result.hyperparameters = hp;
  result.model_location = JoinLocation(options.model_dir, "model.ipinsights");
  result.metrics_location = JoinLocation(options.model_dir, "metrics.json");
  result.history_location = JoinLocation(options.model_dir, "history.ipinsights");

  // The history: prepare's beside the channel, read first so a bad one fails before
  // training; else built from the rows as they are read.
  std::string without_history;
  const std::vector<std::string> history_locations =
      HistoriesBeside(options.train, &without_history);
  HistoryBuilder history_builder;
  for (const std::string& location : history_locations) {
    history_builder.Merge(ReadHistoryFile(location));
  }
  const bool build_history = history_locations.empty();

  TrainingSet train;
  BadRecordLog train_bad_rows(BadRecordLog::kDefaultCap, options.strict);
  {
    Progress progress("read " + options.train, 0, Progress::Unit::kBytes, options.quiet);
    train = LoadTrainingSet(options.train, model->hash_seed, &progress, &train_bad_rows,
                            build_history ? &history_builder : nullptr);
    progress.Done();
  }
  result.training_rows = train.rows.size();
  result.bad_rows = train.stats.bad_rows;
  result.row_errors = train_bad_rows.messages();
  if (train.rows.empty()) {
    std::string message =
        fmt::format("{}: no valid training rows ({} bad rows{}{})", options.train,
                    train.stats.bad_rows, result.row_errors.empty() ? "" : "; first: ",
                    result.row_errors.empty() ? "" : result.row_errors[0]);
    if (LooksLikeJsonLogs(options.train)) {
      message += fmt::format(
          ". It holds JSON logs (CloudTrail or WAF), not entity,ip CSV: run `ipinsights "
          "prepare cloudtrail --input {} --output train.csv` (or `prepare waf`) first and train "
          "on its output",
          options.train);
    }
    throw Error(message);
  }
  result.entities = DistinctEntities(train.rows);
  if (std::string advice = EntityVectorAdvice(hp.num_entity_vectors, result.entities);
      !advice.empty()) {
    result.warnings.push_back(advice);
  }
  if (build_history) {
    result.warnings.push_back(fmt::format(
        "no history beside {}{}: reasons will lack first/last day (train on `prepare`'s output "
        "with its .history files)",
        options.train,
        without_history == options.train ? "" : " (" + without_history + " has none)"));
  }
  log(fmt::format("read {} training rows from {} ({} bad rows skipped)", train.rows.size(),
                  options.train, train.stats.bad_rows));
  for (const std::string& error : result.row_errors) log("skipped: " + error);

  TrainingSet validation;
  if (!options.validation.empty()) {
    BadRecordLog validation_bad_rows(BadRecordLog::kDefaultCap, options.strict);
    validation =
        LoadTrainingSet(options.validation, model->hash_seed, nullptr, &validation_bad_rows);
    result.validation_rows = validation.rows.size();
    result.validation_bad_rows = validation.stats.bad_rows;
    log(fmt::format("read {} validation rows from {} ({} bad rows skipped)", validation.rows.size(),
                    options.validation, validation.stats.bad_rows));
    for (const std::string& error : validation_bad_rows.messages()) log("skipped: " + error);
  }

  Trainer trainer(model.get(),
                  TrainerOptions{options.threads, options.seed, static_cast<int>(hp.epochs)});
  result.threads = trainer.threads();
  log(fmt::format("training: {} threads, {} kernels, hyperparameters {}", trainer.threads(),
                  kernels::ActiveKernels(), hp.ToJson()));
  const uint64_t samples_per_pair =
      1 + hp.random_negative_sampling_rate + hp.shuffled_negative_sampling_rate;
  for (int64_t epoch = 0; epoch < hp.epochs; ++epoch) {
    Progress progress(fmt::format("epoch {}/{}", epoch + 1, hp.epochs),
                      train.rows.size() * samples_per_pair, Progress::Unit::kCount, options.quiet);
    uint64_t batches = 0;
    uint64_t samples_done = 0;
    const auto epoch_start = std::chrono::steady_clock::now();
    EpochRecord record;
    record.metrics = trainer.TrainEpoch(
        &train.rows, static_cast<int>(epoch), [&](uint64_t samples, double loss, double accuracy) {
          progress.Add(samples);
          samples_done += samples;
          ++batches;
          if (batches % hp.batch_metrics_publish_interval == 0) {
            progress.SetStatus(fmt::format("loss {:.4f} accuracy {:.4f}", loss, accuracy));
            const double seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start)
                    .count();
            metrics_log(fmt::format(
                "Epoch[{}] Batch [{}]\tSpeed: {:.2f} samples/sec\t"
                "binary_classification_accuracy={:.6f}\t"
                "binary_classification_cross_entropy={:.6f}",
                epoch, batches, seconds > 0 ? samples_done / seconds : 0.0, accuracy, loss));
          }
        });
    progress.Done();
    const EpochMetrics& m = record.metrics;
    if (!validation.rows.empty()) {
      record.validation_auc =
          DiscriminatorAuc(*model, validation.rows, options.seed, options.threads);
    }
    metrics_log(
        fmt::format("#quality_metric: host=algo-1, epoch={}, train binary_classification_accuracy "
                    "<score>={}",
                    epoch, m.accuracy));
    metrics_log(
        fmt::format("#quality_metric: host=algo-1, epoch={}, train "
                    "binary_classification_cross_entropy <loss>={}",
                    epoch, m.loss));
    if (record.validation_auc) {
      metrics_log(
          fmt::format("#quality_metric: host=algo-1, epoch={}, validation discriminator_auc "
                      "<score>={}",
                      epoch, *record.validation_auc));
    }
    metrics_log(
        fmt::format("Epoch[{}] Train-binary_classification_accuracy={:.6f}", epoch, m.accuracy));
    metrics_log(
        fmt::format("Epoch[{}] Train-binary_classification_cross_entropy={:.6f}", epoch, m.loss));
    if (record.validation_auc) {
      metrics_log(fmt::format("Epoch[{}] Validation-discriminator_auc={:.6f}", epoch,
                              *record.validation_auc));
    }
    metrics_log(fmt::format("Epoch[{}] Time cost={:.3f}", epoch, m.seconds));
    metrics_log(
        fmt::format("#throughput_metric: host=algo-1, train throughput={:.2f} records/second",
                    m.records_per_second));
    result.epochs.push_back(record);
    if (options.epoch_done) options.epoch_done(record, hp.epochs);
  }

  model->training_info = fmt::format(
      R"({{"training_rows": {}, "epochs": {}, "seed": {}, "threads": {}, "final_loss": {}}})",
      train.rows.size(), hp.epochs, options.seed, trainer.threads(),
      Number(result.epochs.back().metrics.loss));
  CheckTrainedModel(*model, result.epochs.back().metrics.loss);
  if (std::string advice =
          UnderfitAdvice(hp, train.rows.size(), result.epochs.back().metrics.accuracy);
      !advice.empty()) {
    result.warnings.push_back(advice);
  }

  // Each entity's rate of new networks, fitted into the score before it is calibrated. A
  // warm start's rates are of an earlier window: never kept.
  model->novelty = EntityNovelty();
  if (options.entity_novelty && !validation.rows.empty()) {
    NoveltyFit fit = FitEntityNovelty(*model, train.rows, validation.rows, options.target_fpr,
                                      options.seed, options.threads);
    // The tables go to the model; the result keeps the fitted numbers.
    std::vector<float> rates = std::move(fit.novelty.log_rate);
    std::vector<float> shares = std::move(fit.novelty.log_network_share);
    model->novelty = fit.novelty;
    model->novelty.log_rate = std::move(rates);
    model->novelty.log_network_share = std::move(shares);
    log(fmt::format(
        "entity novelty: {} (on {} validation pairs against {} drawn addresses, {:.4f} of "
        "them caught at {} and 3x that FPR on average, dot product alone {:.4f})",
        model->novelty.empty()
            ? std::string("not used, the dot product alone did as well")
            : fmt::format("score = log(exp({} * dot + {}) + entity rate * network share^{}), "
                          "mean rate {:.4f}, {:.1f} entities per network",
                          model->novelty.model_weight, model->novelty.model_offset,
                          model->novelty.network_weight, model->novelty.mean_rate,
                          model->novelty.mean_network_entities),
        fit.holdout_pairs, fit.drawn_pairs, fit.caught_with_novelty, fit.target_fpr,
        fit.caught_dot_product));
    result.novelty = std::move(fit);
  }

  // How normal pairs score: the validation pairs, or else a sample of the training pairs.
  if (!validation.rows.empty()) {
    model->calibration = CalibrateScores(ScoreRows(*model, validation.rows, options.threads),
                                         options.target_fpr, "validation");
  } else {
    model->calibration =
        CalibrateScores(ScoreRows(*model, CalibrationSample(train.rows), options.threads),
                        options.target_fpr, "training");
    result.warnings.push_back(
        "no --validation channel: the threshold is calibrated on training pairs, which the "
        "model scores higher than new normal pairs, so its false-positive rates are "
        "understated; give --validation (prepare --validation-output) for honest rates");
  }
  result.calibration = *model->calibration;
  log(fmt::format("calibrated on {} {} pairs: threshold {:.6g} flags {} of them",
                  result.calibration.pairs, result.calibration.source, result.calibration.threshold,
                  result.calibration.target_fpr));

  EntityHistory history = std::move(history_builder).Finish();
  FillScoreSummaries(*model, &train.rows, &history, options.threads);
  result.history_entities = history.entities();

  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The model, its metrics and its history are one unit: the temp files are written and
  // synced first, then metrics.json and the history are renamed into place and the model
  // last, so a failure (a full disk, an unwritable metrics.json) leaves the earlier model in
  // place. The model records its history's checksum: a crash between the renames leaves a
  // new history beside the old model, which `score` then tells apart.
  std::unique_ptr<WritableFile> history_file =
      OpenStorage(result.history_location).OpenWritable(result.history_location);
  uint64_t history_checksum = 0;
  WriteHistoryFile(history, history_file.get(), &history_checksum);
  model->history_checksum = history_checksum;
  std::unique_ptr<WritableFile> model_file =
      OpenStorage(result.model_location).OpenWritable(result.model_location);
  WriteModelFile(*model, model_file.get());
  std::unique_ptr<WritableFile> metrics_file =
      OpenStorage(result.metrics_location).OpenWritable(result.metrics_location);
  metrics_file->Append(MetricsJson(result, options.seed));
  model_file->Sync();
  metrics_file->Sync();
  history_file->Sync();
  metrics_file->Close();
  history_file->Close();
  model_file->Close();
  return result;
}

void CheckTrainedModel(const Model::Impl& model, double final_loss) {
  if (!std::isfinite(final_loss)) {
    throw Error(
        fmt::format("training diverged (final loss {}): no model written; lower "
                    "--learning-rate",
                    final_loss));
  }
  if (std::string where = FirstNonFiniteWeight(model); !where.empty()) {
    throw Error(
        fmt::format("training diverged (non-finite weight at {}): no model written; "
                    "lower --learning-rate",
                    where));
  }
}

std::string MetricsJson(const TrainJobResult& result, uint64_t seed) {
  std::string epochs;
  for (size_t i = 0; i < result.epochs.size(); ++i) {
    const EpochRecord& e = result.epochs[i];
    if (i > 0) epochs += ",\n    ";
    epochs += fmt::format(R"({{"epoch": {}, "loss": {}, "accuracy": {}, "validation_auc": {}, )"
                          R"("records_per_second": {}, "seconds": {}, "records": {}}})",
                          e.metrics.epoch + 1, Number(e.metrics.loss), Number(e.metrics.accuracy),
                          e.validation_auc ? Number(*e.validation_auc) : "null",
                          Number(e.metrics.records_per_second), Number(e.metrics.seconds),
                          e.metrics.records);
  }
  return fmt::format(
      "{{\n  \"hyperparameters\": {},\n  \"epochs\": [\n    {}\n  ],\n"
      "  \"training_rows\": {},\n  \"bad_rows\": {},\n  \"validation_rows\": {},\n"
      "  \"threads\": {},\n  \"seed\": {},\n  \"kernels\": \"{}\",\n  \"seconds\": {},\n"
      "  \"calibration\": {{\"target_fpr\": {}, \"threshold\": {}, \"source\": \"{}\", "
      "\"pairs\": {}}},\n"
      "  \"history\": {{\"location\": \"history.ipinsights\", \"entities\": {}}},\n"
      "  \"entity_novelty\": {},\n"
      "  \"model\": \"model.ipinsights\"\n}}\n",
      result.hyperparameters.ToJson(), epochs, result.training_rows, result.bad_rows,
      result.validation_rows, result.threads, seed, kernels::ActiveKernels(),
      Number(result.seconds), Number(result.calibration.target_fpr),
      Number(result.calibration.threshold), result.calibration.source, result.calibration.pairs,
      result.history_entities, NoveltyFitJson(result.novelty));
}

std::string NoveltyFitJson(const std::optional<NoveltyFit>& fit) {
  if (!fit) return "null";
  return fmt::format(
      R"({{"used": {}, "model_weight": {}, "model_offset": {}, "network_weight": {}, )"
      R"("mean_rate": {}, "mean_network_entities": {}, )"
      R"("holdout_pairs": {}, "drawn_pairs": {}, "target_fpr": {}, "caught_dot_product": {}, )"
      R"("caught_with_novelty": {}}})",
      fit->novelty.source.empty() ? "false" : "true", Number(fit->novelty.model_weight),
      Number(fit->novelty.model_offset), Number(fit->novelty.network_weight),
      Number(fit->novelty.mean_rate), Number(fit->novelty.mean_network_entities),
      fit->holdout_pairs, fit->drawn_pairs, Number(fit->target_fpr),
      Number(fit->caught_dot_product), Number(fit->caught_with_novelty));
}

}  // namespace ipinsights
