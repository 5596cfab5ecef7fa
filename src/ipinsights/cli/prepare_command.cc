// `ipinsights prepare cloudtrail|waf --input SRC... --output DEST`: logs to training pairs.
// See docs/formats/training-csv.md for the output and PRODUCT.md for the contract.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ipinsights/base/bad_record.h"
#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/progress.h"
#include "ipinsights/cli/commands.h"
#include "ipinsights/dataset/prepare_job.h"
#include "ipinsights/dataset/shard.h"

namespace ipinsights {
namespace {

struct PrepareFlags {
  std::string kind;
  std::vector<std::string> inputs;
  std::string output;
  std::string from;
  std::string to;
  std::string entity;
  std::optional<double> validation_fraction;
  std::string validation_output;
  std::string split_at;
  bool strict = false;
  bool allow_empty = false;
  bool keep_corrupt = false;
  std::optional<double> max_decompressed_gb;
  bool ipv4_only = false;
  bool no_history = false;
  size_t threads = 0;
  bool quiet = false;
  bool json = false;
  std::string shard;
};

// The job's options from the flags; the job checks how they fit together.
PrepareOptions ToOptions(const PrepareFlags& flags) {
  PrepareOptions options;
  options.kind = flags.kind == "waf" ? LogKind::kWaf : LogKind::kCloudTrail;
  options.inputs = flags.inputs;
  options.output = flags.output;
  options.validation_output = flags.validation_output;
  if (!flags.entity.empty()) options.entity = ParseEntitySpec(options.kind, flags.entity);
  options.days = {DateFlag("--from", flags.from), DateFlag("--to", flags.to)};
  if (flags.validation_fraction && !flags.split_at.empty()) {
    throw UsageError("--validation-fraction and --split-at are alternatives: give one");
  }
  if (flags.validation_fraction) {
    const double f = *flags.validation_fraction;
    if (!(f >= 0.0 && f <= 1.0)) {
      throw UsageError(fmt::format("--validation-fraction {}: must be between 0 and 1", f));
    }
    options.split = Split::ByFraction(f);
  } else if (!flags.split_at.empty()) {
    options.split = Split::AtDate(*DateFlag("--split-at", flags.split_at));
  }
  if (flags.max_decompressed_gb) {
    const double gb = *flags.max_decompressed_gb;
    if (!(gb > 0 && gb <= 1e9)) {
      throw UsageError(fmt::format("--max-decompressed-gb {}: must be a positive number", gb));
    }
    options.max_decompressed_bytes = static_cast<uint64_t>(gb * 1e9);
  }
  options.ipv4_only = flags.ipv4_only;
  options.write_history = !flags.no_history;
  options.keep_corrupt = flags.keep_corrupt;
  options.allow_empty = flags.allow_empty;
  options.threads = flags.threads;
  // The flag wins over the environment (AWS Batch array jobs, Kubernetes Indexed Jobs).
  options.shard = flags.shard.empty() ? ShardFromEnvironment(std::getenv) : ParseShard(flags.shard);
  return options;
}

double MegabytesPerSecond(const PrepareSummary& summary) {
  return summary.seconds > 0 ? summary.json_bytes / 1e6 / summary.seconds : 0.0;
}

// The two stderr lines without --json.
std::string SummaryText(const PrepareFlags& flags, const PrepareSummary& summary) {
  const bool split = !summary.validation_location.empty();
  std::string text = fmt::format(
      "prepare {}: {} files{}, {} of JSON ({} stored), {} records -> {} pairs to {}", flags.kind,
      summary.files, summary.digest_files ? fmt::format(" ({} digest)", summary.digest_files) : "",
      FormatBytes(summary.json_bytes), FormatBytes(summary.stored_bytes),
      FormatCount(summary.records), FormatCount(summary.pairs_written), summary.output_location);
  if (split) {
    text += fmt::format(" + {} to {}", FormatCount(summary.validation_pairs_written),
                        summary.validation_location);
  }
  if (summary.shard) {
    text += fmt::format(" (shard {}/{})", summary.shard->index, summary.shard->count);
  }
  text += fmt::format(
      " in {:.2f} s ({:.0f} MB/s)\n{} distinct entities (train with --num-entity-vectors about "
      "twice that: {})\nskipped:",
      summary.seconds, MegabytesPerSecond(summary), FormatCount(summary.entities),
      2 * summary.entities);
  for (size_t i = 0; i < kNumSkipReasons; ++i) {
    const SkipReason reason = static_cast<SkipReason>(i);
    text += fmt::format(" {} {}", SkipReasonName(reason), summary.skipped[reason]);
  }
  if (!summary.history_location.empty()) {
    text += fmt::format("\nhistory: {} entities to {} ({})", FormatCount(summary.history_entities),
                        summary.history_location, FormatBytes(summary.history_bytes));
  }
  return text + "\n";
}

void RunPrepare(const PrepareFlags& flags) {
  PrepareOptions options = ToOptions(flags);
  BadRecordLog bad_records(BadRecordLog::kDefaultCap, flags.strict);
  options.bad_records = &bad_records;
  // The bar starts once the inputs are listed (the first call, before any worker runs).
  std::optional<Progress> progress;
  options.progress = [&](uint64_t newly_read, uint64_t total) {
    if (!progress)
      progress.emplace("prepare " + flags.kind, total, Progress::Unit::kBytes, flags.quiet);
    progress->Add(newly_read);
  };
  PrepareSummary summary;
  try {
    summary = RunPrepareJob(options);
  } catch (...) {
    if (progress) progress->Done();
    throw;
  }
  if (progress) progress->Done();
  const std::vector<std::string> problems = bad_records.messages();
  // --quiet means nothing on stderr but errors: the counts are in --json and the summary.
  if (!flags.quiet) {
    for (const std::string& problem : problems) Warn(problem);
    for (const std::string& warning : summary.warnings) Warn(warning);
    if (bad_records.count() > problems.size()) {
      Warn(fmt::format("... and {} more problems", bad_records.count() - problems.size()));
    }
  }
  if (flags.json) {
    const std::string json = PrepareSummaryJson(summary);
    // Like `score`: when the rows go to stdout, the summary goes to stderr.
    const bool rows_on_stdout = flags.output == "-" || flags.validation_output == "-";
    std::FILE* out = rows_on_stdout ? stderr : stdout;
    std::fwrite(json.data(), 1, json.size(), out);
    std::fflush(out);
  } else if (!flags.quiet) {
    std::fputs(SummaryText(flags, summary).c_str(), stderr);
  }
}

}  // namespace

void AddPrepareCommand(CLI::App& app) {
  auto flags = std::make_shared<PrepareFlags>();
  CLI::App* command = app.add_subcommand(
      "prepare", "Read CloudTrail or WAF logs and write the training CSV (entity,ip rows)");
  command->add_option("kind", flags->kind, "cloudtrail or waf")
      ->required()
      ->check(CLI::IsMember({"cloudtrail", "waf"}));
  command
      ->add_option(
          "--input", flags->inputs,
          "Log files, folders (walked recursively) or - for stdin; gzip detected by content")
      ->required()
      ->expected(1, -1);
  command
      ->add_option("--output", flags->output,
                   "Training CSV: a file, s3://bucket/key or - for stdout (with --shard: a "
                   "folder or s3:// prefix)")
      ->required();
  command->add_option("--from", flags->from, "First day to read, YYYY-MM-DD (inclusive)");
  command->add_option("--to", flags->to, "Last day to read, YYYY-MM-DD (inclusive)");
  command->add_option("--entity", flags->entity,
                      "CloudTrail: principalId (default), arn, accessKeyId, userName, session; "
                      "WAF: user-agent (default) or header:NAME");
  command->add_option("--validation-output", flags->validation_output,
                      "Validation CSV: a file or -. By default the events of the last day "
                      "(--to) go there: an out-of-time split");
  command->add_option("--split-at", flags->split_at,
                      "Events on or after this day (YYYY-MM-DD) go to --validation-output");
  command
      ->add_option("--validation-fraction", flags->validation_fraction,
                   "Instead of a date, this fraction of events (each drawn on its own, so "
                   "an entity's usual addresses stay in training) goes to --validation-output")
      ->check(CLI::Range(0.0, 1.0));
  command->add_flag("--strict", flags->strict,
                    "Fail (exit 1) on the first malformed file or record");
  command->add_flag("--allow-empty", flags->allow_empty,
                    "Succeed even when no pair is written (by default that is an error saying "
                    "what was read and skipped)");
  command->add_flag("--keep-corrupt", flags->keep_corrupt,
                    "Keep the pairs of a gzip file whose CRC32/length check fails (by default "
                    "they are dropped and reported; a truncated file keeps what decoded)");
  command->add_option("--max-decompressed-gb", flags->max_decompressed_gb,
                      "Read at most this many GB (1e9 bytes) of one gzip file's decompressed "
                      "data; the rest is reported as malformed (default: no cap)");
  command->add_flag("--ipv4-only", flags->ipv4_only,
                    "Skip IPv6 addresses (reason ipv6), as SageMaker's built-in algorithm needs");
  command->add_flag("--no-history", flags->no_history,
                    "Do not write the entity history (DEST.history) beside the training output");
  command->add_option("--threads", flags->threads, "Worker threads (default: all cores)");
  command->add_option(
      "--shard", flags->shard,
      "I/N: run the I-th (0-based) of N shards: a contiguous, byte-balanced range of the "
      "sorted object list. --output and --validation-output are then folders or s3:// "
      "prefixes that receive part-I-of-N and part-I-of-N.summary.json; the parts in order "
      "equal the unsharded output. Default: from AWS_BATCH_JOB_ARRAY_INDEX + "
      "AWS_BATCH_JOB_ARRAY_SIZE (AWS Batch array jobs) or JOB_COMPLETION_INDEX + "
      "IPINSIGHTS_SHARD_COUNT (Kubernetes Indexed Jobs)");
  command->add_flag("--quiet", flags->quiet, "No progress, warnings or summary on stderr");
  command->add_flag("--json", flags->json,
                    "Print the summary as one JSON object (on stdout, or on stderr when the "
                    "rows go to stdout)");
  command->callback([flags] { RunPrepare(*flags); });
}

}  // namespace ipinsights
