#include "ipinsights/dataset/prepare_job.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/distinct_hashes.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/hash.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/base/parallel.h"
#include "ipinsights/dataset/pair_csv_writer.h"
#include "ipinsights/history/entity_history.h"
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

// The history builders of a job: one per worker thread, so that each stays in its core's
// cache and the job merges as few as there are threads.
class HistoryBuilders {
 public:
  // The calling thread's builder (a lookup under a lock: once per object, not per row).
  HistoryBuilder& ForThisThread() {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::thread::id self = std::this_thread::get_id();
    for (auto& [id, builder] : by_thread_) {
      if (id == self) return *builder;
    }
    HistoryBuilder* builder = &builders_.emplace_back();
    by_thread_.emplace_back(self, builder);
    return *builder;
  }
  // Every builder merged into one (after the scan).
  HistoryBuilder Merged() {
    HistoryBuilder merged;
    for (HistoryBuilder& builder : builders_) merged.Merge(std::move(builder));
    builders_.clear();
    by_thread_.clear();
    return merged;
  }

 private:
  std::mutex mutex_;
  std::deque<HistoryBuilder> builders_;  // pointers stay valid as it grows
  std::vector<std::pair<std::thread::id, HistoryBuilder*>> by_thread_;
};

// One output's training rows on their way to the history. The rows of the object being read
// wait in `pending` until they are written out: an object whose gzip check fails is
// discarded, and its rows must not count. They go into a builder on the worker that reads
// the output's next object (or in the job after the scan), never in the writer's serialised
// WriteOut. Measured on simulated CloudTrail (one thread, callgrind): the history adds 6.4%
// to prepare's instructions (391M against 367M for 7.5 MB of JSON), event times included.
struct HistoryPart {
  struct Event {
    size_t name_offset;  // in `names`
    uint32_t name_length;
    int32_t day;
    IpAddress ip;
  };
  HistoryBuilders* builders = nullptr;
  std::vector<Event> pending;
  std::string names;
  bool written = false;  // every pending row has been written out

  void Add(std::string_view entity, const IpAddress& ip, int32_t day) {
    if (written) Commit();
    pending.push_back({names.size(), static_cast<uint32_t>(entity.size()), day, ip});
    names.append(entity);
  }
  void Commit() {
    if (!pending.empty()) {
      HistoryBuilder& builder = builders->ForThisThread();
      for (const Event& event : pending) {
        builder.Add(std::string_view(names.data() + event.name_offset, event.name_length), event.ip,
                    event.day);
      }
    }
    Drop();
  }
  void Drop() {
    pending.clear();
    names.clear();
    written = false;
  }
};

// One object's rows, buffered until its turn to be written.
class PairRowsOutput : public FileOutput {
 public:
  PairRowsOutput(const Split& split, WritableFile* train, WritableFile* validation,
                 OutputTotals* totals, HistoryPart* history)
      : split_(split), train_(train), validation_(validation), totals_(totals), history_(history) {}

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
    if (history_ != nullptr) {
      history_->Add(event.entity, event.ip,
                    event.has_time ? DayOfUnixSeconds(event.time) : kUnknownDay);
    }
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
    if (history_ != nullptr) history_->written = true;
  }

  void Discard() override {
    if (history_ != nullptr) {
      // Rows of an earlier object were written out; this object's are dropped.
      if (history_->written) history_->Commit();
      history_->Drop();
    }
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
  HistoryPart* history_;  // nullptr: no history
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
  if (options.shard) {
    if (options.shard->count == 0 || options.shard->index >= options.shard->count) {
      throw UsageError(fmt::format("prepare: shard {}/{}: the index must be below the count",
                                   options.shard->index, options.shard->count));
    }
    if (options.output == "-" || options.validation_output == "-") {
      throw UsageError(
          "--shard: --output (and --validation-output) must be a folder or s3:// prefix that "
          "receives part-I-of-N, not - (stdout)");
    }
  }
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
  LogReaderOptions reader =
      ScanReaderOptions(options.kind, options.entity, options.days, options.ipv4_only,
                        options.max_decompressed_bytes, threads);
  // The history keeps each entity's first and last day.
  reader.want_event_time = EffectiveSplit(options).needs_event_time() || options.write_history;
  return reader;
}

// Forwards bad records to the caller's reporter and keeps the first messages for the
// summary (a shard's summary file carries them as `prepare --json` prints them).
class KeptBadRecords : public BadRecordReporter {
 public:
  explicit KeptBadRecords(BadRecordReporter* next) : next_(next) {}
  void Report(const BadRecord& record) override {
    if (next_ != nullptr) next_->Report(record);
    kept_.Report(record);
  }
  const BadRecordLog& kept() const { return kept_; }

 private:
  BadRecordReporter* next_;
  BadRecordLog kept_;
};

// The folder a location is in ("s3://b/out/part-0-of-2" -> "s3://b/out").
std::string_view ParentOf(std::string_view location) {
  const size_t slash = location.rfind('/');
  return slash == std::string_view::npos ? std::string_view(".") : location.substr(0, slash);
}

std::string WithoutTrailingSlash(std::string location) {
  while (location.size() > 1 && location.back() == '/') location.pop_back();
  return location;
}

// Drops from a listing the part files and summaries of sharded runs that lie in the output
// folders (an input folder that holds them would otherwise read the other shards' parts,
// finished or not, as logs).
void ExcludeShardOutputs(const std::vector<std::string>& destinations,
                         std::vector<ObjectInfo>* objects) {
  auto is_part = [&](const ObjectInfo& object) {
    std::string_view name = object.location;
    if (const size_t slash = name.rfind('/'); slash != std::string_view::npos) {
      name.remove_prefix(slash + 1);
    }
    for (std::string_view suffix : {kShardSummarySuffix, std::string_view(".history")}) {
      if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
        name.remove_suffix(suffix.size());
      }
    }
    if (!ParsePartName(name)) return false;
    const std::string folder(ParentOf(object.location));
    for (const std::string& destination : destinations) {
      if (destination.empty()) continue;
      const std::string dest = WithoutTrailingSlash(destination);
      if (folder == dest || SameObject(folder, dest)) return true;
    }
    return false;
  };
  objects->erase(std::remove_if(objects->begin(), objects->end(), is_part), objects->end());
}

// ExcludeOutputs for the history output, asked only of objects with its suffix: SameObject
// resolves paths on the file system, which costs more than reading a small log object.
void ExcludeHistoryOutput(const std::string& input, const std::string& history_output,
                          std::vector<ObjectInfo>* objects) {
  if (history_output.empty()) return;
  constexpr std::string_view kSuffix = ".history";
  auto is_history = [&](const ObjectInfo& object) {
    const std::string_view name = object.location;
    if (name.size() < kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) {
      return false;
    }
    std::vector<ObjectInfo> one{object};
    ExcludeOutputs("--input", input, {history_output}, &one);
    return one.empty();
  };
  objects->erase(std::remove_if(objects->begin(), objects->end(), is_history), objects->end());
}

// `["a", "b"]`, at most 100 of them.
std::string JsonStrings(const std::vector<std::string>& texts) {
  std::string out = "[";
  for (size_t i = 0; i < texts.size() && i < 100; ++i) {
    if (i) out += ", ";
    AppendJsonString(&out, texts[i]);
  }
  return out + "]";
}

}  // namespace

std::string PrepareSummaryJson(const PrepareSummary& summary) {
  std::string out = fmt::format(
      "{{\"files\": {}, \"digest_files\": {}, \"bytes_read\": {}, \"compressed_bytes\": {}, "
      "\"records\": {}, \"pairs_written\": {}",
      summary.files, summary.digest_files, summary.json_bytes, summary.stored_bytes,
      summary.records, summary.pairs_written);
  if (!summary.validation_location.empty()) {
    out += fmt::format(", \"validation_pairs_written\": {}", summary.validation_pairs_written);
  }
  out += fmt::format(", \"entities\": {}", summary.entities);
  out += ", \"skipped\": {";
  for (size_t i = 0; i < kNumSkipReasons; ++i) {
    const SkipReason reason = static_cast<SkipReason>(i);
    out +=
        fmt::format("{}\"{}\": {}", i ? ", " : "", SkipReasonName(reason), summary.skipped[reason]);
  }
  out += "}, \"problems\": " + JsonStrings(summary.problems);
  out += ", \"warnings\": " + JsonStrings(summary.warnings);
  if (!summary.history_location.empty()) {
    out += ", \"history\": {\"location\": ";
    AppendJsonString(&out, summary.history_location);
    out += fmt::format(", \"entities\": {}, \"bytes\": {}}}", summary.history_entities,
                       summary.history_bytes);
  }
  if (summary.shard) {
    out += fmt::format(", \"shard\": {{\"index\": {}, \"count\": {}}}", summary.shard->index,
                       summary.shard->count);
  }
  const double mb_per_second = summary.seconds > 0 ? summary.json_bytes / 1e6 / summary.seconds : 0;
  out += fmt::format(
      ", \"seconds\": {:.3f}, \"json_mb_per_second\": {:.1f}, \"threads\": {}, "
      "\"json_kernel\": \"{}\"}}\n",
      summary.seconds, mb_per_second, summary.threads, summary.json_kernel);
  return out;
}

PrepareSummary RunPrepareJob(const PrepareOptions& options) {
  CheckOptions(options);
  const Split split = EffectiveSplit(options);
  const size_t threads = options.threads ? options.threads : HardwareThreads();
  const LogReaderOptions reader_options = ReaderOptions(options, threads);
  // With a shard, the outputs are part files under the folders given.
  std::string output = options.output;
  std::string validation_output = options.validation_output;
  if (options.shard) {
    output = ShardPartLocation(options.output, *options.shard);
    if (!validation_output.empty()) {
      validation_output = ShardPartLocation(options.validation_output, *options.shard);
    }
  }
  // One shard of several may find nothing (or one side of the split empty): that is for the
  // whole run to judge, not a shard.
  const bool judge_emptiness =
      !options.allow_empty && (!options.shard || options.shard->count == 1);

  // The history goes beside the training output (none for stdout).
  const std::string history_output =
      options.write_history && output != "-" ? HistoryLocationFor(output) : "";

  std::vector<ObjectInfo> objects;
  for (const std::string& input : options.inputs) {
    std::vector<ObjectInfo> listed = ListLogObjects(OpenStorage(input), input, options.days);
    ExcludeOutputs("--input", input, {output, validation_output}, &listed);
    ExcludeHistoryOutput(input, history_output, &listed);
    if (options.shard) {
      ExcludeShardOutputs({options.output, options.validation_output}, &listed);
    }
    for (ObjectInfo& object : listed) objects.push_back(std::move(object));
  }
  if (options.shard) {
    const ShardBounds range = ShardRange(objects, *options.shard);
    objects.erase(objects.begin() + static_cast<ptrdiff_t>(range.end), objects.end());
    objects.erase(objects.begin(), objects.begin() + static_cast<ptrdiff_t>(range.begin));
  }
  uint64_t total_stored = 0;
  uint64_t dated_objects = 0;  // objects whose key carries a day (the AWS layouts)
  for (const ObjectInfo& object : objects) {
    total_stored += object.size;
    if (DateInKey(object.location)) ++dated_objects;
  }

  std::unique_ptr<WritableFile> train_out = OpenStorage(output).OpenWritable(output);
  std::unique_ptr<WritableFile> validation_out;
  if (!validation_output.empty()) {
    validation_out = OpenStorage(validation_output).OpenWritable(validation_output);
  }

  const auto start = std::chrono::steady_clock::now();
  if (options.progress) options.progress(0, total_stored);
  KeptBadRecords bad_records(options.bad_records);
  ScanOptions scan_options;
  scan_options.threads = threads;
  scan_options.bad_records = &bad_records;
  scan_options.keep_corrupt = options.keep_corrupt;
  if (options.progress) {
    scan_options.progress = [&](uint64_t bytes) { options.progress(bytes, total_stored); };
  }
  scan_options.flush_bytes = size_t{8} << 20;
  OutputTotals totals;
  std::mutex history_mutex;
  std::deque<HistoryPart> history_parts;  // one per output: pointers stay valid
  HistoryBuilders history_builders;
  ScanSummary scan = ScanLogs(objects, nullptr, reader_options, scan_options,
                              [&]() -> std::unique_ptr<FileOutput> {
                                HistoryPart* history = nullptr;
                                if (!history_output.empty()) {
                                  std::lock_guard<std::mutex> lock(history_mutex);
                                  history = &history_parts.emplace_back();
                                  history->builders = &history_builders;
                                }
                                return std::make_unique<PairRowsOutput>(
                                    split, train_out.get(), validation_out.get(), &totals, history);
                              });
  // Before anything is renamed into place: a refused run leaves earlier outputs untouched.
  if (totals.train_rows + totals.validation_rows == 0 && judge_emptiness) {
    throw Error(NothingWrittenMessage(options, scan, dated_objects));
  }
  if (validation_out && (totals.train_rows == 0 || totals.validation_rows == 0) &&
      judge_emptiness) {
    throw Error(OneSideEmptyMessage(options, totals));
  }
  // Every output is flushed and synced before any is renamed, and the training file goes
  // last: a failure leaves the earlier training file in place. The rows' fsync runs while
  // the history is finished, which takes about as long (it is serial work).
  std::exception_ptr sync_error;
  std::thread sync_rows([&] {
    try {
      train_out->Sync();
      if (validation_out) validation_out->Sync();
    } catch (...) {
      sync_error = std::current_exception();
    }
  });
  std::unique_ptr<WritableFile> history_out;
  uint64_t history_entities = 0;
  uint64_t history_bytes = 0;
  try {
    if (!history_output.empty()) {
      for (HistoryPart& part : history_parts) {
        if (part.written) part.Commit();
      }
      history_parts.clear();
      const EntityHistory finished = history_builders.Merged().Finish();
      history_entities = finished.entities();
      history_out = OpenStorage(history_output).OpenWritable(history_output);
      history_bytes = WriteHistoryFile(finished, history_out.get());
      history_out->Sync();
    }
  } catch (...) {
    sync_rows.join();
    throw;
  }
  sync_rows.join();
  if (sync_error) std::rethrow_exception(sync_error);
  if (validation_out) validation_out->Close();
  if (history_out) history_out->Close();
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
  summary.output_location = output;
  summary.validation_location = validation_output;
  summary.history_location = history_output;
  summary.history_entities = history_entities;
  summary.history_bytes = history_bytes;
  summary.shard = options.shard;
  summary.problem_count = bad_records.kept().count();
  summary.problems = bad_records.kept().messages();
  if (options.shard) {
    // Last: a summary file says its parts are complete.
    summary.summary_location = output + std::string(kShardSummarySuffix);
    WriteWholeObject(summary.summary_location, PrepareSummaryJson(summary));
  }
  return summary;
}

}  // namespace ipinsights
