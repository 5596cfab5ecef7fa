// `ipinsights demo`: the whole loop on a fresh machine with nothing to configure
// (PRODUCT.md). For CloudTrail and for WAF it simulates a few days of logs with injected
// anomalies, prepares the training set (all days but the last two) and an out-of-time
// validation set (the day before the last), trains, and evaluates on the last day's labels,
// writes the HTML report beside each model (model/report.html), then prints the figures, the
// reports' paths and the next commands. This is the recipe the README documents.
//
// Every step runs in this process through the same library entry points the commands call
// (simulate/simulator.h Simulate, dataset/prepare_job.h RunPrepareJob, train/train_job.h
// RunTrainJob, eval/evaluation.h EvaluateLabels, eval/report_html.h WriteReportHtml), so the demo
// exercises the real jobs and never duplicates their logic.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ipinsights/base/bad_record.h"
#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/cli/commands.h"
#include "ipinsights/dataset/labels_reader.h"
#include "ipinsights/dataset/prepare_job.h"
#include "ipinsights/eval/evaluation.h"
#include "ipinsights/eval/report_html.h"
#include "ipinsights/model/model.h"
#include "ipinsights/simulate/simulator.h"
#include "ipinsights/train/train_job.h"

namespace ipinsights {
namespace {

// Marks a folder the demo made, so a second run may replace it and nothing else.
constexpr const char* kMarker = ".ipinsights-demo";

struct DemoFlags {
  std::string dir = "ipinsights-demo";
  uint64_t users = 1000;
  int days = 5;
  uint64_t attacks = 1000;
  uint64_t seed = 1;
  size_t threads = 0;
  int vector_dim = 64;
  // The demo's few days give 80 mini-batches an epoch (the tutorial's 1,800), so it trains
  // longer and faster than the tutorial's 5 epochs at 0.01. Measured on bench/quality_bench's
  // demo worlds (recall at 1% FPR, AUC; demo / demo seed 2 / demo-asn): 5 at 0.01 0.832 /
  // 0.899 / 0.608, 0.9940 / 0.9954 / 0.9904; 8 at 0.02 0.852 / 0.908 / 0.655, 0.9950 /
  // 0.9964 / 0.9911 (5 at 0.02, 10 at 0.02 and 15 at 0.01 fall between). WAF logs of the
  // same population: 0.811 -> 0.813, AUC 0.9943 both.
  int epochs = 8;
};

// This binary's path, for the commands printed at the end ("ipinsights" when unknown).
std::string SelfPath() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "ipinsights" : self.string();
}

// Creates the work folder, replacing an earlier demo's (never any other folder).
void PrepareFolder(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) throw UsageError("demo: --dir " + dir + " is not a folder");
    const bool empty = fs::is_empty(dir, ec);
    if (!empty && !fs::exists(fs::path(dir) / kMarker, ec)) {
      throw UsageError("demo: --dir " + dir +
                       " exists and was not made by `ipinsights demo`; choose another folder");
    }
    for (const auto& entry : fs::directory_iterator(dir)) fs::remove_all(entry.path());
  }
  fs::create_directories(dir, ec);
  if (ec) throw Error("demo: cannot create " + dir + ": " + ec.message());
  FILE* marker = std::fopen((fs::path(dir) / kMarker).c_str(), "w");
  if (marker == nullptr) throw Error(ErrnoMessage("demo: cannot write in " + dir, errno));
  std::fputs("made by `ipinsights demo`; a later demo run may replace this folder\n", marker);
  std::fclose(marker);
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct KindResult {
  std::string kind;
  std::string model;
  std::string validation;
  std::string report;  // report.html beside the model
  EvaluationResult evaluation;
};

// Runs `what` as one step of the demo, timing it on stderr.
template <typename Step>
void RunStep(const std::string& kind, const std::string& what, const Step& step) {
  auto t0 = std::chrono::steady_clock::now();
  std::fprintf(stderr, "demo %s: %s...\n", kind.c_str(), what.c_str());
  step();
  std::fprintf(stderr, "demo %s: %s done in %.1f s\n", kind.c_str(), what.c_str(),
               SecondsSince(t0));
}

KindResult RunKind(const std::string& kind, const DemoFlags& flags) {
  namespace fs = std::filesystem;
  // Absolute, so the commands printed at the end work from any folder.
  const std::string base = (fs::absolute(flags.dir) / kind).lexically_normal().string();
  const std::string logs = base + "/logs";
  const LogKind log_kind = kind == "waf" ? LogKind::kWaf : LogKind::kCloudTrail;
  const Date start{2024, 3, 1};
  KindResult result;
  result.kind = kind;
  result.model = base + "/model/model.ipinsights";
  result.validation = base + "/validation.csv";
  result.report = base + "/model/report.html";

  SimulateOptions simulate;
  simulate.kind = log_kind;
  simulate.out = logs;
  simulate.users = flags.users;
  simulate.days = flags.days;
  simulate.start = start;
  simulate.attacks = flags.attacks;
  simulate.seed = flags.seed;
  simulate.gzip = log_kind == LogKind::kWaf;
  simulate.threads = flags.threads;
  RunStep(kind,
          fmt::format("simulating {} days of logs for {} entities, {} attacks on the last day",
                      flags.days, flags.users, flags.attacks),
          [&] { Simulate(simulate, nullptr); });

  PrepareOptions prepare;
  prepare.kind = log_kind;
  prepare.inputs = {logs + "/AWSLogs"};
  prepare.output = base + "/train.csv";
  // Days 1..N-1; with a validation output and no split asked for, the job sends day N-1 to
  // validation (out-of-time), so every relation the model must know stays in training.
  prepare.days.to = CivilFromDays(DaysFromCivil(start) + flags.days - 2);
  prepare.validation_output = result.validation;
  prepare.threads = flags.threads;
  BadRecordLog bad_records;
  prepare.bad_records = &bad_records;
  RunStep(kind,
          fmt::format("preparing the training set (days 1-{}) and validation (day {})",
                      flags.days - 2, flags.days - 1),
          [&] { RunPrepareJob(prepare); });
  for (const std::string& message : bad_records.messages()) {
    std::fprintf(stderr, "ipinsights: warning: %s\n", message.c_str());
  }

  TrainJobOptions train;
  train.train = prepare.output;
  train.validation = result.validation;
  train.model_dir = base + "/model";
  const std::pair<const char*, std::string> hyperparameters[] = {
      {"num_entity_vectors", std::to_string(std::max<uint64_t>(2 * flags.users, 1000))},
      {"vector_dim", std::to_string(flags.vector_dim)},
      {"epochs", std::to_string(flags.epochs)},
      {"learning_rate", "0.02"},
      {"mini_batch_size", "1000"},
      {"random_negative_sampling_rate", "5"},
      {"shuffled_negative_sampling_rate", "1"}};
  for (const auto& [name, value] : hyperparameters) {
    train.hyperparameters.Set(name, value);
    train.explicit_hyperparameters.insert(name);
  }
  train.threads = flags.threads;
  train.seed = flags.seed;
  train.quiet = true;
  RunStep(kind, "training", [&] { RunTrainJob(train); });

  auto t0 = std::chrono::steady_clock::now();
  std::shared_ptr<const Model> model = Model::Load(result.model);
  LabeledPairs labels = ReadLabels(logs + "/labels.csv");
  result.evaluation = EvaluateLabels(*model, labels, EvaluationOptions{}, flags.threads);
  result.evaluation.source = logs + "/labels.csv (the last day)";
  AttachTrainingCurves(&result.evaluation, result.model);
  WriteReportHtml(result.evaluation, result.report);
  std::fprintf(stderr, "demo %s: evaluation done in %.1f s\n", kind.c_str(), SecondsSince(t0));
  return result;
}

void RunDemo(const DemoFlags& flags) {
  if (flags.days < 3) {
    throw UsageError("demo: --days must be at least 3 (train, validate, then test)");
  }
  if (flags.users < 10) throw UsageError("demo: --users must be at least 10");
  auto start = std::chrono::steady_clock::now();
  const std::string self = SelfPath();
  PrepareFolder(flags.dir);
  std::vector<KindResult> results;
  for (const char* kind : {"cloudtrail", "waf"}) results.push_back(RunKind(kind, flags));

  std::string out;
  for (const KindResult& r : results) {
    out += fmt::format("\n== {} ==\n", r.kind);
    out += EvaluationTable(r.evaluation);
    out += fmt::format("  report (open in a browser): {}\n", r.report);
  }
  out += fmt::format(
      "\nThe oracle column is the simulator's own Bayes-optimal score: the best any model can "
      "do on this data.\nDemo finished in {:.0f} s. Next:\n\n"
      "  # serve both models (SageMaker's hosting contract) on port 8080\n"
      "  ipinsights serve --model cloudtrail={} --model waf={}\n\n"
      "  # score pairs in bulk: one JSON line per pair, flagged ones only\n"
      "  ipinsights score --model {} --pairs {} --only-anomalies\n\n"
      "  # evaluate again at a stricter false-positive rate\n"
      "  ipinsights evaluate --model {} --labels {} --target-fpr 0.001\n\n"
      "  # ask the server about one pair\n"
      "  curl -s -H 'Content-Type: text/csv' --data 'some-user,198.51.100.7' "
      "http://127.0.0.1:8080/endpoints/cloudtrail/invocations\n",
      SecondsSince(start), results[0].model, results[1].model, results[0].model,
      results[0].validation, results[0].model,
      (std::filesystem::absolute(flags.dir) / "cloudtrail/logs/labels.csv")
          .lexically_normal()
          .string());
  // Print the commands with this binary's own path, so they run as shown (it is usually
  // build/release/ipinsights, not on PATH).
  for (size_t at = out.find("\n  ipinsights "); at != std::string::npos;
       at = out.find("\n  ipinsights ", at + 1)) {
    out.replace(at + 3, std::string_view("ipinsights").size(), self);
  }
  std::fputs(out.c_str(), stdout);
}

}  // namespace

void AddDemoCommand(CLI::App& app) {
  auto flags = std::make_shared<DemoFlags>();
  CLI::App* command = app.add_subcommand(
      "demo",
      "Simulate CloudTrail and WAF logs, prepare, train, evaluate, and show the next commands");
  command->add_option("--dir", flags->dir, "Work folder (replaced if an earlier demo made it)")
      ->capture_default_str();
  command->add_option("--users", flags->users, "Simulated entities per log kind")
      ->capture_default_str();
  command->add_option("--days", flags->days, "Days of logs (the last one is the test day)")
      ->capture_default_str();
  command->add_option("--attacks", flags->attacks, "Anomalies injected on the last day")
      ->capture_default_str();
  command->add_option("--vector-dim", flags->vector_dim, "Embedding size")->capture_default_str();
  command->add_option("--epochs", flags->epochs, "Training epochs")->capture_default_str();
  command->add_option("--seed", flags->seed, "Seed of simulation and training")
      ->capture_default_str();
  command->add_option("--threads", flags->threads, "Threads per step (default: all cores)");
  command->callback([flags] { RunDemo(*flags); });
}

}  // namespace ipinsights
