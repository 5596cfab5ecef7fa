#include "ipinsights/pipeline/pipeline_job.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>

#include "ipinsights/base/bad_record.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/base/strings.h"
#include "ipinsights/dataset/prepare_job.h"
#include "ipinsights/eval/evaluation.h"
#include "ipinsights/eval/held_out_pairs.h"
#include "ipinsights/eval/random_attacks.h"
#include "ipinsights/eval/report_html.h"
#include "ipinsights/model/hyperparameters.h"
#include "ipinsights/model/model.h"
#include "ipinsights/pipeline/quality_gate.h"
#include "ipinsights/pipeline/run_lock.h"
#include "ipinsights/pipeline/run_record.h"
#include "ipinsights/pipeline/server_notifier.h"
#include "ipinsights/registry/registry.h"
#include "ipinsights/storage/storage.h"
#include "ipinsights/train/train_job.h"

namespace ipinsights {
namespace {

constexpr const char* kSteps[] = {"prepare", "train", "evaluate", "gate", "publish", "notify"};
// Generated anomalies when the config sets none: as many as held-out pairs, up to this.
constexpr uint64_t kMaxDefaultAttacks = 1'000'000;

// The run's files: WORK/NAME/runs/VERSION/...
struct RunPaths {
  std::string folder;
  std::string record;
  std::string train;
  std::string validation;
  std::string model_dir;
  std::string model;
  std::string metrics;
  std::string history;  // the training history `score` explains findings with
  std::string evaluation;
  std::string report;  // evaluate's HTML page
};

RunPaths PathsFor(const JobConfig& job, const std::string& version) {
  RunPaths paths;
  paths.folder = JoinLocation(job.work, job.name + "/runs/" + version);
  paths.record = JoinLocation(paths.folder, "run.json");
  paths.train = JoinLocation(paths.folder, "train.csv");
  paths.validation = JoinLocation(paths.folder, "validation.csv");
  paths.model_dir = JoinLocation(paths.folder, "model");
  paths.model = JoinLocation(paths.model_dir, "model.ipinsights");
  paths.metrics = JoinLocation(paths.model_dir, "metrics.json");
  paths.history = JoinLocation(paths.model_dir, "history.ipinsights");
  paths.evaluation = JoinLocation(paths.folder, "evaluation.json");
  paths.report = JoinLocation(paths.folder, "report.html");
  return paths;
}

// Everything one run of a job shares between its steps.
class JobRun {
 public:
  JobRun(const JobConfig& job, const PipelineRunOptions& options, JobResult* result)
      : job_(job), options_(options), result_(result), registry_(job.registry) {
    paths_ = PathsFor(job, result->version);
  }

  void Run() {
    const RunLock lock(paths_.folder);
    record_ = ReadRunRecord(paths_.record);
    CheckConfigUnchanged();
    for (const char* step : kSteps) {
      const StepRecord* done = record_.Find(step);
      // A refusal is decided again from the recorded figures with the config's gate as it is
      // now: relaxing a gate and running again publishes without retraining.
      const bool decide_again = done != nullptr && std::string_view(step) == "gate" &&
                                !FigureBool(done->figures_json, "passed").value_or(false);
      if (done != nullptr && !decide_again) {
        result_->steps.push_back({step, "done_earlier", done->seconds, done->figures_json, ""});
        Log(fmt::format("{}: done by an earlier run ({})", step, done->finished));
        continue;
      }
      const auto start = std::chrono::steady_clock::now();
      std::string figures;
      try {
        figures = RunStep(step);
      } catch (const std::exception& error) {
        result_->steps.push_back({step, "failed", Seconds(start), "{}", error.what()});
        result_->outcome = JobOutcome::kFailed;
        // Library errors often name the step already ("prepare: ...").
        const std::string what = error.what();
        result_->message =
            what.rfind(std::string(step) + ":", 0) == 0 ? what : fmt::format("{}: {}", step, what);
        MarkRest(step);
        return;
      }
      const double seconds = Seconds(start);
      record_.Add({step, UtcNowTimestamp(), seconds, figures});
      WriteRunRecord(paths_.record, job_.name, record_);
      result_->steps.push_back({step, "done", seconds, figures, ""});
      if (std::string_view(step) == "gate" && !gate_passed_) {
        Refuse(gate_reason_);
        return;
      }
    }
    result_->outcome = JobOutcome::kPublished;
  }

 private:
  static double Seconds(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  // The settings that decide what the steps produce. Gate, notify and threads may change
  // between runs of a window; these may not.
  std::vector<std::pair<std::string, std::string>> Fingerprint() const {
    std::string inputs;
    for (const std::string& input : job_.inputs) inputs += (inputs.empty() ? "" : " ") + input;
    std::string explicit_names;
    for (const std::string& name : job_.explicit_hyperparameters) {
      explicit_names += (explicit_names.empty() ? "" : " ") + name;
    }
    std::vector<std::pair<std::string, std::string>> settings = {
        {"kind", job_.kind == LogKind::kWaf ? "waf" : "cloudtrail"},
        {"inputs", inputs},
        {"entity", job_.entity_text},
        {"ipv4_only", job_.ipv4_only ? "true" : "false"},
        {"window", FormatDate(result_->from) + " .. " + FormatDate(result_->to)},
        {"explicit_hyperparameters", explicit_names},
        {"warm_start", job_.warm_start ? "true" : "false"},
        {"seed", std::to_string(job_.seed)},
        {"random_attacks", std::to_string(job_.random_attacks)},
        {"registry", job_.registry}};
    for (const HyperparameterInfo& info : AllHyperparameters()) {
      settings.emplace_back(std::string("hyperparameters.") + info.name,
                            job_.hyperparameters.Get(info.name));
    }
    return settings;
  }

  // Finished steps made with other settings are not continued from: the summary would
  // describe a model that was never trained, or a new registry would never get the model.
  void CheckConfigUnchanged() {
    const std::vector<std::pair<std::string, std::string>> now = Fingerprint();
    if (record_.steps.empty() || record_.config.empty()) {
      record_.config = now;
      return;
    }
    std::string changed;
    for (const auto& [key, value] : now) {
      std::string before = "(not recorded)";
      for (const auto& [old_key, old_value] : record_.config) {
        if (old_key == key) before = old_value;
      }
      if (before != value) {
        changed += fmt::format("{}{}: {} -> {}", changed.empty() ? "" : "; ", key,
                               QuoteForMessage(before, 120), QuoteForMessage(value, 120));
      }
    }
    if (!changed.empty()) {
      throw Error(fmt::format(
          "the job's config changed since this window's run began ({}); its finished steps were "
          "made with the old one. Restore it, or delete {} to run the window again",
          changed, paths_.folder));
    }
  }

  void Log(const std::string& line) const {
    if (options_.log) options_.log(fmt::format("{}: {}", job_.name, line));
  }

  void Refuse(const std::string& reason) {
    result_->outcome = JobOutcome::kRefused;
    result_->message = reason;
    MarkRest("gate");
  }

  // The steps after `step` did not run.
  void MarkRest(std::string_view step) {
    bool after = false;
    for (const char* name : kSteps) {
      if (after) result_->steps.push_back({name, "not_run", 0, "{}", ""});
      if (name == step) after = true;
    }
  }

  std::string RunStep(std::string_view step) {
    if (step == "prepare") return Prepare();
    if (step == "train") return Train();
    if (step == "evaluate") return Evaluate();
    if (step == "gate") return Gate();
    if (step == "publish") return Publish();
    return Notify();
  }

  std::string Prepare() {
    Log(fmt::format("prepare: {} logs of {} .. {} from {}",
                    job_.kind == LogKind::kWaf ? "WAF" : "CloudTrail", FormatDate(result_->from),
                    FormatDate(result_->to), job_.inputs.front()));
    PrepareOptions prepare;
    prepare.kind = job_.kind;
    prepare.inputs = job_.inputs;
    prepare.output = paths_.train;
    prepare.validation_output = paths_.validation;  // out of time: the window's last day
    prepare.entity = job_.entity;
    prepare.days.from = result_->from;
    prepare.days.to = result_->to;
    prepare.ipv4_only = job_.ipv4_only;
    prepare.threads = job_.threads;
    BadRecordLog bad_records;
    prepare.bad_records = &bad_records;
    const PrepareSummary summary = RunPrepareJob(prepare);
    for (const std::string& warning : summary.warnings) result_->warnings.push_back(warning);
    if (bad_records.count() > 0) {
      result_->warnings.push_back(
          fmt::format("prepare: {} malformed files or records skipped; first: {}",
                      bad_records.count(), bad_records.messages().front()));
    }
    Log(fmt::format("prepare: {} training and {} held-out pairs from {} files ({:.1f} s)",
                    summary.pairs_written, summary.validation_pairs_written, summary.files,
                    summary.seconds));
    const uint64_t skipped = summary.skipped.Total();
    return fmt::format(
        "{{\"files\": {}, \"records\": {}, \"pairs\": {}, \"validation_pairs\": {}, "
        "\"entities\": {}, \"skipped\": {}, \"malformed\": {}, \"train\": {}, \"validation\": {}}}",
        summary.files, summary.records, summary.pairs_written, summary.validation_pairs_written,
        summary.entities, skipped, bad_records.count(), JsonString(paths_.train),
        JsonString(paths_.validation));
  }

  // The model this window's candidate is compared with and warm-started from, once per
  // run: the registry's current version, or for a backfill (a window older than current)
  // the newest version before this one, since later versions were trained on this window's
  // held-out day.
  std::shared_ptr<const Model> CurrentModel() {
    if (!current_loaded_) {
      current_loaded_ = true;
      const std::string& version = result_->version;
      current_version_ = registry_.Current(job_.name);
      if (current_version_ && *current_version_ >= version) {
        current_version_.reset();
        for (const std::string& older : registry_.Versions(job_.name)) {
          if (older < version) current_version_ = older;
        }
      }
      if (current_version_) {
        current_model_ = Model::Load(registry_.ModelLocation(job_.name, *current_version_));
      }
    }
    return current_model_;
  }

  std::string Train() {
    TrainJobOptions train;
    train.train = paths_.train;
    train.validation = paths_.validation;
    train.model_dir = paths_.model_dir;
    train.hyperparameters = job_.hyperparameters;
    train.explicit_hyperparameters = job_.explicit_hyperparameters;
    train.threads = job_.threads;
    train.seed = job_.seed;
    train.quiet = options_.quiet;
    std::string warm_start = "null";
    std::string cold_reason;
    if (job_.warm_start) {
      if (std::shared_ptr<const Model> current = CurrentModel()) {
        std::optional<std::string> mismatch = WarmStartMismatch(
            job_.hyperparameters, job_.explicit_hyperparameters, current->hyperparameters());
        if (mismatch) {
          cold_reason = fmt::format(
              "the current model {} cannot warm-start this job ({}); trained from scratch",
              *current_version_, *mismatch);
          result_->warnings.push_back("train: " + cold_reason);
        } else {
          train.init_model = registry_.ModelLocation(job_.name, *current_version_);
          warm_start = JsonString(*current_version_);
        }
      }
    }
    Log(fmt::format("train: {} epochs{}", job_.hyperparameters.epochs,
                    train.init_model.empty() ? "" : ", warm start from " + *current_version_));
    train.epoch_done = [&](const EpochRecord& epoch, int64_t epochs) {
      Log(fmt::format(
          "train: epoch {}/{} loss {:.4f}{}", epoch.metrics.epoch + 1, epochs, epoch.metrics.loss,
          epoch.validation_auc ? fmt::format(" validation AUC {:.4f}", *epoch.validation_auc)
                               : std::string()));
    };
    const TrainJobResult trained = RunTrainJob(train);
    for (const std::string& warning : trained.warnings)
      result_->warnings.push_back("train: " + warning);
    const EpochRecord& last = trained.epochs.back();
    return fmt::format(
        "{{\"rows\": {}, \"entities\": {}, \"epochs\": {}, \"loss\": {}, \"validation_auc\": {}, "
        "\"warm_start_from\": {}, \"seconds\": {}, \"model\": {}}}",
        trained.training_rows, trained.entities, trained.epochs.size(),
        JsonNumber(last.metrics.loss),
        last.validation_auc ? JsonNumber(*last.validation_auc) : "null", warm_start,
        JsonNumber(trained.seconds), JsonString(paths_.model));
  }

  std::string Evaluate() {
    BadRecordLog bad_rows;
    HeldOutPairs held_out = ReadHeldOutPairs(paths_.validation, &bad_rows);
    if (held_out.entities.empty())
      throw Error(paths_.validation + ": no held-out pairs to evaluate on");
    if (bad_rows.count() > 0) {
      result_->warnings.push_back(fmt::format("evaluate: {} bad rows skipped; first: {}",
                                              bad_rows.count(), bad_rows.messages().front()));
    }
    const uint64_t attacks_count =
        job_.random_attacks > 0 ? job_.random_attacks
                                : std::min<uint64_t>(held_out.entities.size(), kMaxDefaultAttacks);
    const RandomAttacks attacks = MakeRandomAttacks(held_out.entities, attacks_count, job_.seed);
    const EvaluationOptions evaluation_options;
    auto evaluate = [&](const Model& model) {
      return EvaluatePairs(model, held_out.entities, held_out.ips, attacks.entities, attacks.ips,
                           evaluation_options, job_.threads);
    };
    const std::shared_ptr<const Model> candidate = Model::Load(paths_.model);
    EvaluationResult candidate_result = evaluate(*candidate);
    candidate_result.source = fmt::format("{} + {} random attacks (seed {})", paths_.validation,
                                          attacks_count, job_.seed);
    // The page a person reads to judge the candidate (published beside the model).
    AttachTrainingCurves(&candidate_result, paths_.model);
    WriteReportHtml(candidate_result, paths_.report);
    std::optional<EvaluationResult> current_result;
    if (std::shared_ptr<const Model> current = CurrentModel()) {
      current_result = evaluate(*current);
      current_result->source = candidate_result.source;
    }
    candidate_auc_ = candidate_result.model.auc;
    if (current_result) current_auc_ = current_result->model.auc;
    Log(fmt::format(
            "evaluate: AUC {:.4f} on {} ({} held-out pairs, {} random attacks){}", candidate_auc_,
            FormatDate(result_->to), held_out.entities.size(), attacks_count,
            current_result
                ? fmt::format("; current model {} AUC {:.4f}", *current_version_, *current_auc_)
                : std::string("; no current model")) +
        "; report " + paths_.report);
    // run.json keeps the headline figures; evaluation.json the whole evaluations (with their
    // histograms and ROC points, tens of kilobytes each).
    const std::string figures = fmt::format(
        "{{\"day\": {}, \"normal\": {}, \"anomalous\": {}, \"candidate_auc\": {}, "
        "\"current_version\": {}, \"current_auc\": {}, \"report\": {}",
        JsonString(FormatDate(result_->to)), held_out.entities.size(), attacks_count,
        JsonNumber(candidate_auc_), current_version_ ? JsonString(*current_version_) : "null",
        current_auc_ ? JsonNumber(*current_auc_) : "null", JsonString(paths_.report));
    WriteWholeObject(
        paths_.evaluation,
        figures + fmt::format(", \"candidate\": {}, \"current\": {}}}\n",
                              EvaluationJson(candidate_result),
                              current_result ? EvaluationJson(*current_result) : "null"));
    return figures + "}";
  }

  // The evaluation figures, from this run or the record of an earlier one.
  void LoadEvaluation() {
    if (candidate_auc_ >= 0) return;
    const StepRecord* evaluated = record_.Find("evaluate");
    IPI_CHECK(evaluated != nullptr);
    candidate_auc_ = FigureNumber(evaluated->figures_json, "candidate_auc").value_or(0);
    current_auc_ = FigureNumber(evaluated->figures_json, "current_auc");
    if (!current_loaded_) {
      current_version_ = FigureText(evaluated->figures_json, "current_version");
    }
  }

  std::string Gate() {
    LoadEvaluation();
    const GateDecision decision = DecideGate(job_.gate, candidate_auc_, current_auc_);
    gate_passed_ = decision.passed;
    gate_reason_ = decision.reason;
    Log(fmt::format("gate: {}: {}", decision.passed ? "passed" : "refused", decision.reason));
    return fmt::format("{{\"passed\": {}, \"reason\": {}, \"min_auc\": {}, \"max_auc_drop\": {}}}",
                       decision.passed ? "true" : "false", JsonString(decision.reason),
                       JsonNumber(job_.gate.min_auc), JsonNumber(job_.gate.max_auc_drop));
  }

  std::string SummaryJson() const {
    std::string inputs;
    for (const std::string& input : job_.inputs)
      inputs += (inputs.empty() ? "" : ", ") + JsonString(input);
    auto figures = [&](const char* step) {
      const StepRecord* done = record_.Find(step);
      return done != nullptr ? done->figures_json : std::string("{}");
    };
    return fmt::format(
        "{{\"name\": {}, \"version\": {}, \"created\": {}, \"source\": {{\"kind\": {}, \"inputs\": "
        "[{}], "
        "\"entity\": {}, \"from\": {}, \"to\": {}}}, \"prepare\": {}, \"training\": {}, "
        "\"evaluation\": {}, \"gate\": {}}}\n",
        JsonString(job_.name), JsonString(result_->version), JsonString(UtcNowTimestamp()),
        JsonString(job_.kind == LogKind::kWaf ? "waf" : "cloudtrail"), inputs,
        job_.entity_text.empty() ? "null" : JsonString(job_.entity_text),
        JsonString(FormatDate(result_->from)), JsonString(FormatDate(result_->to)),
        figures("prepare"), figures("train"), EvaluationSummary(figures("evaluate")),
        figures("gate"));
  }

  // The headline figures of the evaluate step (the full ones are in evaluation.json).
  static std::string EvaluationSummary(const std::string& figures) {
    auto number = [&](const char* key) {
      std::optional<double> value = FigureNumber(figures, key);
      return value ? JsonNumber(*value) : std::string("null");
    };
    std::optional<std::string> current = FigureText(figures, "current_version");
    return fmt::format(
        "{{\"day\": {}, \"candidate_auc\": {}, \"current_version\": {}, \"current_auc\": {}}}",
        JsonString(FigureText(figures, "day").value_or("")), number("candidate_auc"),
        current ? JsonString(*current) : "null", number("current_auc"));
  }

  std::string Publish() {
    const std::string& version = result_->version;
    const bool existed = registry_.IsComplete(job_.name, version);
    if (existed) {
      // Published before: by this run's earlier attempt (killed before it was recorded) when
      // the model is the same; else by another run of the window, which stays.
      if (ReadWholeObject(registry_.ModelLocation(job_.name, version)) !=
          ReadWholeObject(paths_.model)) {
        throw Error(fmt::format(
            "version {} is already published with another model ({}); a window is published "
            "once. Delete {} from the registry to replace it",
            version, registry_.ModelLocation(job_.name, version),
            registry_.VersionLocation(job_.name, version)));
      }
    } else {
      std::vector<std::pair<std::string, std::string>> files = {
          {"model.ipinsights", paths_.model},
          {"metrics.json", paths_.metrics},
          {"evaluation.json", paths_.evaluation}};
      if (OpenStorage(paths_.report).Exists(paths_.report)) {
        files.emplace_back("report.html", paths_.report);
      }
      // Beside the model, so `score --model REGISTRY/NAME/versions/V/model.ipinsights`
      // finds it (serve never reads it).
      if (OpenStorage(paths_.history).Exists(paths_.history)) {
        files.emplace_back("history.ipinsights", paths_.history);
      }
      registry_.PublishVersion(job_.name, version, files, SummaryJson());
    }
    // A run for an older window (a backfill) publishes its version but leaves a newer
    // current one in service.
    const std::optional<std::string> current = registry_.Current(job_.name);
    const bool switched = !current || *current < version;
    if (switched) registry_.SetCurrent(job_.name, version);
    Log(fmt::format("publish: {} {}{}", registry_.VersionLocation(job_.name, version),
                    existed ? "(already complete) " : "",
                    switched || (current && *current == version)
                        ? "is now current"
                        : fmt::format("(current stays {})", *current)));
    return fmt::format("{{\"version\": {}, \"location\": {}, \"current\": {}, \"previous\": {}}}",
                       JsonString(version),
                       JsonString(registry_.VersionLocation(job_.name, version)),
                       JsonString(registry_.Current(job_.name).value_or("")),
                       switched && current ? JsonString(*current) : "null");
  }

  std::string Notify() {
    const NotifyReport report = NotifyServers(job_.notify);
    std::string servers;
    size_t not_running = 0;
    for (const NotifyResult& said : report.results) {
      Log("notify: " + said.message);
      if (!said.running) {
        ++not_running;
        result_->warnings.push_back("notify: " + said.message);
      }
      servers += fmt::format("{}{{\"server\": {}, \"running\": {}, \"result\": {}}}",
                             servers.empty() ? "" : ", ", JsonString(said.target),
                             said.running ? "true" : "false", JsonString(said.message));
    }
    // The version is published; servers polling the registry pick it up regardless.
    // Failing the step makes the next run try the servers again.
    if (!report.failures.empty()) throw Error(report.FailureSummary());
    if (job_.notify.empty()) Log("notify: no servers configured");
    return fmt::format("{{\"told\": {}, \"not_running\": {}, \"servers\": [{}]}}",
                       report.results.size() - not_running, not_running, servers);
  }

  const JobConfig& job_;
  const PipelineRunOptions& options_;
  JobResult* result_;
  Registry registry_;
  RunPaths paths_;
  RunRecord record_;

  bool current_loaded_ = false;
  std::optional<std::string> current_version_;
  std::shared_ptr<const Model> current_model_;
  double candidate_auc_ = -1;
  std::optional<double> current_auc_;
  bool gate_passed_ = false;
  std::string gate_reason_;
};

}  // namespace

const char* JobOutcomeName(JobOutcome outcome) {
  switch (outcome) {
    case JobOutcome::kPublished:
      return "published";
    case JobOutcome::kRefused:
      return "refused";
    case JobOutcome::kFailed:
      return "failed";
    case JobOutcome::kNotRun:
      return "not_run";
  }
  return "unknown";
}

void JobWindow(const JobConfig& job, const Date& run_date, Date* from, Date* to) {
  if (job.from && job.to) {
    *from = *job.from;
    *to = *job.to;
    return;
  }
  const int64_t last = DaysFromCivil(run_date) - 1;
  *to = CivilFromDays(last);
  *from = CivilFromDays(last - (job.days - 1));
}

JobResult RunPipelineJob(const JobConfig& job, const PipelineRunOptions& options) {
  JobResult result;
  result.name = job.name;
  const Date run_date =
      options.run_date.value_or(DateOfUnixSeconds(static_cast<int64_t>(std::time(nullptr))));
  JobWindow(job, run_date, &result.from, &result.to);
  result.version = FormatDate(result.to);
  try {
    JobRun(job, options, &result).Run();
  } catch (const std::exception& error) {
    // Reading or writing the run record itself failed.
    result.outcome = JobOutcome::kFailed;
    result.message = error.what();
  }
  return result;
}

}  // namespace ipinsights
