// `ipinsights prepare cloudtrail|waf --input SRC... --output DEST`: logs to training pairs.
// See docs/formats/training-csv.md for the output and PRODUCT.md for the contract.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/parallel.h"
#include "ipinsights/base/progress.h"
#include "ipinsights/cli/commands.h"
#include "ipinsights/dataset/pair_csv_writer.h"
#include "ipinsights/dataset/split.h"
#include "ipinsights/logs/log_scan.h"
#include "ipinsights/storage/storage.h"

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
  bool keep_corrupt = false;
  std::optional<double> max_decompressed_gb;
  bool ipv4_only = false;
  size_t threads = 0;
  bool quiet = false;
  bool json = false;
};

struct OutputTotals {
  uint64_t train_rows = 0;
  uint64_t validation_rows = 0;
};

// One object's rows, buffered until its turn to be written.
class PairRowsOutput : public FileOutput {
 public:
  PairRowsOutput(const Split& split, WritableFile* train, WritableFile* validation,
                 OutputTotals* totals)
      : split_(split), train_(train), validation_(validation), totals_(totals) {}

  void Add(const LogEvent& event) override {
    size_t start = train_rows_.size();
    AppendPairCsvRow(event.entity, event.ip, &train_rows_);
    if (split_.enabled()) {
      std::string_view row(train_rows_.data() + start, train_rows_.size() - start - 1);
      std::optional<int64_t> time;
      if (event.has_time) time = event.time;
      if (split_.ToValidation(row, time)) {
        validation_rows_.append(train_rows_, start, std::string::npos);
        train_rows_.resize(start);
        ++validation_count_;
        return;
      }
    }
    ++train_count_;
  }

  size_t BufferedBytes() const override { return train_rows_.size() + validation_rows_.size(); }

  void WriteOut() override {
    if (!train_rows_.empty()) train_->Append(train_rows_);
    if (!validation_rows_.empty()) validation_->Append(validation_rows_);
    train_rows_.clear();
    validation_rows_.clear();
    totals_->train_rows += train_count_;
    totals_->validation_rows += validation_count_;
    train_count_ = 0;
    validation_count_ = 0;
  }

  void Discard() override {
    train_rows_.clear();
    validation_rows_.clear();
    train_count_ = 0;
    validation_count_ = 0;
  }

 private:
  const Split& split_;
  WritableFile* train_;
  WritableFile* validation_;
  OutputTotals* totals_;
  std::string train_rows_;
  std::string validation_rows_;
  uint64_t train_count_ = 0;
  uint64_t validation_count_ = 0;
};

Date ParseDateFlag(const std::string& flag, const std::string& text) {
  std::optional<Date> date = ParseDate(text);
  if (!date) throw UsageError(flag + " \"" + text + "\": expected a date YYYY-MM-DD");
  return *date;
}

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

void RunPrepare(const PrepareFlags& flags) {
  const LogKind kind = flags.kind == "waf" ? LogKind::kWaf : LogKind::kCloudTrail;
  LogReaderOptions reader_options;
  reader_options.kind = kind;
  reader_options.entity =
      flags.entity.empty() ? DefaultEntitySpec(kind) : ParseEntitySpec(kind, flags.entity);
  reader_options.ipv4_only = flags.ipv4_only;

  ListOptions list_options;
  if (!flags.from.empty()) {
    list_options.from = ParseDateFlag("--from", flags.from);
    reader_options.from_seconds = DaysFromCivil(*list_options.from) * 86400;
  }
  if (!flags.to.empty()) {
    list_options.to = ParseDateFlag("--to", flags.to);
    reader_options.to_seconds = (DaysFromCivil(*list_options.to) + 1) * 86400;
  }
  if (list_options.from && list_options.to && *list_options.from > *list_options.to) {
    throw UsageError("--from " + flags.from + " is after --to " + flags.to);
  }

  Split split = Split::None();
  if (flags.validation_fraction && !flags.split_at.empty()) {
    throw UsageError("--validation-fraction and --split-at are alternatives: give one");
  }
  if (flags.validation_fraction) {
    double f = *flags.validation_fraction;
    if (!(f >= 0.0 && f <= 1.0)) {
      throw UsageError(fmt::format("--validation-fraction {}: must be between 0 and 1", f));
    }
    split = Split::ByFraction(f);
  } else if (!flags.split_at.empty()) {
    split = Split::AtDate(ParseDateFlag("--split-at", flags.split_at));
  }
  if (split.enabled() && flags.validation_output.empty()) {
    throw UsageError("--validation-fraction / --split-at need --validation-output DEST");
  }
  if (!split.enabled() && !flags.validation_output.empty()) {
    throw UsageError("--validation-output needs --validation-fraction F or --split-at DATE");
  }
  if (!flags.validation_output.empty() &&
      (flags.validation_output == flags.output || SameObject(flags.validation_output, flags.output))) {
    throw UsageError("--validation-output must differ from --output");
  }
  if (flags.json && (flags.output == "-" || flags.validation_output == "-")) {
    throw UsageError("--json prints the summary on stdout, so --output cannot be - with it");
  }
  reader_options.want_event_time = split.needs_event_time();
  if (flags.max_decompressed_gb) {
    const double gb = *flags.max_decompressed_gb;
    if (!(gb > 0 && gb <= 1e9)) {
      throw UsageError(fmt::format("--max-decompressed-gb {}: must be a positive number", gb));
    }
    reader_options.max_decompressed_bytes = static_cast<uint64_t>(gb * 1e9);
  }

  const size_t threads = flags.threads ? flags.threads : HardwareThreads();
  // Whole objects up to this size (decompressed) are held in memory, per worker; bigger
  // ones are streamed. With the parser's index (up to about the same again) and the output
  // window this keeps peak memory under 512 MB at any thread count and corpus size.
  reader_options.memory_budget =
      std::clamp<size_t>((size_t{128} << 20) / threads, size_t{16} << 20, size_t{64} << 20);

  std::vector<ObjectInfo> objects;
  uint64_t total_stored = 0;
  for (const std::string& input : flags.inputs) {
    std::vector<ObjectInfo> listed = OpenStorage(input).List(input, list_options);
    ExcludeOutputs("--input", input, {flags.output, flags.validation_output}, &listed);
    for (ObjectInfo& object : listed) {
      total_stored += object.size;
      objects.push_back(std::move(object));
    }
  }

  std::unique_ptr<WritableFile> train_out = OpenStorage(flags.output).OpenWritable(flags.output);
  std::unique_ptr<WritableFile> validation_out;
  if (!flags.validation_output.empty()) {
    validation_out = OpenStorage(flags.validation_output).OpenWritable(flags.validation_output);
  }

  const auto start = std::chrono::steady_clock::now();
  Progress progress("prepare " + flags.kind, total_stored, Progress::Unit::kBytes,
                    flags.quiet);
  ScanOptions scan_options;
  scan_options.threads = threads;
  scan_options.strict = flags.strict;
  scan_options.keep_corrupt = flags.keep_corrupt;
  scan_options.progress = &progress;
  scan_options.flush_bytes = size_t{8} << 20;
  OutputTotals totals;
  ScanSummary summary;
  try {
    summary = ScanLogs(objects, nullptr, reader_options, scan_options,
                       [&]() -> std::unique_ptr<FileOutput> {
                         return std::make_unique<PairRowsOutput>(
                             split, train_out.get(), validation_out.get(), &totals);
                       });
  } catch (...) {
    progress.Done();
    throw;
  }
  progress.Done();
  // Both outputs are flushed and synced before either is renamed, and the training file
  // goes last: a failure leaves the earlier training file in place.
  train_out->Sync();
  if (validation_out) {
    validation_out->Sync();
    validation_out->Close();
  }
  train_out->Close();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  for (const std::string& problem : summary.problems) {
    std::fprintf(stderr, "ipinsights: warning: %s\n", problem.c_str());
  }
  for (const std::string& warning : summary.warnings) {
    std::fprintf(stderr, "ipinsights: warning: %s\n", warning.c_str());
  }
  if (summary.problem_count > summary.problems.size()) {
    std::fprintf(stderr, "ipinsights: warning: ... and %llu more problems\n",
                 static_cast<unsigned long long>(summary.problem_count - summary.problems.size()));
  }

  if (flags.json) {
    std::string out = "{";
    out += fmt::format("\"files\": {}, \"digest_files\": {}, \"bytes_read\": {}, "
                       "\"compressed_bytes\": {}, \"records\": {}, \"pairs_written\": {}",
                       summary.files, summary.digest_files, summary.json_bytes,
                       summary.stored_bytes, summary.records, totals.train_rows);
    if (split.enabled()) out += fmt::format(", \"validation_pairs_written\": {}", totals.validation_rows);
    out += ", \"skipped\": {";
    for (size_t i = 0; i < kNumSkipReasons; ++i) {
      SkipReason reason = static_cast<SkipReason>(i);
      out += fmt::format("{}\"{}\": {}", i ? ", " : "", SkipReasonName(reason), summary.skipped[reason]);
    }
    out += "}, \"problems\": [";
    for (size_t i = 0; i < summary.problems.size() && i < 100; ++i) {
      out += (i ? ", " : "") + JsonString(summary.problems[i]);
    }
    out += "], \"warnings\": [";
    for (size_t i = 0; i < summary.warnings.size() && i < 100; ++i) {
      out += (i ? ", " : "") + JsonString(summary.warnings[i]);
    }
    out += fmt::format("], \"seconds\": {:.3f}, \"json_mb_per_second\": {:.1f}, \"threads\": {}, "
                       "\"json_kernel\": \"{}\"}}\n",
                       seconds, seconds > 0 ? summary.json_bytes / 1e6 / seconds : 0.0, threads,
                       summary.json_kernel);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    return;
  }
  if (flags.quiet) return;
  std::string line = fmt::format(
      "prepare {}: {} files{}, {} of JSON ({} stored), {} records -> {} pairs to {}",
      flags.kind, summary.files,
      summary.digest_files ? fmt::format(" ({} digest)", summary.digest_files) : "",
      FormatBytes(summary.json_bytes), FormatBytes(summary.stored_bytes),
      FormatCount(summary.records), FormatCount(totals.train_rows), flags.output);
  if (split.enabled()) {
    line += fmt::format(" + {} to {}", FormatCount(totals.validation_rows), flags.validation_output);
  }
  line += fmt::format(" in {:.2f} s ({:.0f} MB/s)\n", seconds,
                      seconds > 0 ? summary.json_bytes / 1e6 / seconds : 0.0);
  std::string skipped = "skipped:";
  for (size_t i = 0; i < kNumSkipReasons; ++i) {
    SkipReason reason = static_cast<SkipReason>(i);
    skipped += fmt::format(" {} {}", SkipReasonName(reason), summary.skipped[reason]);
  }
  std::fprintf(stderr, "%s%s\n", line.c_str(), skipped.c_str());
}

}  // namespace

void AddPrepareCommand(CLI::App& app) {
  auto flags = std::make_shared<PrepareFlags>();
  CLI::App* command = app.add_subcommand(
      "prepare", "Read CloudTrail or WAF logs and write the training CSV (entity,ip rows)");
  command->add_option("kind", flags->kind, "cloudtrail or waf")
      ->required()
      ->check(CLI::IsMember({"cloudtrail", "waf"}));
  command->add_option("--input", flags->inputs,
                      "Log files, folders (walked recursively) or - for stdin; gzip detected by content")
      ->required()
      ->expected(1, -1);
  command->add_option("--output", flags->output, "Training CSV: a file or - for stdout")->required();
  command->add_option("--from", flags->from, "First day to read, YYYY-MM-DD (inclusive)");
  command->add_option("--to", flags->to, "Last day to read, YYYY-MM-DD (inclusive)");
  command->add_option("--entity", flags->entity,
                      "CloudTrail: principalId (default), arn, accessKeyId, userName, session; "
                      "WAF: user-agent (default) or header:NAME");
  command->add_option("--validation-fraction", flags->validation_fraction,
                      "Fraction of rows (by hash of the row) written to --validation-output");
  command->add_option("--validation-output", flags->validation_output,
                      "Validation CSV: a file or -");
  command->add_option("--split-at", flags->split_at,
                      "Events on or after this day (YYYY-MM-DD) go to --validation-output");
  command->add_flag("--strict", flags->strict, "Fail (exit 1) on the first malformed file or record");
  command->add_flag("--keep-corrupt", flags->keep_corrupt,
                    "Keep the pairs of a gzip file whose CRC32/length check fails (by default "
                    "they are dropped and reported; a truncated file keeps what decoded)");
  command->add_option("--max-decompressed-gb", flags->max_decompressed_gb,
                      "Read at most this many GB (1e9 bytes) of one gzip file's decompressed "
                      "data; the rest is reported as malformed (default: no cap)");
  command->add_flag("--ipv4-only", flags->ipv4_only,
                    "Skip IPv6 addresses (reason ipv6), as SageMaker's built-in algorithm needs");
  command->add_option("--threads", flags->threads, "Worker threads (default: all cores)");
  command->add_flag("--quiet", flags->quiet, "No progress or summary on stderr");
  command->add_flag("--json", flags->json, "Print the summary as one JSON object on stdout");
  command->callback([flags] { RunPrepare(*flags); });
}

}  // namespace ipinsights
