#include "ipinsights/dataset/prepare_job.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string_view>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/parallel.h"
#include "ipinsights/dataset/pair_csv_writer.h"
#include "ipinsights/logs/log_scan.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

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
  if (!options.split.enabled() && !options.validation_output.empty()) {
    throw UsageError("--validation-output needs --validation-fraction F or --split-at DATE");
  }
  if (!options.validation_output.empty() &&
      (options.validation_output == options.output ||
       SameObject(options.validation_output, options.output))) {
    throw UsageError("--validation-output must differ from --output");
  }
}

LogReaderOptions ReaderOptions(const PrepareOptions& options, size_t threads) {
  LogReaderOptions reader;
  reader.kind = options.kind;
  reader.entity = options.entity ? *options.entity : DefaultEntitySpec(options.kind);
  reader.ipv4_only = options.ipv4_only;
  if (options.days.from) reader.from_seconds = DaysFromCivil(*options.days.from) * 86400;
  if (options.days.to) reader.to_seconds = (DaysFromCivil(*options.days.to) + 1) * 86400;
  reader.want_event_time = options.split.needs_event_time();
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
  const size_t threads = options.threads ? options.threads : HardwareThreads();
  const LogReaderOptions reader_options = ReaderOptions(options, threads);

  std::vector<ObjectInfo> objects;
  uint64_t total_stored = 0;
  for (const std::string& input : options.inputs) {
    std::vector<ObjectInfo> listed = ListLogObjects(OpenStorage(input), input, options.days);
    ExcludeOutputs("--input", input, {options.output, options.validation_output}, &listed);
    for (ObjectInfo& object : listed) {
      total_stored += object.size;
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
                                    options.split, train_out.get(), validation_out.get(), &totals);
                              });
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
  summary.skipped = scan.skipped;
  summary.warnings = std::move(scan.warnings);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  summary.threads = threads;
  summary.json_kernel = std::move(scan.json_kernel);
  return summary;
}

}  // namespace ipinsights
