#include "ipinsights/logs/log_scan.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "ipinsights/base/error.h"
#include "ipinsights/base/parallel.h"

namespace ipinsights {
namespace {

struct Pending {
  bool ready = false;
  std::unique_ptr<FileOutput> output;
  FileReport report;
};

class OrderedWriter {
 public:
  OrderedWriter(size_t n, size_t window, const ScanOptions& options,
                const std::function<std::unique_ptr<FileOutput>()>& new_output,
                ScanSummary* summary)
      : n_(n), window_(window), options_(options), new_output_(new_output), summary_(summary),
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
    if (failed_) throw Error("scan stopped");
    output.WriteOut();
  }

  void Finish(size_t index, std::unique_ptr<FileOutput> output, FileReport report) {
    std::unique_lock<std::mutex> lock(mutex_);
    Pending& slot = ring_[index % window_];
    slot.ready = true;
    slot.output = std::move(output);
    slot.report = std::move(report);
    while (next_write_ < n_ && ring_[next_write_ % window_].ready) {
      Pending& head = ring_[next_write_ % window_];
      head.output->WriteOut();
      Merge(head.report);
      free_outputs_.push_back(std::move(head.output));
      head.ready = false;
      head.report = FileReport();
      ++next_write_;
    }
    changed_.notify_all();
  }

  void Fail() {
    std::lock_guard<std::mutex> lock(mutex_);
    failed_ = true;
    changed_.notify_all();
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
    summary_->problem_count += report.problems.size();
    for (const std::string& problem : report.problems) {
      if (summary_->problems.size() < options_.max_problems) summary_->problems.push_back(problem);
    }
    for (const std::string& warning : report.warnings) {
      if (summary_->warnings.size() < options_.max_problems) summary_->warnings.push_back(warning);
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
                      FileReport* report) {
  auto it = std::find_if(report->problems.rbegin(), report->problems.rend(),
                         [&](const std::string& p) { return p.rfind(location + ": corrupt gzip", 0) == 0; });
  const std::string problem = it != report->problems.rend() ? *it : location + ": corrupt gzip data";
  if (wrote_early) {
    throw Error(problem + "; pairs decoded from it were already written out, so nothing is "
                "written (remove the file, or pass --keep-corrupt to keep its pairs)");
  }
  output.Discard();
  report->skipped.Add(SkipReason::kMalformed, report->pairs);
  if (it != report->problems.rend()) {
    *it += "; its " + std::to_string(report->pairs) + " rows dropped (--keep-corrupt keeps them)";
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
  ParallelFor(objects.size(), threads, [&](size_t index, size_t worker) {
    try {
      std::unique_ptr<FileOutput> output = writer.Start(index);
      if (!output) return;  // another object failed
      FlushingSink sink(*output, index, options.flush_bytes, writer);
      FileReport report = readers[worker]->Read(
          storage ? *storage : OpenStorage(objects[index].location), objects[index], sink, options.progress);
      if (options.strict && !report.problems.empty()) {
        throw Error(report.problems.front() + " (--strict)");
      }
      if (report.corrupt_gzip && !options.keep_corrupt) {
        DropCorruptPairs(objects[index].location, sink.wrote_early(), *output, &report);
      }
      writer.Finish(index, std::move(output), std::move(report));
    } catch (...) {
      writer.Fail();
      throw;
    }
  });
  return summary;
}

}  // namespace ipinsights
