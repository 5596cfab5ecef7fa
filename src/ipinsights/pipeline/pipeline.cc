#include "ipinsights/pipeline/pipeline.h"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <set>

#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/base/strings.h"
#include "ipinsights/pipeline/run_record.h"

namespace ipinsights {
namespace {

std::string Fixed(std::optional<double> value, int digits) {
  return value ? fmt::format("{:.{}f}", *value, digits) : std::string("-");
}

std::string Count(std::optional<double> value) {
  return value ? fmt::format("{}", static_cast<uint64_t>(*value)) : std::string("-");
}

// The figures of a step worth a line in the table.
std::string StepLine(const StepResult& step) {
  const std::string& f = step.figures_json;
  if (step.status == "failed") return step.message;
  if (step.status == "not_run") return "";
  if (step.step == "prepare") {
    return fmt::format("{} training pairs, {} held-out pairs, {} entities, {} files",
                       Count(FigureNumber(f, "pairs")), Count(FigureNumber(f, "validation_pairs")),
                       Count(FigureNumber(f, "entities")), Count(FigureNumber(f, "files")));
  }
  if (step.step == "train") {
    std::optional<std::string> warm = FigureText(f, "warm_start_from");
    return fmt::format("{} rows, {} epochs, loss {}, validation AUC {}{}",
                       Count(FigureNumber(f, "rows")), Count(FigureNumber(f, "epochs")),
                       Fixed(FigureNumber(f, "loss"), 4),
                       Fixed(FigureNumber(f, "validation_auc"), 4),
                       warm ? ", warm start from " + *warm : ", from scratch");
  }
  if (step.step == "evaluate") {
    std::optional<std::string> current = FigureText(f, "current_version");
    return fmt::format("AUC {} on {}{}", Fixed(FigureNumber(f, "candidate_auc"), 4),
                       FigureText(f, "day").value_or("?"),
                       current ? fmt::format(" (current {}: {})", *current,
                                             Fixed(FigureNumber(f, "current_auc"), 4))
                               : std::string(" (no current model)"));
  }
  if (step.step == "gate") {
    return fmt::format("{}: {}", FigureBool(f, "passed").value_or(false) ? "passed" : "refused",
                       FigureText(f, "reason").value_or(""));
  }
  if (step.step == "publish") {
    return fmt::format("{} (current: {})", FigureText(f, "location").value_or("?"),
                       FigureText(f, "current").value_or("?"));
  }
  const uint64_t told = static_cast<uint64_t>(FigureNumber(f, "told").value_or(0));
  const uint64_t not_running = static_cast<uint64_t>(FigureNumber(f, "not_running").value_or(0));
  if (told + not_running == 0) return "no servers configured";
  return fmt::format("{} server(s) told to reload{}", told,
                     not_running ? fmt::format(", {} not running", not_running) : std::string());
}

}  // namespace

int PipelineResult::ExitCode() const {
  bool refused = false;
  for (const JobResult& job : jobs) {
    if (job.outcome == JobOutcome::kFailed || job.outcome == JobOutcome::kNotRun) return 1;
    if (job.outcome == JobOutcome::kRefused) refused = true;
  }
  return refused ? 3 : 0;
}

PipelineResult RunPipeline(const PipelineConfig& config, const PipelineRunOptions& options,
                           const std::vector<std::string>& only) {
  std::set<std::string> known;
  for (const JobConfig& job : config.jobs) known.insert(job.name);
  for (const std::string& name : only) {
    if (known.count(name) == 0) {
      throw UsageError(fmt::format("pipeline: --job {}: no such job in {}", QuoteForMessage(name),
                                   config.source));
    }
  }
  const auto start = std::chrono::steady_clock::now();
  PipelineResult result;
  result.config = config.source;
  result.run_date = FormatDate(
      options.run_date.value_or(DateOfUnixSeconds(static_cast<int64_t>(std::time(nullptr)))));
  bool stop = false;
  for (const JobConfig& job : config.jobs) {
    if (!only.empty() && std::find(only.begin(), only.end(), job.name) == only.end()) continue;
    if (stop) {
      JobResult skipped;
      skipped.name = job.name;
      skipped.outcome = JobOutcome::kNotRun;
      skipped.message = "not run: an earlier job failed (--fail-fast)";
      result.jobs.push_back(std::move(skipped));
      continue;
    }
    result.jobs.push_back(RunPipelineJob(job, options));
    const JobResult& done = result.jobs.back();
    if (options.log) {
      options.log(fmt::format("{}: {}{}", done.name, JobOutcomeName(done.outcome),
                              done.message.empty() ? "" : ": " + done.message));
    }
    if (done.outcome == JobOutcome::kFailed && options.fail_fast) stop = true;
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::string PipelineJson(const PipelineResult& result) {
  std::string out = fmt::format(
      "{{\"config\": {}, \"run_date\": {}, \"seconds\": {:.3f}, \"ok\": {}, \"exit_code\": {}, "
      "\"jobs\": [",
      JsonString(result.config), JsonString(result.run_date), result.seconds,
      result.ExitCode() == 0 ? "true" : "false", result.ExitCode());
  for (size_t j = 0; j < result.jobs.size(); ++j) {
    const JobResult& job = result.jobs[j];
    out += j == 0 ? "" : ", ";
    out += fmt::format(
        "{{\"name\": {}, \"version\": {}, \"window\": {{\"from\": {}, \"to\": {}}}, "
        "\"outcome\": {}, \"message\": {}, \"warnings\": [",
        JsonString(job.name), job.version.empty() ? "null" : JsonString(job.version),
        job.version.empty() ? "null" : JsonString(FormatDate(job.from)),
        job.version.empty() ? "null" : JsonString(FormatDate(job.to)),
        JsonString(JobOutcomeName(job.outcome)), JsonString(job.message));
    for (size_t w = 0; w < job.warnings.size(); ++w) {
      out += (w == 0 ? "" : ", ") + JsonString(job.warnings[w]);
    }
    out += "], \"steps\": [";
    for (size_t s = 0; s < job.steps.size(); ++s) {
      const StepResult& step = job.steps[s];
      out += fmt::format(
          "{}{{\"step\": {}, \"status\": {}, \"seconds\": {:.3f}, \"figures\": {}, "
          "\"message\": {}}}",
          s == 0 ? "" : ", ", JsonString(step.step), JsonString(step.status), step.seconds,
          step.figures_json.empty() ? "{}" : step.figures_json, JsonString(step.message));
    }
    out += "]}";
  }
  out += "]}\n";
  return out;
}

std::string PipelineTable(const PipelineResult& result) {
  std::string out = fmt::format("pipeline {} for {}: {} job(s) in {:.1f} s\n", result.config,
                                result.run_date, result.jobs.size(), result.seconds);
  for (const JobResult& job : result.jobs) {
    out += fmt::format("\n{}: {}", job.name, JobOutcomeName(job.outcome));
    if (!job.version.empty()) {
      out += fmt::format(", version {} (window {} .. {})", job.version, FormatDate(job.from),
                         FormatDate(job.to));
    }
    out += "\n";
    if (!job.message.empty() && job.outcome != JobOutcome::kPublished) {
      out += fmt::format("  {}\n", job.message);
    }
    for (const StepResult& step : job.steps) {
      std::string status = step.status == "done_earlier" ? "done earlier" : step.status;
      if (step.status == "not_run") status = "not run";
      out += fmt::format(
          "  {:<9} {:<13} {:>7}  {}\n", step.step, status,
          step.status == "not_run" ? std::string() : fmt::format("{:.1f} s", step.seconds),
          StepLine(step));
    }
    for (const std::string& warning : job.warnings) out += fmt::format("  warning: {}\n", warning);
  }
  return out;
}

}  // namespace ipinsights
