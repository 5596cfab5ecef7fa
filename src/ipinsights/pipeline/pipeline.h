// RunPipeline: every job of a config, one after the other (each uses all the cores), and
// the report of the whole run: a table for people, one JSON object for scripts.
//
// A failed job does not stop the others unless options.fail_fast. The exit status:
// 0 every job published (in this run or an earlier one for the same window), 3 none failed
// but a gate kept the current model for at least one, 1 a job failed.
//
// Thread-safety: one run per config at a time.
//
//   PipelineResult result = RunPipeline(LoadPipelineConfig("pipeline.yaml"), options);
//   std::fputs(PipelineTable(result).c_str(), stderr);
//   return result.ExitCode();
#pragma once

#include <string>
#include <vector>

#include "ipinsights/pipeline/pipeline_config.h"
#include "ipinsights/pipeline/pipeline_job.h"

namespace ipinsights {

struct PipelineResult {
  std::string config;  // the config file
  std::string run_date;
  std::vector<JobResult> jobs;
  double seconds = 0;

  int ExitCode() const;
};

// Runs the jobs named in `only` (all when empty; an unknown name is a UsageError).
PipelineResult RunPipeline(const PipelineConfig& config, const PipelineRunOptions& options,
                           const std::vector<std::string>& only = {});

// {"config": .., "run_date": .., "seconds": .., "ok": bool, "jobs": [{"name", "version",
// "window": {"from", "to"}, "outcome", "message", "warnings": [..], "steps": [{"step",
// "status", "seconds", "figures", "message"}]}]} (docs/formats/pipeline-config.md).
std::string PipelineJson(const PipelineResult& result);

// One block per job: outcome, version, and a line per step with its key figures.
std::string PipelineTable(const PipelineResult& result);

}  // namespace ipinsights
