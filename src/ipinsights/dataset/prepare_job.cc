#include "ipinsights/dataset/prepare_job.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/distinct_hashes.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/hash.h"
#include "ipinsights/base/parallel.h"
#include "ipinsights/dataset/pair_csv_writer.h"
#include "ipinsights/logs/log_scan.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

struct OutputTotals {
  uint64_t train_rows = 0;
  uint64_t validation_rows = 0;
  DistinctHashes entities;  // of every row written, training and validation
  // The event times written (Unix seconds), when the split reads them.
  int64_t first_time = std::numeric_limits<int64_t>::max();
  int64_t last_time = std::numeric_limits<int64_t>::min();
};

// One object's rows, buffered until its turn to be written.
class PairRowsOutput : public FileOutput {
 public:
  PairRowsOutput(const Split& split, WritableFile* train, WritableFile* validation,
                 OutputTotals* totals)
      : split_(split), train_(train), validation_(validation), totals_(totals) {}

  void Add(const LogEvent& event) override {
    entities_.Add(Hash64(event.entity, 0));
    size_t start = train_rows_.size();
    AppendPairCsvRow(event.entity, event.ip, &train_rows_);
    if (split_.enabled()) {
      std::string_view row(train_rows_.data() + start, train_rows_.size() - start - 1);
      std::optional<int64_t> time;
      if (event.has_time) {
        time = event.time;
        first_time_ = std::min(first_time_, event.time);
        last_time_ = std::max(last_time_, event.time);
      }
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
    totals_->entities.Merge(entities_);
    entities_.Clear();
    totals_->first_time = std::min(totals_->first_time, first_time_);
    totals_->last_time = std::max(totals_->last_time, last_time_);
    train_count_ = 0;
    validation_count_ = 0;
  }

  void Discard() override {
    entities_.Clear();
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
  DistinctHashes entities_;
  int64_t first_time_ = std::numeric_limits<int64_t>::max();
  int64_t last_time_ = std::numeric_limits<int64_t>::min();
};

// A split that leaves one side empty is a mistake the next step would hide: `train` on an
// empty file says only "no valid training rows", and an empty validation set trains without
// a validation AUC. The message names the split and the days the events span.
std::string OneSideEmptyMessage(const PrepareOptions& options, const OutputTotals& totals) {
  std::string span = "no readable event times";
  if (totals.first_time <= totals.last_time) {
    span = "events from " + FormatDate(CivilFromDays(totals.first_time / 86400)) + " to " +
           FormatDate(CivilFromDays(totals.last_time / 86400));
  }
  std::string split =
      options.split.enabled() ? "the split" : "the default split (the last day of --to)";
  return fmt::format(
      "prepare: {} left the {} set empty ({} training rows, {} validation rows; {}): choose "
      "--split-at inside that range, or --to its last day; --allow-empty accepts it",
      split, totals.train_rows == 0 ? "training" : "validation", totals.train_rows,
      totals.validation_rows, span);
}

void CheckOptions(const PrepareOptions& options) {
  if (options.inputs.empty()) throw UsageError("prepare: no --input given");
  if (options.output.empty()) throw UsageError("prepare: no --output given");
  if (options.days.from && options.days.to && *options.days.from > *options.days.to) {
    throw UsageError("--from " + FormatDate(*options.days.from) + " is after --to " +
                     FormatDate(*options.days.to));
  }
  if (options.split.enabled() && options.validation_output.empty()) {
    throw UsageError("--validation-fraction / --split-at need --validation-output DEST");
  }
  if (!options.split.enabled() && !options.validation_output.empty() && !options.days.to) {
    throw UsageError(
        "--validation-output needs --split-at DATE, or --to DATE (its events become the "
        "validation set), or --validation-fraction F");
  }
  if (!options.validation_output.empty() &&
      (options.validation_output == options.output ||
       SameObject(options.validation_output, options.output))) {
    throw UsageError("--validation-output must differ from --output");
  }
}

// The split asked for; with only a validation output, out-of-time at the window's last day.
Split EffectiveSplit(const PrepareOptions& options) {
  if (options.split.enabled() || options.validation_output.empty()) return options.split;
  return Split::AtDate(*options.days.to);
}

// Why a run that read something wrote nothing, and what to do (an empty training set is
// never a success unless asked for: a script cannot tell it from one).
std::string NothingWrittenMessage(const PrepareOptions& options, const ScanSummary& scan,
                                  uint64_t dated_objects) {
  const char* kind = options.kind == LogKind::kWaf ? "waf" : "cloudtrail";
  std::string inputs;
  for (const std::string& input : options.inputs) inputs += (inputs.empty() ? "" : " ") + input;
  std::string days;
  if (options.days.from || options.days.to) {
    days = fmt::format(" for {}..{}", options.days.from ? FormatDate(*options.days.from) : "",
                       options.days.to ? FormatDate(*options.days.to) : "");
  }
  // No object of the AWS key layouts in the window (a stray labels.csv may still be there).
  if (scan.files == scan.digest_files ||
      ((options.days.from || options.days.to) && dated_objects == 0)) {
    return fmt::format(
        "prepare {}: no log files under {}{} ({} digest files): check --input and --from/--to "
        "(dates are read from the AWS key layout); --allow-empty accepts an empty result",
        kind, inputs, days, scan.digest_files);
  }
  std::string reasons;
  SkipReason most = SkipReason::kMalformed;
  for (size_t i = 0; i < kNumSkipReasons; ++i) {
    const SkipReason reason = static_cast<SkipReason>(i);
    if (scan.skipped[reason] == 0 || reason == SkipReason::kDigest) continue;
    reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ", SkipReasonName(reason),
                           scan.skipped[reason]);
    if (scan.skipped[reason] > scan.skipped[most]) most = reason;
  }
  std::string hint;
  if (most == SkipReason::kOutOfRange) {
    hint = "their event times are outside --from/--to";
  } else if (most == SkipReason::kMalformed) {
    hint = "the files are not CloudTrail or WAF JSON";
  } else if (most == SkipReason::kIpv6) {
    hint = "every address is IPv6 and --ipv4-only is given";
  } else {
    hint = fmt::format("if these are {} logs, run `ipinsights prepare {}`; else check --entity",
                       options.kind == LogKind::kWaf ? "CloudTrail" : "WAF",
                       options.kind == LogKind::kWaf ? "cloudtrail" : "waf");
  }
  return fmt::format(
      "prepare {}: {} records in {} files gave no pairs (skipped: {}): {}. --allow-empty "
      "accepts an empty result",
      kind, scan.records, scan.files - scan.digest_files, reasons.empty() ? "none" : reasons, hint);
}

LogReaderOptions ReaderOptions(const PrepareOptions& options, size_t threads) {
  LogReaderOptions reader;
  reader.kind = options.kind;
  reader.entity = options.entity ? *options.entity : DefaultEntitySpec(options.kind);
  reader.ipv4_only = options.ipv4_only;
  if (options.days.from) reader.from_seconds = DaysFromCivil(*options.days.from) * 86400;
  if (options.days.to) reader.to_seconds = (DaysFromCivil(*options.days.to) + 1) * 86400;
  reader.want_event_time = EffectiveSplit(options).needs_event_time();
  reader.max_decompressed_bytes = options.max_decompressed_bytes;
  // Whole objects up to this size (decompressed) are held in memory, per worker; bigger
  // ones are streamed. With the parser's index (up to about the same again) and the output
  // window this keeps peak memory under 512 MB at any thread count and corpus size.
  reader.memory_budget =
      std::clamp<size_t>((size_t{128} << 20) / threads, size_t{16} << 20, size_t{64} << 20);
  return reader;
}

}  // namespace

PrepareSummary RunPrepareJob(const PrepareOptions& options) {
  CheckOptions(options);
  const Split split = EffectiveSplit(options);
  const size_t threads = options.threads ? options.threads : HardwareThreads();
  const LogReaderOptions reader_options = ReaderOptions(options, threads);

  std::vector<ObjectInfo> objects;
  uint64_t total_stored = 0;
  uint64_t dated_objects = 0;  // objects whose key carries a day (the AWS layouts)
  for (const std::string& input : options.inputs) {
    std::vector<ObjectInfo> listed = ListLogObjects(OpenStorage(input), input, options.days);
    ExcludeOutputs("--input", input, {options.output, options.validation_output}, &listed);
    for (ObjectInfo& object : listed) {
      total_stored += object.size;
      if (DateInKey(object.location)) ++dated_objects;
      objects.push_back(std::move(object));
    }
  }

  std::unique_ptr<WritableFile> train_out =
      OpenStorage(options.output).OpenWritable(options.output);
  std::unique_ptr<WritableFile> validation_out;
  if (!options.validation_output.empty()) {
    validation_out = OpenStorage(options.validation_output).OpenWritable(options.validation_output);
  }

  const auto start = std::chrono::steady_clock::now();
  if (options.progress) options.progress(0, total_stored);
  ScanOptions scan_options;
  scan_options.threads = threads;
  scan_options.bad_records = options.bad_records;
  scan_options.keep_corrupt = options.keep_corrupt;
  if (options.progress) {
    scan_options.progress = [&](uint64_t bytes) { options.progress(bytes, total_stored); };
  }
  scan_options.flush_bytes = size_t{8} << 20;
  OutputTotals totals;
  ScanSummary scan = ScanLogs(objects, nullptr, reader_options, scan_options,
                              [&]() -> std::unique_ptr<FileOutput> {
                                return std::make_unique<PairRowsOutput>(
                                    split, train_out.get(), validation_out.get(), &totals);
                              });
  // Before anything is renamed into place: a refused run leaves earlier outputs untouched.
  if (totals.train_rows + totals.validation_rows == 0 && !options.allow_empty) {
    throw Error(NothingWrittenMessage(options, scan, dated_objects));
  }
  if (validation_out && (totals.train_rows == 0 || totals.validation_rows == 0) &&
      !options.allow_empty) {
    throw Error(OneSideEmptyMessage(options, totals));
  }
  // Both outputs are flushed and synced before either is renamed, and the training file
  // goes last: a failure leaves the earlier training file in place.
  train_out->Sync();
  if (validation_out) {
    validation_out->Sync();
    validation_out->Close();
  }
  train_out->Close();

  PrepareSummary summary;
  summary.files = scan.files;
  summary.digest_files = scan.digest_files;
  summary.stored_bytes = scan.stored_bytes;
  summary.json_bytes = scan.json_bytes;
  summary.records = scan.records;
  summary.pairs_written = totals.train_rows;
  summary.validation_pairs_written = totals.validation_rows;
  summary.entities = totals.entities.size();
  summary.skipped = scan.skipped;
  summary.warnings = std::move(scan.warnings);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  summary.threads = threads;
  summary.json_kernel = std::move(scan.json_kernel);
  return summary;
}

}  // namespace ipinsights
