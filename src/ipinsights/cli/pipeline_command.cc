// `ipinsights pipeline`: the taskmaster loop (pipeline/pipeline.h) and the registry's
// rollback. Progress lines and the report go to stderr, --json to stdout.
#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <vector>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/base/progress.h"
#include "ipinsights/base/strings.h"
#include "ipinsights/cli/commands.h"
#include "ipinsights/pipeline/pipeline.h"
#include "ipinsights/pipeline/server_notifier.h"
#include "ipinsights/registry/registry.h"

namespace ipinsights {
namespace {

struct PipelineFlags {
  std::string config;
  std::string date;
  std::vector<std::string> jobs;
  std::string rollback;
  bool fail_fast = false;
  bool json = false;
  bool quiet = false;
};

void PrintLog(const std::string& line) { Progress::PrintLine("pipeline: " + line); }

// Points NAME's current back at its previous version and tells the job's servers.
void RunRollback(const PipelineConfig& config, const PipelineFlags& flags) {
  const JobConfig* job = nullptr;
  for (const JobConfig& candidate : config.jobs) {
    if (candidate.name == flags.rollback) job = &candidate;
  }
  if (job == nullptr) {
    throw UsageError(fmt::format("pipeline: --rollback {}: no such job in {}",
                                 QuoteForMessage(flags.rollback), config.source));
  }
  Registry registry(job->registry);
  const std::optional<std::string> was = registry.Current(job->name);
  const std::string now = registry.Rollback(job->name);
  const NotifyReport report = NotifyServers(job->notify);
  if (!flags.quiet) {
    for (const NotifyResult& said : report.results)
      PrintLog(job->name + ": notify: " + said.message);
  }
  if (flags.json) {
    std::printf("{\"name\": %s, \"current\": %s, \"was\": %s, \"notify_failures\": %zu}\n",
                JsonString(job->name).c_str(), JsonString(now).c_str(),
                was ? JsonString(*was).c_str() : "null", report.failures.size());
  } else if (!flags.quiet) {
    std::fprintf(stderr, "%s: current is now %s (was %s)\n", job->name.c_str(), now.c_str(),
                 was.value_or("none").c_str());
  }
  if (!report.failures.empty()) {
    throw Error(fmt::format("rolled back, but {} server(s) could not be told: {}",
                            report.failures.size(), report.failures.front()));
  }
}

void RunPipelineCommand(const PipelineFlags& flags) {
  const PipelineConfig config = LoadPipelineConfig(flags.config);
  if (!flags.rollback.empty()) {
    if (!flags.date.empty() || !flags.jobs.empty() || flags.fail_fast) {
      throw UsageError("pipeline: --rollback NAME takes no --date, --job or --fail-fast");
    }
    RunRollback(config, flags);
    return;
  }
  PipelineRunOptions options;
  if (!flags.date.empty()) {
    options.run_date = ParseDate(flags.date);
    if (!options.run_date) {
      throw UsageError(
          fmt::format("pipeline: --date {} is not YYYY-MM-DD", QuoteForMessage(flags.date)));
    }
  }
  options.fail_fast = flags.fail_fast;
  options.quiet = flags.quiet;
  if (!flags.quiet) options.log = PrintLog;
  const PipelineResult result = RunPipeline(config, options, flags.jobs);
  if (flags.json) {
    std::fputs(PipelineJson(result).c_str(), stdout);
    std::fflush(stdout);
  }
  if (!flags.quiet && !flags.json) std::fputs(PipelineTable(result).c_str(), stderr);
  const int code = result.ExitCode();
  if (code != 0) {
    if (!flags.json) {
      std::fprintf(stderr, "ipinsights: pipeline: %s\n",
                   code == 3 ? "a quality gate kept the current model (exit status 3)"
                             : "a job failed; run again to continue from the failed step");
    }
    throw CommandExitStatus{code};
  }
}

}  // namespace

void AddPipelineCommand(CLI::App& app) {
  auto flags = std::make_shared<PipelineFlags>();
  CLI::App* command = app.add_subcommand(
      "pipeline",
      "The daily loop: prepare -> train (warm start) -> evaluate beside the current model -> "
      "gate -> publish to the registry -> tell the servers; per job of a YAML config");
  command->footer(
      "Config: docs/formats/pipeline-config.md. Exit status: 0 every job published (now or by "
      "an earlier run for the same window), 3 a quality gate kept the current model, 1 a job "
      "failed (run again: it continues after the last finished step), 2 a usage error.");
  command->add_option("--config", flags->config, "The YAML config (a file or s3://bucket/key)")
      ->required();
  command->add_option(
      "--date", flags->date,
      "Run as on this day, YYYY-MM-DD (default today, UTC): windows end the day before");
  command->add_option("--job", flags->jobs, "Run only this job (repeatable)");
  command->add_flag("--fail-fast", flags->fail_fast, "Stop at the first failed job");
  command
      ->add_option("--rollback", flags->rollback,
                   "Point job NAME's current model back at its previous version, tell its "
                   "servers, and exit")
      ->option_text("NAME");
  command->add_flag("--json", flags->json, "Print the run's report as one JSON object on stdout");
  command->add_flag("--quiet", flags->quiet, "No progress or report on stderr");
  command->callback([flags] { RunPipelineCommand(*flags); });
}

}  // namespace ipinsights
