#include "ipinsights/logs/log_scan.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/parallel.h"

namespace ipinsights {
namespace {

// One object's bad records, held until the object's turn in listing order.
class HeldBadRecords : public BadRecordReporter {
 public:
  void Report(const BadRecord& record) override {
    if (records_.size() < kBadRecordsPerObject) records_.push_back(record);
  }
  std::vector<BadRecord>& records() { return records_; }
  void Clear() { records_.clear(); }

 private:
  std::vector<BadRecord> records_;
};

// Thrown inside a worker when another one failed: unwinds the reader, is never reported.
struct ScanStopped {};

struct Pending {
  bool ready = false;
  std::unique_ptr<FileOutput> output;
  FileReport report;
  std::vector<BadRecord> bad_records;
};

class OrderedWriter {
 public:
  OrderedWriter(size_t n, size_t window, const ScanOptions& options,
                const std::function<std::unique_ptr<FileOutput>()>& new_output,
                ScanSummary* summary)
      : n_(n),
        window_(window),
        options_(options),
        new_output_(new_output),
        summary_(summary),
        ring_(window) {}

  // Blocks until object `index` may start (it is inside the window); returns its output.
  std::unique_ptr<FileOutput> Start(size_t index) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return failed_ || index < next_write_ + window_; });
    if (failed_) return nullptr;
    if (!free_outputs_.empty()) {
      std::unique_ptr<FileOutput> output = std::move(free_outputs_.back());
      free_outputs_.pop_back();
      return output;
    }
    return new_output_();
  }

  // Object `index` is still being read but its buffer is full: wait until every earlier
  // object is written, then write what it has so far.
  void WriteEarly(size_t index, FileOutput& output) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return failed_ || next_write_ == index; });
    if (failed_) throw ScanStopped();
    output.WriteOut();
  }

  // Object `index` is read: writes it out (with every earlier object) when its turn has
  // come. Throws what options.bad_records throws.
  void Finish(size_t index, std::unique_ptr<FileOutput> output, FileReport report,
              std::vector<BadRecord> bad_records) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (failed_) throw ScanStopped();
    Pending& slot = ring_[index % window_];
    slot.ready = true;
    slot.output = std::move(output);
    slot.report = std::move(report);
    slot.bad_records = std::move(bad_records);
    while (next_write_ < n_ && ring_[next_write_ % window_].ready) {
      Pending& head = ring_[next_write_ % window_];
      if (options_.bad_records) {
        for (const BadRecord& record : head.bad_records) options_.bad_records->Report(record);
      }
      head.output->WriteOut();
      Merge(head.report);
      free_outputs_.push_back(std::move(head.output));
      head.ready = false;
      head.report = FileReport();
      head.bad_records.clear();
      ++next_write_;
    }
    changed_.notify_all();
  }

  // Stops the scan; the first error given is the one ScanLogs throws.
  void Fail(std::exception_ptr error) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) error_ = error;
    failed_ = true;
    changed_.notify_all();
  }

  std::exception_ptr error() {
    std::lock_guard<std::mutex> lock(mutex_);
    return error_;
  }

 private:
  void Merge(const FileReport& report) {
    ++summary_->files;
    if (report.digest) ++summary_->digest_files;
    summary_->stored_bytes += report.stored_bytes;
    summary_->json_bytes += report.json_bytes;
    summary_->records += report.records;
    summary_->pairs += report.pairs;
    summary_->skipped.Merge(report.skipped);
    for (const std::string& warning : report.warnings) {
      if (summary_->warnings.size() < options_.max_warnings) summary_->warnings.push_back(warning);
    }
  }

  const size_t n_;
  const size_t window_;
  const ScanOptions& options_;
  const std::function<std::unique_ptr<FileOutput>()>& new_output_;
  ScanSummary* summary_;
  std::mutex mutex_;
  std::condition_variable changed_;
  size_t next_write_ = 0;
  bool failed_ = false;
  std::exception_ptr error_;
  std::vector<Pending> ring_;
  std::vector<std::unique_ptr<FileOutput>> free_outputs_;
};

// Forwards events, and writes out early when an object's output grows too big.
class FlushingSink : public EventSink {
 public:
  FlushingSink(FileOutput& output, size_t index, size_t flush_bytes, OrderedWriter& writer)
      : output_(output), index_(index), flush_bytes_(flush_bytes), writer_(writer) {}
  void Add(const LogEvent& event) override {
    output_.Add(event);
    if ((++count_ & 1023) == 0 && output_.BufferedBytes() > flush_bytes_) {
      writer_.WriteEarly(index_, output_);
      wrote_early_ = true;
    }
  }
  bool wrote_early() const { return wrote_early_; }

 private:
  FileOutput& output_;
  size_t index_;
  size_t flush_bytes_;
  OrderedWriter& writer_;
  uint64_t count_ = 0;
  bool wrote_early_ = false;
};

// An object whose gzip check failed: its pairs came from bytes that did not verify (a
// CRC32 is checked only at the end of a member), so they are not written.
void DropCorruptPairs(const std::string& location, bool wrote_early, FileOutput& output,
                      FileReport* report, std::vector<BadRecord>* bad_records) {
  auto it = std::find_if(bad_records->rbegin(), bad_records->rend(), [&](const BadRecord& r) {
    return r.position == BadRecord::Position::kNone && r.reason.rfind("corrupt gzip", 0) == 0;
  });
  const std::string problem =
      it != bad_records->rend() ? FormatBadRecord(*it) : location + ": corrupt gzip data";
  if (wrote_early) {
    throw Error(problem +
                "; pairs decoded from it were already written out, so nothing is "
                "written (remove the file, or pass --keep-corrupt to keep its pairs)");
  }
  output.Discard();
  report->skipped.Add(SkipReason::kMalformed, report->pairs);
  if (it != bad_records->rend()) {
    it->reason +=
        "; its " + std::to_string(report->pairs) + " rows dropped (--keep-corrupt keeps them)";
  }
  report->pairs = 0;
}

}  // namespace

ScanSummary ScanLogs(const std::vector<ObjectInfo>& objects, Storage* storage,
                     const LogReaderOptions& reader_options, const ScanOptions& options,
                     const std::function<std::unique_ptr<FileOutput>()>& new_output) {
  ScanSummary summary;
  size_t threads = options.threads ? options.threads : HardwareThreads();
  threads = std::max<size_t>(1, std::min(threads, std::max<size_t>(objects.size(), 1)));
  std::vector<std::unique_ptr<LogFileReader>> readers;
  for (size_t i = 0; i < threads; ++i) {
    readers.push_back(std::make_unique<LogFileReader>(reader_options));
  }
  summary.json_kernel = readers[0]->json_kernel();
  OrderedWriter writer(objects.size(), 2 * threads, options, new_output, &summary);
  std::vector<HeldBadRecords> held(threads);
  ParallelFor(objects.size(), threads, [&](size_t index, size_t worker) {
    try {
      std::unique_ptr<FileOutput> output = writer.Start(index);
      if (!output) return;  // another object failed
      FlushingSink sink(*output, index, options.flush_bytes, writer);
      held[worker].Clear();
      FileReport report =
          readers[worker]->Read(storage ? *storage : OpenStorage(objects[index].location),
                                objects[index], sink, &held[worker], options.progress);
      std::vector<BadRecord> bad_records = std::move(held[worker].records());
      if (report.corrupt_gzip && !options.keep_corrupt) {
        DropCorruptPairs(objects[index].location, sink.wrote_early(), *output, &report,
                         &bad_records);
      }
      writer.Finish(index, std::move(output), std::move(report), std::move(bad_records));
    } catch (const ScanStopped&) {
      // Another object failed first; its error is the one thrown below.
    } catch (...) {
      writer.Fail(std::current_exception());
    }
  });
  if (std::exception_ptr error = writer.error()) std::rethrow_exception(error);
  return summary;
}

LogReaderOptions ScanReaderOptions(LogKind kind, const std::optional<EntitySpec>& entity,
                                   const DayRange& days, bool ipv4_only,
                                   uint64_t max_decompressed_bytes, size_t threads) {
  LogReaderOptions reader;
  reader.kind = kind;
  reader.entity = entity ? *entity : DefaultEntitySpec(kind);
  reader.ipv4_only = ipv4_only;
  if (days.from) reader.from_seconds = DaysFromCivil(*days.from) * 86400;
  if (days.to) reader.to_seconds = (DaysFromCivil(*days.to) + 1) * 86400;
  reader.max_decompressed_bytes = max_decompressed_bytes;
  // Whole objects up to this size (decompressed) are held in memory, per worker; bigger
  // ones are streamed. With the parser's index (up to about the same again) and the output
  // window this keeps peak memory under 512 MB at any thread count and corpus size.
  reader.memory_budget = std::clamp<size_t>((size_t{128} << 20) / std::max<size_t>(threads, 1),
                                            size_t{16} << 20, size_t{64} << 20);
  return reader;
}

}  // namespace ipinsights
