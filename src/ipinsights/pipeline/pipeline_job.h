// RunPipelineJob: one job of `ipinsights pipeline`, the original's taskmaster loop for one
// log source: prepare the window -> train (warm-started from the registry's current model
// when its shape allows) -> evaluate candidate and current model on the window's newest day
// against the same generated anomalies -> gate -> publish the version and point `current`
// at it -> notify the servers.
//
// The version is the window's last day (YYYY-MM-DD). Each step's outputs go under
// WORK/NAME/runs/VERSION/ and the step is then entered in that folder's run.json
// (pipeline/run_record.h), so a second run for the same window skips what is finished and
// never publishes twice; killed at any point, the registry holds no half-published version
// (registry/registry.h writes summary.json, then `current`, last).
//
// Thread-safety: one job per NAME at a time.
//
//   JobResult result = RunPipelineJob(config.jobs[0], options);
//   if (result.outcome == JobOutcome::kFailed) ...
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/pipeline/pipeline_config.h"

namespace ipinsights {

struct PipelineRunOptions {
  std::optional<Date> run_date;  // default: today (UTC); the window ends the day before
  bool fail_fast = false;        // RunPipeline: stop at the first failed job
  bool quiet = false;            // no progress bars from prepare and train
  // One progress line ("cloudtrail: train: epoch 3/5 ..."), no newline. May be empty.
  std::function<void(const std::string&)> log;
};

enum class JobOutcome {
  kPublished,  // this run (or an earlier one for the same window) published the version
  kRefused,    // the gate kept the current model
  kFailed,     // a step failed; running again continues from it
  kNotRun,     // --fail-fast stopped the pipeline before this job
};

const char* JobOutcomeName(JobOutcome outcome);  // "published", "refused", "failed", "not_run"

struct StepResult {
  std::string step;          // prepare, train, evaluate, gate, publish, notify
  std::string status;        // "done", "done_earlier" (by an earlier run), "failed", "not_run"
  double seconds = 0;        // this run's time on it (the earlier run's for done_earlier)
  std::string figures_json;  // the step's figures, one JSON object ("{}" when none)
  std::string message;       // for failed: the error
};

struct JobResult {
  std::string name;
  std::string version;  // the window's last day
  Date from;
  Date to;
  JobOutcome outcome = JobOutcome::kNotRun;
  std::string message;  // failed: the error; refused: the gate's reason
  std::vector<StepResult> steps;
  std::vector<std::string> warnings;  // advice (training), notify failures of other servers
};

// The window of a job for a run date: explicit from/to, or `days` days ending the day
// before `run_date`.
void JobWindow(const JobConfig& job, const Date& run_date, Date* from, Date* to);

// Never throws for a failure of the job itself (it is the result); throws UsageError only
// for options that cannot describe any run.
JobResult RunPipelineJob(const JobConfig& job, const PipelineRunOptions& options);

}  // namespace ipinsights
