// `ipinsights score --model FILE (--pairs SRC | cloudtrail|waf --input SRC...)`: batch scoring
// to NDJSON, and findings from logs (PRODUCT.md; docs/formats/findings.md).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/base/bad_record.h"
#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/base/progress.h"
#include "ipinsights/cli/commands.h"
#include "ipinsights/detect/event_explainer.h"
#include "ipinsights/detect/finding.h"
#include "ipinsights/detect/finding_delivery.h"
#include "ipinsights/detect/finding_formats.h"
#include "ipinsights/detect/log_scorer.h"
#include "ipinsights/detect/network_info.h"
#include "ipinsights/eval/pair_scoring.h"
#include "ipinsights/history/entity_history.h"
#include "ipinsights/logs/log_listing.h"
#include "ipinsights/model/model.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

struct ScoreFlags {
  std::string model;
  std::string pairs;
  // Scoring logs directly.
  std::string kind;
  std::vector<std::string> inputs;
  std::string from;
  std::string to;
  std::string entity;
  bool ipv4_only = false;
  bool keep_corrupt = false;
  std::optional<double> target_fpr;
  std::string history;
  bool no_history = false;
  std::string asn_db;
  std::string country_db;
  std::string aws_ip_ranges;
  // Findings.
  bool findings = false;
  std::string window = "1d";
  size_t max_samples = 10;
  size_t findings_memory_mb = 256;
  std::string suppress;
  std::string state;
  std::string format = "ndjson";
  std::string events_output;
  bool to_security_hub = false;
  std::string region;
  std::string account_id;
  std::string output;  // "" = stdout (findings sent to Security Hub: none)
  std::optional<double> threshold;
  bool only_anomalies = false;
  size_t threads = 0;
  bool quiet = false;
  bool json = false;
  bool strict = false;
  bool allow_empty = false;
};

// --threshold, else the score at --target-fpr, else the model's calibrated threshold, else
// (a model trained before calibration) 0 with a warning.
double ResolveThreshold(const ScoreFlags& flags, const Model& model) {
  if (flags.threshold && flags.target_fpr) {
    throw UsageError("--threshold and --target-fpr are alternatives: give one");
  }
  if (flags.threshold) return *flags.threshold;
  const ScoreCalibration* calibration = model.calibration();
  if (flags.target_fpr) {
    const double rate = *flags.target_fpr;
    if (!(rate > 0 && rate < 1)) {
      throw UsageError(fmt::format("--target-fpr {}: must be between 0 and 1 (exclusive)", rate));
    }
    if (calibration == nullptr) {
      throw UsageError(flags.model +
                       ": has no score calibration (trained before it was stored): retrain it, "
                       "or give --threshold");
    }
    return calibration->ThresholdAt(rate);
  }
  if (calibration != nullptr) return calibration->threshold;
  if (!flags.quiet) {
    Warn(flags.model +
         ": has no calibrated threshold (trained before it was stored); flagging "
         "scores below 0: retrain it, or give --threshold or --target-fpr");
  }
  return 0;
}

// "1d", "12h", "90m", "3600s" -> seconds.
int64_t WindowSeconds(const std::string& text) {
  int64_t value = 0;
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9' && value < 1'000'000) {
    value = value * 10 + (text[i] - '0');
    ++i;
  }
  const std::string unit = text.substr(i);
  const int64_t scale = unit == "d"   ? 86400
                        : unit == "h" ? 3600
                        : unit == "m" ? 60
                        : unit == "s" ? 1
                                      : 0;
  if (i == 0 || scale == 0 || value == 0 || value * scale > 366 * 86400) {
    throw UsageError("--window \"" + text +
                     "\": expected a duration such as 1d, 12h, 30m or 3600s (at most 366d)");
  }
  return value * scale;
}

// The history beside the model (DIR/history.ipinsights), unless --history or --no-history.
// Models record the checksum of the history trained with them: one beside the model that is
// not it (another run's, or a crash between train's renames) would give reasons from another
// window, so it is left out as a missing one is; one given with --history is the user's
// choice, used with a warning.
std::optional<EntityHistory> LoadHistory(const ScoreFlags& flags, const Model& model) {
  if (flags.no_history) return std::nullopt;
  const std::optional<uint64_t> expected = model.history_checksum();
  auto other_run = [&](const EntityHistory& history, const std::string& location) {
    return expected && history.checksum() != *expected
               ? fmt::format(
                     "{} is not the history trained with {} (its checksum is {:016x}, "
                     "the model's history_checksum {:016x})",
                     location, flags.model, history.checksum(), *expected)
               : std::string();
  };
  if (!flags.history.empty()) {
    EntityHistory history = ReadHistoryFile(flags.history);
    if (std::string problem = other_run(history, flags.history); !problem.empty() && !flags.quiet) {
      Warn(problem + ": reasons will use it as given");
    }
    return history;
  }
  const size_t slash = flags.model.rfind('/');
  const std::string beside =
      (slash == std::string::npos ? std::string() : flags.model.substr(0, slash + 1)) +
      "history.ipinsights";
  Storage& storage = OpenStorage(beside);
  if (!storage.Exists(beside)) {
    if (!flags.quiet) {
      Warn("no " + beside +
           " beside the model: reasons will not use the training history "
           "(give --history FILE, or --no-history to silence this)");
    }
    return std::nullopt;
  }
  EntityHistory history = ReadHistoryFile(beside);
  if (std::string problem = other_run(history, beside); !problem.empty()) {
    Warn(problem +
         ": reasons will not use the training history (train again, or give "
         "--history FILE or --no-history)");
    return std::nullopt;
  }
  return history;
}

void RunScorePairs(const ScoreFlags& flags);

// --account-id, else AWS_ACCOUNT_ID, else "" (FindingDelivery then takes the one account the
// findings share).
std::string AccountFlag(const ScoreFlags& flags) {
  if (!flags.account_id.empty()) return flags.account_id;
  if (const char* env = std::getenv("AWS_ACCOUNT_ID"); env != nullptr && *env != '\0') return env;
  return "";
}

std::string RegionFor(const ScoreFlags& flags) {
  if (!flags.region.empty()) return flags.region;
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (const char* env = std::getenv(name); env != nullptr && *env != '\0') return env;
  }
  return "us-east-1";
}

void RunScoreLogs(const ScoreFlags& flags) {
  if (!flags.pairs.empty()) {
    throw UsageError("score: --pairs and cloudtrail|waf --input are alternatives: give one");
  }
  if (flags.inputs.empty()) throw UsageError("score " + flags.kind + ": --input SRC is required");
  const bool findings_wanted = flags.findings || flags.to_security_hub;
  if (!findings_wanted && flags.format != "ndjson") {
    throw UsageError("--format " + flags.format + " formats findings: add --findings");
  }
  if (!findings_wanted &&
      (!flags.suppress.empty() || !flags.state.empty() || !flags.events_output.empty())) {
    throw UsageError("--suppress, --state and --events-output go with findings: add --findings");
  }
  if (SameObject(flags.model, flags.output)) {
    throw UsageError(flags.output + ": is both an input and an output (--model " + flags.model +
                     ")");
  }
  const LogKind kind = flags.kind == "waf" ? LogKind::kWaf : LogKind::kCloudTrail;
  // Rules, state, account and Security Hub's credentials are checked before any log is read.
  std::optional<FindingDelivery> delivery;
  if (findings_wanted) {
    delivery.emplace(FindingDeliveryOptions{.kind = kind,
                                            .format = ParseFindingFormat(flags.format),
                                            .suppress = flags.suppress,
                                            .state = flags.state,
                                            .to_security_hub = flags.to_security_hub,
                                            .region = RegionFor(flags),
                                            .account_id = AccountFlag(flags),
                                            .today = DateOfUnixSeconds(std::time(nullptr))});
  }
  FindingOptions finding_options;
  finding_options.window_seconds = WindowSeconds(flags.window);
  finding_options.max_sample_events = flags.max_samples;
  finding_options.memory_budget = flags.findings_memory_mb << 20;
  const auto start = std::chrono::steady_clock::now();
  std::shared_ptr<const Model> model = Model::Load(flags.model);
  const double threshold = ResolveThreshold(flags, *model);
  std::optional<EntityHistory> history = LoadHistory(flags, *model);
  NetworkInfoSource network_info = NetworkInfoSource::Open({.asn_db = flags.asn_db,
                                                            .country_db = flags.country_db,
                                                            .aws_ip_ranges = flags.aws_ip_ranges});

  LogScoreOptions options;
  options.kind = kind;
  options.inputs = flags.inputs;
  if (!flags.entity.empty()) options.entity = ParseEntitySpec(options.kind, flags.entity);
  const EntityKind entity_kind =
      options.entity ? options.entity->kind : DefaultEntitySpec(options.kind).kind;
  options.days = {DateFlag("--from", flags.from), DateFlag("--to", flags.to)};
  options.ipv4_only = flags.ipv4_only;
  options.keep_corrupt = flags.keep_corrupt;
  options.threads = flags.threads;
  options.model = model.get();
  options.threshold = static_cast<float>(threshold);
  options.calibration = model->calibration();
  if (delivery && kind == LogKind::kCloudTrail) {
    options.on_listed = [&delivery](const std::vector<ObjectInfo>& objects) {
      std::set<std::string> accounts;
      for (const ObjectInfo& object : objects) {
        const std::string_view account = CloudTrailAccountInKey(object.location);
        if (!account.empty()) accounts.emplace(account);
      }
      delivery->CheckAccounts(accounts);
    };
  }
  EventExplainer explainer(history ? &*history : nullptr, &network_info, entity_kind);
  options.explainer = &explainer;

  const std::string events_location =
      findings_wanted ? flags.events_output : (flags.output.empty() ? "-" : flags.output);
  for (const std::string& location : {flags.output, flags.events_output}) {
    if (!location.empty() && location != "-") options.exclude.push_back(location);
  }
  std::unique_ptr<WritableFile> events_out;
  if (!events_location.empty()) {
    events_out = OpenStorage(events_location).OpenWritable(events_location);
  }
  options.output = events_out.get();
  options.only_flagged = flags.only_anomalies;
  std::optional<FindingAggregator> aggregator;
  if (findings_wanted) {
    aggregator.emplace(finding_options);
    options.on_flagged = [&](ScoredEvent&& event) { aggregator->Add(event); };
  }
  BadRecordLog bad_records(BadRecordLog::kDefaultCap, flags.strict);
  options.bad_records = &bad_records;
  std::optional<Progress> progress;
  options.progress = [&](uint64_t newly_read, uint64_t total) {
    if (!progress)
      progress.emplace("score " + flags.kind, total, Progress::Unit::kBytes, flags.quiet);
    progress->Add(newly_read);
  };
  LogScoreSummary summary;
  try {
    summary = ScoreLogs(options);
  } catch (...) {
    if (progress) progress->Done();
    throw;
  }
  if (progress) progress->Done();
  if (!flags.quiet) {
    const std::vector<std::string> problems = bad_records.messages();
    for (const std::string& problem : problems) Warn(problem);
    for (const std::string& warning : summary.warnings) Warn(warning);
    if (bad_records.count() > problems.size()) {
      Warn(fmt::format("... and {} more problems", bad_records.count() - problems.size()));
    }
  }
  if (summary.scored == 0 && !flags.allow_empty) {
    throw Error(fmt::format(
        "score {}: no event scored: {} files, {} records read, none yielded an (entity, IP) "
        "pair (wrong log kind, or --from/--to outside the logs?). --allow-empty accepts an "
        "empty result",
        flags.kind, summary.files, summary.records));
  }
  FindingDeliverySummary totals;
  size_t spill_files = 0;
  std::unique_ptr<WritableFile> findings_out;
  const int64_t now = std::time(nullptr);
  if (delivery) {
    spill_files = aggregator->spill_files();
    FindingStream findings = std::move(*aggregator).Finish();
    spill_files += findings.spill_files();
    const std::string location = flags.output.empty() ? "-" : flags.output;
    if (!(flags.to_security_hub && flags.output.empty())) {
      findings_out = OpenStorage(location).OpenWritable(location);
    }
    totals = delivery->Deliver(findings, findings_out.get(), now);
  }
  // Every output in place before the state records the findings as reported.
  if (events_out) events_out->Close();
  if (findings_out) findings_out->Close();
  if (delivery) delivery->Commit();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double megabytes_per_second =
      summary.seconds > 0 ? summary.json_bytes / 1e6 / summary.seconds : 0;
  const bool stdout_taken =
      (findings_wanted && findings_out && (flags.output.empty() || flags.output == "-")) ||
      events_location == "-";
  if (flags.json) {
    std::string json = fmt::format(
        "{{\"kind\":{},\"files\":{},\"bytes_read\":{},\"json_bytes\":{},\"records\":{},"
        "\"scored\":{},\"anomalous\":{},\"rule_flagged\":{},\"flagged\":{},\"written\":{},"
        "\"threshold\":{},\"calibrated\":{},\"history\":{},\"skipped\":{{",
        JsonString(flags.kind), summary.files, summary.stored_bytes, summary.json_bytes,
        summary.records, summary.scored, summary.anomalous, summary.rule_flagged, summary.flagged,
        summary.written, JsonNumber(threshold), model->calibration() ? "true" : "false",
        history ? "true" : "false");
    for (size_t i = 0; i < kNumSkipReasons; ++i) {
      const SkipReason reason = static_cast<SkipReason>(i);
      json +=
          fmt::format("{}\"{}\":{}", i ? "," : "", SkipReasonName(reason), summary.skipped[reason]);
    }
    json += "}";
    if (findings_wanted) {
      json += fmt::format(
          ",\"findings\":{{\"total\":{},\"suppressed\":{},\"already_reported\":{},"
          "\"reported\":{},\"reported_by_severity\":{{\"LOW\":{},\"MEDIUM\":{},\"HIGH\":{},"
          "\"CRITICAL\":{}}},\"spill_files\":{},"
          "\"expired_rules\":[",
          totals.findings, totals.suppressed, totals.already_reported, totals.reported,
          totals.by_severity[1], totals.by_severity[2], totals.by_severity[3],
          totals.by_severity[4], spill_files);
      for (size_t i = 0; i < totals.expired_rules.size(); ++i) {
        json += (i ? "," : "") + JsonString(totals.expired_rules[i]);
      }
      json += "],\"suppressed_by_rule\":[";
      for (size_t i = 0; i < totals.rule_counts.size(); ++i) {
        json += fmt::format("{}{{\"rule\":{},\"findings\":{}}}", i ? "," : "",
                            JsonString(totals.rule_counts[i].first), totals.rule_counts[i].second);
      }
      json += "]}";
      if (totals.sent_to_security_hub) {
        json += fmt::format(
            ",\"security_hub\":{{\"batches\":{},\"sent\":{},\"succeeded\":{},"
            "\"failed\":{},\"failures\":[",
            totals.security_hub.batches, totals.security_hub.sent, totals.security_hub.succeeded,
            totals.security_hub.failed);
        for (size_t i = 0; i < totals.security_hub.failures.size() && i < 100; ++i) {
          json += (i ? "," : "") + JsonString(totals.security_hub.failures[i]);
        }
        json += "]}";
      }
    }
    json += fmt::format(",\"seconds\":{:.3f},\"json_mb_per_second\":{:.1f}}}\n", seconds,
                        megabytes_per_second);
    std::fputs(json.c_str(), stdout_taken ? stderr : stdout);
  } else if (!flags.quiet) {
    std::string text = fmt::format(
        "score {}: {} files, {} of JSON, {} events scored in {:.2f} s ({:.0f} MB/s); {} "
        "anomalous (score < {:.3f}{}){}\n",
        flags.kind, summary.files, FormatBytes(summary.json_bytes), FormatCount(summary.scored),
        summary.seconds, megabytes_per_second, FormatCount(summary.anomalous), threshold,
        model->calibration()
            ? fmt::format(
                  ", {:.2g}% of normal pairs",
                  model->calibration()->FalsePositiveRateAt(static_cast<float>(threshold)) * 100)
            : std::string(),
        summary.rule_flagged
            ? fmt::format(", {} instance-credential events", FormatCount(summary.rule_flagged))
            : std::string());
    if (findings_wanted) {
      text += fmt::format(
          "findings: {}; {} suppressed, {} already reported, {} reported ({} HIGH, {} MEDIUM, "
          "{} LOW)\n",
          totals.findings, totals.suppressed, totals.already_reported, totals.reported,
          totals.by_severity[3], totals.by_severity[2], totals.by_severity[1]);
      if (spill_files > 0) {
        text += fmt::format(
            "  more findings than --findings-memory-mb {} holds: grouped and sorted through {} "
            "spill files in {}\n",
            flags.findings_memory_mb, spill_files,
            finding_options.spill_folder.empty() ? "$TMPDIR" : finding_options.spill_folder);
      }
      for (const auto& [rule, count] : totals.rule_counts) {
        text += fmt::format("  suppressed {} by {}\n", count, rule);
      }
      for (const std::string& expired : totals.expired_rules) text += "  " + expired + "\n";
      if (totals.sent_to_security_hub) {
        text += fmt::format("security hub: {} sent in {} batches, {} accepted, {} failed\n",
                            totals.security_hub.sent, totals.security_hub.batches,
                            totals.security_hub.succeeded, totals.security_hub.failed);
        for (const std::string& failure : totals.security_hub.failures) {
          text += "  " + failure + "\n";
        }
      }
    }
    std::fputs(text.c_str(), stderr);
  }
  if (totals.sent_to_security_hub && totals.security_hub.failed > 0) {
    throw Error(fmt::format("security hub: {} of {} findings were not imported (see above)",
                            totals.security_hub.failed, totals.security_hub.sent));
  }
}

void RunScore(const ScoreFlags& flags) {
  if (!flags.kind.empty()) return RunScoreLogs(flags);
  if (flags.pairs.empty()) {
    throw UsageError(
        "score: give --pairs SRC (entity,ip CSV), or cloudtrail|waf --input SRC... to score "
        "logs directly");
  }
  for (const auto& [set, flag] : std::initializer_list<std::pair<bool, const char*>>{
           {flags.findings, "--findings"},
           {!flags.inputs.empty(), "--input"},
           {flags.to_security_hub, "--to-security-hub"}}) {
    if (set)
      throw UsageError(std::string(flag) + " reads logs: give cloudtrail|waf --input SRC...");
  }
  RunScorePairs(flags);
}

void RunScorePairs(const ScoreFlags& given) {
  ScoreFlags flags = given;
  if (flags.output.empty()) flags.output = "-";
  if (SameObject(flags.model, flags.output)) {
    throw UsageError(flags.output + ": is both an input and an output (--model " + flags.model +
                     ")");
  }
  auto start = std::chrono::steady_clock::now();
  std::shared_ptr<const Model> model = Model::Load(flags.model);
  const double threshold = ResolveThreshold(flags, *model);

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
  options.calibration = model->calibration();
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
      "score",
      "Score entity,ip pairs, or CloudTrail/WAF logs directly, with a trained model; writes one "
      "JSON object per event, or findings (--findings) for Security Hub");
  command->add_option("kind", flags->kind, "cloudtrail or waf: score logs (with --input)")
      ->check(CLI::IsMember({"cloudtrail", "waf"}));
  command->add_option("--model", flags->model, "Model file (model.ipinsights)")->required();
  command->add_option("--pairs", flags->pairs,
                      "CSV of entity,ip rows: a file, a folder, s3://... or - for stdin");
  command->add_option("--input", flags->inputs,
                      "Logs to score (as prepare): files, folders, s3://bucket/prefix; repeatable");
  command->add_option("--from", flags->from, "First day to read, YYYY-MM-DD (inclusive)");
  command->add_option("--to", flags->to, "Last day to read, YYYY-MM-DD (inclusive)");
  command->add_option("--entity", flags->entity,
                      "Entity field, as prepare (must match what the model was trained on)");
  command->add_flag("--ipv4-only", flags->ipv4_only, "Skip IPv6 events (as prepare)");
  command->add_flag("--keep-corrupt", flags->keep_corrupt,
                    "Keep the events of gzip objects whose checksum fails");
  command->add_option("--output", flags->output,
                      "Where the NDJSON (or the findings with --findings) goes (default: stdout)");
  command->add_option("--threshold", flags->threshold,
                      "Flag events scoring below this (default: the model's calibrated threshold)");
  command->add_option("--target-fpr", flags->target_fpr,
                      "Flag the scores that this share of normal pairs falls below (uses the "
                      "model's calibration)");
  command->add_flag("--only-anomalies", flags->only_anomalies, "Write only the flagged events");
  command->add_option(
      "--history", flags->history,
      "Training history for reasons (default: history.ipinsights beside the model)");
  command->add_flag("--no-history", flags->no_history, "Do not read the training history");
  command->add_option("--asn-db", flags->asn_db,
                      "MaxMind-format database (.mmdb) for ASN and country in reasons");
  command->add_option("--country-db", flags->country_db,
                      "A second .mmdb for countries when --asn-db has none");
  command->add_option("--aws-ip-ranges", flags->aws_ip_ranges,
                      "AWS's ip-ranges.json: say whether an address is inside AWS");
  command->add_flag("--findings", flags->findings,
                    "Group flagged events into findings per (entity, IP) and window");
  command->add_option("--window", flags->window, "Findings window: 1d (default), 12h, 30m, 3600s");
  command->add_option("--max-samples", flags->max_samples,
                      "Sample event ids kept per finding (default 10)");
  command
      ->add_option("--findings-memory-mb", flags->findings_memory_mb,
                   "Findings kept in memory before spilling sorted parts to $TMPDIR "
                   "(default 256)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  command->add_option("--suppress", flags->suppress,
                      "YAML suppression rules (docs/formats/suppressions.md)");
  command->add_option("--state", flags->state,
                      "Folder or s3:// prefix remembering reported findings across runs");
  command->add_option("--format", flags->format, "Findings format: ndjson (default), asff, ocsf")
      ->check(CLI::IsMember({"ndjson", "asff", "ocsf"}));
  command->add_option("--events-output", flags->events_output,
                      "With --findings: also write every scored event's NDJSON here");
  command->add_flag("--to-security-hub", flags->to_security_hub,
                    "Send the findings to AWS Security Hub (BatchImportFindings, SigV4)");
  command->add_option("--region", flags->region,
                      "Security Hub region (default: AWS_REGION, AWS_DEFAULT_REGION, us-east-1)");
  command->add_option("--account-id", flags->account_id,
                      "AWS account for ASFF findings without one (WAF; default: the records')");
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
