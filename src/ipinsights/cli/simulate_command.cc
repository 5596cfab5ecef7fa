#include <fmt/format.h>

#include <cstdio>
#include <optional>

#include "ipinsights/base/error.h"
#include "ipinsights/base/progress.h"
#include "ipinsights/cli/commands.h"
#include "ipinsights/simulate/simulator.h"

namespace ipinsights {
namespace {

struct SimulateFlags {
  SimulateOptions options;
  std::string start = "2024-03-01";
  std::string population = "networks";
  bool quiet = false;
  bool json = false;
};

void RunSimulate(LogKind kind, SimulateFlags& flags) {
  SimulateOptions options = flags.options;
  options.kind = kind;
  std::optional<Date> start = ParseDate(flags.start);
  if (!start)
    throw UsageError("simulate: --start: \"" + flags.start + "\" is not a date (YYYY-MM-DD)");
  options.start = *start;
  options.population = flags.population == "asn" ? PopulationKind::kAsn : PopulationKind::kNetworks;
  Progress progress("simulate", 0, Progress::Unit::kCount, flags.quiet || flags.json);
  SimulateSummary summary = Simulate(options, &progress);
  progress.Done();
  if (flags.json) {
    std::printf("%s\n", SummaryJson(summary).c_str());
    return;
  }
  if (flags.quiet) return;
  std::fprintf(
      stderr,
      "simulate %s: %s records in %s files (%s uncompressed, %s stored) in %.1f s (%.0f MB/s)\n"
      "  population %s: users %s, networks %s, days %d; pairs %s (IPv6 %s); attacks %s on the last "
      "day\n"
      "  prepare should skip: aws_service %s, not_an_ip %s, no_entity %s\n"
      "  labels: %s (%s rows)\n",
      summary.kind.c_str(), FormatCount(summary.records).c_str(),
      FormatCount(summary.files).c_str(), FormatBytes(summary.bytes).c_str(),
      FormatBytes(summary.stored_bytes).c_str(), summary.seconds,
      summary.seconds > 0 ? summary.bytes / 1e6 / summary.seconds : 0.0, summary.population.c_str(),
      FormatCount(summary.users).c_str(), FormatCount(summary.networks).c_str(), summary.days,
      FormatCount(summary.pairs).c_str(), FormatCount(summary.ipv6_pairs).c_str(),
      FormatCount(summary.attacks).c_str(), FormatCount(summary.skipped_aws_service).c_str(),
      FormatCount(summary.skipped_not_an_ip).c_str(),
      FormatCount(summary.skipped_no_entity).c_str(), summary.labels_path.c_str(),
      FormatCount(summary.label_rows).c_str());
}

void AddKind(CLI::App* simulate, const char* name, LogKind kind, const char* description) {
  auto flags = std::make_shared<SimulateFlags>();
  CLI::App* command = simulate->add_subcommand(name, description);
  SimulateOptions& o = flags->options;
  command->add_option("--out", o.out, "Output folder (new or empty)")->required();
  command->add_option("--users", o.users, "Entities (default 1000, or what --target-mb needs)")
      ->check(CLI::Range(size_t{1}, size_t{50'000'000}));
  command->add_option("--days", o.days, "Days of logs")->capture_default_str();
  command->add_option("--start", flags->start, "First day, YYYY-MM-DD")->capture_default_str();
  command->add_option("--attacks", o.attacks, "Anomalous events injected on the last day")
      ->capture_default_str();
  command->add_option(
      "--target-mb", o.target_mb,
      "Approximate uncompressed size in MB (scales users, or their activity with --users)");
  command
      ->add_option("--population", flags->population,
                   "Generative model of the addresses: networks (people and workloads on ISP, "
                   "office, mobile and cloud networks) or asn (home and work ranges in an "
                   "ASN-like table, drift to neighbouring ranges, uniform travel: SageMaker's "
                   "tutorial generator's design; IPv4 only)")
      ->check(CLI::IsMember({"networks", "asn"}))
      ->capture_default_str();
  command->add_option("--seed", o.seed, "Random seed (same seed = same bytes)")
      ->capture_default_str();
  command
      ->add_option("--ipv6-fraction", o.ipv6_fraction,
                   "Share of entities on IPv6-capable networks (--population networks)")
      ->capture_default_str();
  command
      ->add_option("--events-per-day", o.events_per_user_per_day,
                   "Mean events per entity per day (heavy-tailed across entities)")
      ->capture_default_str();
  command->add_option("--compression-level", o.compression_level, "gzip level (libdeflate 0..12)")
      ->capture_default_str();
  if (kind == LogKind::kWaf) {
    command->add_flag("--gzip", o.gzip, "gzip'd Firehose delivery (objects end in .gz)");
    command->add_option("--prefix", o.prefix, "Firehose S3 prefix inside --out")
        ->capture_default_str();
  }
  command->add_option("--threads", o.threads, "Worker threads (default: all cores)");
  command->add_flag("--quiet", flags->quiet, "No progress or summary on stderr");
  command->add_flag("--json", flags->json, "Print the summary as one JSON object on stdout");
  command->callback([flags, kind] { RunSimulate(kind, *flags); });
}

}  // namespace

void AddSimulateCommand(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "simulate",
      "Write realistic synthetic CloudTrail or WAF logs with injected anomalies and labels.csv");
  command->require_subcommand(1);
  AddKind(command, "cloudtrail", LogKind::kCloudTrail,
          "CloudTrail: AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz plus digests");
  AddKind(command, "waf", LogKind::kWaf,
          "WAF v2 via Firehose: <prefix>YYYY/MM/DD/HH/<stream>-1-...");
}

}  // namespace ipinsights
