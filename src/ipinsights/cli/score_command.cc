// `ipinsights score --model FILE --pairs SRC`: batch scoring to NDJSON (PRODUCT.md).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "ipinsights/base/bad_record.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/base/progress.h"
#include "ipinsights/cli/commands.h"
#include "ipinsights/eval/pair_scoring.h"
#include "ipinsights/model/model.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

struct ScoreFlags {
  std::string model;
  std::string pairs;
  std::string output = "-";
  std::optional<double> threshold;
  bool only_anomalies = false;
  size_t threads = 0;
  bool quiet = false;
  bool json = false;
  bool strict = false;
  bool allow_empty = false;
};

void RunScore(const ScoreFlags& flags) {
  if (flags.pairs.empty()) {
    throw UsageError(
        "score: --pairs SRC is required (scoring cloudtrail|waf logs directly is not available "
        "in this build yet: run `ipinsights prepare` first)");
  }
  if (SameObject(flags.model, flags.output)) {
    throw UsageError(flags.output + ": is both an input and an output (--model " + flags.model +
                     ")");
  }
  auto start = std::chrono::steady_clock::now();
  std::shared_ptr<const Model> model = Model::Load(flags.model);
  // The model file carries no recommended threshold yet (see the report of issue 3), so
  // the default is PRODUCT.md's fallback, 0.
  const double threshold = flags.threshold.value_or(0.0);

  Storage& input_storage = OpenStorage(flags.pairs);
  std::vector<ObjectInfo> objects;
  if (flags.pairs == "-") {
    objects.push_back({"-", 0});
  } else {
    objects = input_storage.List(flags.pairs);
    ExcludeOutputs("--pairs", flags.pairs, {flags.output}, &objects);
    if (objects.empty()) throw Error(flags.pairs + ": no objects to score");
  }
  uint64_t total_bytes = 0;
  for (const ObjectInfo& o : objects) total_bytes += o.size;

  const bool to_stdout = flags.output == "-";
  std::unique_ptr<WritableFile> output = OpenStorage(flags.output).OpenWritable(flags.output);
  Progress progress("score", total_bytes, Progress::Unit::kBytes, flags.quiet);
  ScorePairsOptions options;
  options.threshold = threshold;
  options.only_anomalies = flags.only_anomalies;
  options.threads = flags.threads;
  BatchScorer scorer = [&model](const std::string_view* entities, const IpAddress* ips, size_t n,
                                float* scores) { model->ScoreBatch(entities, ips, n, scores); };
  ScorePairsSummary total;
  // The first kDefaultCap bad rows are printed, the rest counted, so a wrong file does not
  // flood the terminal; --strict stops at the first.
  BadRecordLog bad_rows(BadRecordLog::kDefaultCap, flags.strict);
  for (const ObjectInfo& object : objects) {
    ScorePairsSummary s = ScorePairs(input_storage.OpenSequential(object.location), object.location,
                                     output.get(), scorer, options, &bad_rows, &progress);
    total.bytes_read += s.bytes_read;
    total.lines += s.lines;
    total.scored += s.scored;
    total.anomalous += s.anomalous;
    total.written += s.written;
    total.bad_rows += s.bad_rows;
  }
  progress.Done();
  if (!flags.quiet) {
    for (const std::string& message : bad_rows.messages()) {
      std::fprintf(stderr, "ipinsights: warning: %s (row skipped)\n", message.c_str());
    }
    if (bad_rows.count() > bad_rows.messages().size()) {
      std::fprintf(stderr, "ipinsights: warning: %llu more bad rows not shown\n",
                   static_cast<unsigned long long>(bad_rows.count() - bad_rows.messages().size()));
    }
  }
  // Rows read but none scored: a log file or labels.csv given as pairs, most likely. Not a
  // success a script could mistake for one; the output is not put in place.
  if (total.scored == 0 && total.bad_rows > 0 && !flags.allow_empty) {
    const std::vector<std::string> first = bad_rows.messages();
    throw Error(fmt::format(
        "score: no pair scored: all {} rows of {} are bad{}{}. --pairs reads entity,ip CSV: "
        "for CloudTrail or WAF logs run `ipinsights prepare cloudtrail|waf` first. "
        "--allow-empty accepts an empty result",
        total.bad_rows, flags.pairs,
        first.empty() ? "" : " (first: ", first.empty() ? "" : first[0] + ")"));
  }
  output->Close();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double rate = seconds > 0 ? static_cast<double>(total.scored) / seconds : 0;
  if (flags.json) {
    std::string json = "{";
    json += fmt::format(
        "\"scored\":{},\"anomalous\":{},\"written\":{},\"bad_rows\":{},\"bytes_read\":{},"
        "\"threshold\":",
        total.scored, total.anomalous, total.written, total.bad_rows, total.bytes_read);
    AppendJsonNumber(&json, threshold);
    json += fmt::format(",\"seconds\":{:.3f},\"pairs_per_second\":{:.0f}}}\n", seconds, rate);
    // stdout carries the scores when no --output is given; the summary then goes to stderr.
    std::fputs(json.c_str(), to_stdout ? stderr : stdout);
    return;
  }
  if (!flags.quiet) {
    std::fprintf(stderr,
                 "score: %s pairs scored, %s anomalous (score < %g), %s bad rows skipped; "
                 "%.2f s, %s pairs/s\n",
                 FormatCount(total.scored).c_str(), FormatCount(total.anomalous).c_str(), threshold,
                 FormatCount(total.bad_rows).c_str(), seconds,
                 FormatCount(static_cast<uint64_t>(rate)).c_str());
  }
}

}  // namespace

void AddScoreCommand(CLI::App& app) {
  auto flags = std::make_shared<ScoreFlags>();
  CLI::App* command = app.add_subcommand(
      "score", "Score entity,ip pairs with a trained model; writes one JSON object per pair");
  command->add_option("--model", flags->model, "Model file (model.ipinsights)")->required();
  command->add_option("--pairs", flags->pairs,
                      "CSV of entity,ip rows: a file, a folder, s3://... or - for stdin");
  command->add_option("--output", flags->output, "Where the NDJSON goes (default: stdout)");
  command->add_option("--threshold", flags->threshold,
                      "Flag pairs scoring below this as anomalous (default 0)");
  command->add_flag("--only-anomalies", flags->only_anomalies, "Write only the flagged pairs");
  command->add_option("--threads", flags->threads, "Worker threads (default: all cores)");
  command->add_flag("--quiet", flags->quiet, "No progress, warnings or summary on stderr");
  command->add_flag("--allow-empty", flags->allow_empty,
                    "Succeed even when every row is bad and nothing is scored (by default an "
                    "error)");
  command->add_flag("--json", flags->json,
                    "Print the summary as one JSON object (on stdout, or on stderr when the "
                    "scores go to stdout)");
  command->add_flag("--strict", flags->strict,
                    "Fail (exit 1) on the first malformed file or record");
  command->callback([flags] { RunScore(*flags); });
}

}  // namespace ipinsights
