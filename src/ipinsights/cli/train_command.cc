// `ipinsights train`: see shared/spec/PRODUCT.md. Also SageMaker's training container
// contract: with no --train and $SM_ROOT/input/config/hyperparameters.json present
// (SM_ROOT defaults to /opt/ml), it reads the channels $SM_ROOT/input/data/{train,validation}/
// and writes $SM_ROOT/model/; a failure is also written to $SM_ROOT/output/failure.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/base/progress.h"
#include "ipinsights/cli/commands.h"
#include "ipinsights/model/hyperparameters.h"
#include "ipinsights/storage/storage.h"
#include "ipinsights/train/train_job.h"

namespace ipinsights {
namespace {

struct TrainFlags {
  std::string train;
  std::string validation;
  std::string model_dir;
  std::string init_model;
  std::string hyperparameters_file;
  std::map<std::string, std::string> values;  // hyperparameter name -> text from a flag
  size_t threads = 0;
  uint64_t seed = 1;
  double target_fpr = 0.01;
  bool no_entity_novelty = false;
  bool quiet = false;
  bool json = false;
  bool strict = false;
};

std::string Dashed(const char* name) {
  std::string out = name;
  for (char& c : out) {
    if (c == '_') c = '-';
  }
  return out;
}

std::string JsonString(const std::string& text) {
  std::string out;
  AppendJsonString(&out, text);
  return out;
}

void RunTrain(TrainFlags& flags) {
  TrainJobOptions options;
  std::string failure_file;
  if (flags.train.empty()) {
    const char* root_env = std::getenv("SM_ROOT");
    const std::string root = root_env && *root_env ? root_env : "/opt/ml";
    const std::string config = root + "/input/config/hyperparameters.json";
    if (!std::filesystem::exists(config)) {
      throw UsageError("train: --train is required (or run in a SageMaker container with " +
                       config + ")");
    }
    if (flags.hyperparameters_file.empty()) flags.hyperparameters_file = config;
    flags.train = root + "/input/data/train";
    const std::string validation = root + "/input/data/validation";
    if (flags.validation.empty() && std::filesystem::exists(validation)) {
      flags.validation = validation;
    }
    if (flags.model_dir.empty()) flags.model_dir = root + "/model";
    failure_file = root + "/output/failure";
  }
  try {
    if (flags.model_dir.empty()) throw UsageError("train: --model-dir is required");
    if (!flags.hyperparameters_file.empty()) {
      const std::string text = ReadWholeObject(flags.hyperparameters_file);
      options.hyperparameters = Hyperparameters::FromJson(text, flags.hyperparameters_file);
      // Every key in the file counts as given explicitly.
      for (const HyperparameterInfo& info : AllHyperparameters()) {
        if (text.find(std::string("\"") + info.name + "\"") != std::string::npos) {
          options.explicit_hyperparameters.insert(info.name);
        }
      }
    }
    for (const auto& [name, value] : flags.values) {
      try {
        options.hyperparameters.Set(name, value);
      } catch (const UsageError& e) {
        throw UsageError(fmt::format("--{}: {}", Dashed(name.c_str()), e.what()));
      }
      options.explicit_hyperparameters.insert(name);
    }
    options.train = flags.train;
    options.validation = flags.validation;
    options.model_dir = flags.model_dir;
    options.init_model = flags.init_model;
    options.threads = flags.threads;
    options.seed = flags.seed;
    options.target_fpr = flags.target_fpr;
    options.entity_novelty = !flags.no_entity_novelty;
    options.quiet = flags.quiet;
    options.strict = flags.strict;
    if (!flags.quiet) {
      options.log = [](const std::string& line) { Progress::PrintLine(line); };
      if (failure_file.empty() && Progress::StderrIsTerminal()) {
        // A person at a terminal: one line per epoch, numbered from 1 like the bar and
        // metrics.json. SageMaker's metric lines are for log scrapers, so they go where logs
        // go: a pipe, a file, the container's CloudWatch.
        options.epoch_done = [](const EpochRecord& record, int64_t epochs) {
          const EpochMetrics& m = record.metrics;
          Progress::PrintLine(fmt::format(
              "epoch {}/{}: loss {:.4f}, accuracy {:.4f}{}, {} samples/s, {:.1f} s", m.epoch + 1,
              epochs, m.loss, m.accuracy,
              record.validation_auc ? fmt::format(", validation AUC {:.4f}", *record.validation_auc)
                                    : "",
              FormatCount(static_cast<uint64_t>(m.records_per_second)), m.seconds));
        };
      } else {
        options.metrics_log = options.log;
      }
    }
    const TrainJobResult result = RunTrainJob(options);
    const EpochRecord& last = result.epochs.back();
    double records_per_second = 0;
    for (const EpochRecord& e : result.epochs) records_per_second += e.metrics.records_per_second;
    records_per_second /= result.epochs.size();
    // A record is one labelled sample: each row plus its R + S negatives.
    const Hyperparameters& hp = result.hyperparameters;
    const double rows_per_second = records_per_second / (1 + hp.random_negative_sampling_rate +
                                                         hp.shuffled_negative_sampling_rate);
    if (!flags.quiet) {
      for (const std::string& warning : result.warnings) {
        std::fprintf(stderr, "ipinsights: warning: %s\n", warning.c_str());
      }
    }
    if (flags.json) {
      std::printf(
          "{\"model\": %s, \"metrics\": %s, \"training_rows\": %llu, \"bad_rows\": %llu, "
          "\"validation_rows\": %llu, \"epochs\": %zu, \"loss\": %.6g, \"accuracy\": %.6g, "
          "\"validation_auc\": %s, \"records_per_second\": %.6g, \"rows_per_second\": %.6g, "
          "\"entities\": %llu, \"seconds\": %.6g, \"threads\": %zu, \"hyperparameters\": %s, "
          "\"threshold\": %.9g, \"target_fpr\": %.6g, \"calibration_source\": %s, "
          "\"history\": %s, \"history_entities\": %llu, \"entity_novelty\": %s}\n",
          JsonString(result.model_location).c_str(), JsonString(result.metrics_location).c_str(),
          static_cast<unsigned long long>(result.training_rows),
          static_cast<unsigned long long>(result.bad_rows),
          static_cast<unsigned long long>(result.validation_rows), result.epochs.size(),
          last.metrics.loss, last.metrics.accuracy,
          last.validation_auc ? fmt::format("{:.6g}", *last.validation_auc).c_str() : "null",
          records_per_second, rows_per_second, static_cast<unsigned long long>(result.entities),
          result.seconds, result.threads, hp.ToJson().c_str(), result.calibration.threshold,
          result.calibration.target_fpr, JsonString(result.calibration.source).c_str(),
          JsonString(result.history_location).c_str(),
          static_cast<unsigned long long>(result.history_entities),
          NoveltyFitJson(result.novelty).c_str());
    } else if (!flags.quiet) {
      std::fprintf(
          stderr,
          "trained %s: %llu rows (%llu bad), %zu epochs, loss %.4f, accuracy %.4f%s, "
          "%s samples/s (rows and their negatives; %s rows/s), %.1f s, threshold %.4f (flags %g "
          "of normal %s pairs)\nhistory: %s entities in %s\n",
          result.model_location.c_str(), static_cast<unsigned long long>(result.training_rows),
          static_cast<unsigned long long>(result.bad_rows), result.epochs.size(), last.metrics.loss,
          last.metrics.accuracy,
          last.validation_auc ? fmt::format(", validation AUC {:.4f}", *last.validation_auc).c_str()
                              : "",
          FormatCount(static_cast<uint64_t>(records_per_second)).c_str(),
          FormatCount(static_cast<uint64_t>(rows_per_second)).c_str(), result.seconds,
          result.calibration.threshold, result.calibration.target_fpr,
          result.calibration.source.c_str(), FormatCount(result.history_entities).c_str(),
          result.history_location.c_str());
    }
  } catch (const Error& e) {
    if (!failure_file.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(failure_file).parent_path(), ec);
      std::ofstream(failure_file) << e.what() << "\n";
    }
    throw;
  }
}

// "entity embedding rows ... (default 100000, range 1..250000000)": SageMaker's default
// and range for every hyperparameter, so --help answers what the documentation would.
std::string HyperparameterHelp(const HyperparameterInfo& info, const Hyperparameters& defaults) {
  auto number = [&](double value) {
    return info.is_integer ? fmt::format("{}", static_cast<int64_t>(value))
                           : fmt::format("{}", value);
  };
  const std::string range = std::isinf(info.max)
                                ? fmt::format("at least {}", number(info.min))
                                : fmt::format("range {}..{}", number(info.min), number(info.max));
  return fmt::format("{} (default {}, {})", info.description, defaults.Get(info.name), range);
}

}  // namespace

void AddTrainCommand(CLI::App& app) {
  auto flags = std::make_shared<TrainFlags>();
  CLI::App* command = app.add_subcommand(
      "train",
      "Train an IP Insights model from entity,ip CSV (SageMaker's training format). In a "
      "SageMaker container (no --train, $SM_ROOT or /opt/ml/input/config/hyperparameters.json "
      "present) it reads the train/validation channels and writes /opt/ml/model.");
  command->add_option("--train", flags->train, "training CSV: file, folder, s3://... or -");
  command->add_option("--validation", flags->validation,
                      "validation CSV: adds the per-epoch discriminator AUC");
  command->add_option("--model-dir", flags->model_dir,
                      "output folder for model.ipinsights and metrics.json");
  command->add_option(
      "--init-model", flags->init_model,
      "warm start from this model file (continual retraining; the entity history kept is "
      "still this job's --train window only)");
  command->add_option("--hyperparameters", flags->hyperparameters_file,
                      "SageMaker hyperparameters JSON (an object of strings); flags override it");
  const Hyperparameters defaults;
  for (const HyperparameterInfo& info : AllHyperparameters()) {
    const std::string name = info.name;
    command
        ->add_option_function<std::string>(
            "--" + Dashed(info.name),
            [flags, name](const std::string& value) { flags->values[name] = value; },
            HyperparameterHelp(info, defaults))
        ->type_name(info.is_integer ? "INT" : "FLOAT");
  }
  command
      ->add_option("--target-fpr", flags->target_fpr,
                   "share of normal validation pairs the model's calibrated threshold flags, "
                   "in (0, 0.5]")
      ->capture_default_str();
  command->add_flag("--no-entity-novelty", flags->no_entity_novelty,
                    "score with the dot product alone (SageMaker's score), without fitting each "
                    "entity's rate of new networks into it");
  command->add_option("--threads", flags->threads, "worker threads (default: every core)");
  command
      ->add_option("--seed", flags->seed, "random seed (same seed, data and threads = same model)")
      ->capture_default_str();
  command->add_flag("--quiet", flags->quiet, "no progress or log lines");
  command->add_flag("--json", flags->json, "print the summary as one JSON object on stdout");
  command->add_flag("--strict", flags->strict,
                    "Fail (exit 1) on the first malformed file or record");
  command->callback([flags] { RunTrain(*flags); });
}

}  // namespace ipinsights
