#include "ipinsights/eval/pair_scoring.h"

#include <fmt/format.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/base/parallel.h"
#include "ipinsights/dataset/csv_chunk_reader.h"
#include "ipinsights/dataset/pair_csv.h"

namespace ipinsights {
namespace {

// One chunk on its way through the pipeline: free -> filled (reader) -> done (worker) ->
// written and free again (writer). Only the thread that owns the current state touches it.
struct Slot {
  enum class State { kFree, kFilled, kDone };
  State state = State::kFree;
  uint64_t sequence = 0;
  std::string input;
  size_t records_end = 0;
  ParsedPairs parsed;
  std::vector<float> scores;
  std::string output;
  uint64_t anomalous = 0;
  uint64_t written = 0;
  uint64_t input_bytes = 0;
};

void ProcessChunk(Slot* slot, const BatchScorer& scorer, const ScorePairsOptions& options) {
  slot->input_bytes = slot->records_end;
  ParsePairChunk(std::move(slot->input), slot->records_end, slot->sequence == 0, &slot->parsed);
  slot->input = std::string();
  const ParsedPairs& parsed = slot->parsed;
  const size_t n = parsed.entities.size();
  slot->scores.resize(n);
  if (n > 0) scorer(parsed.entities.data(), parsed.ips.data(), n, slot->scores.data());
  std::string& out = slot->output;
  out.clear();
  out.reserve(n * 80);
  slot->anomalous = 0;
  slot->written = 0;
  char ip_text[IpAddress::kMaxTextLength];
  for (size_t i = 0; i < n; ++i) {
    const float score = slot->scores[i];
    const bool anomalous = score < options.threshold;
    slot->anomalous += anomalous;
    if (options.only_anomalies && !anomalous) continue;
    out.append("{\"entity\":");
    AppendJsonString(&out, parsed.entities[i]);
    out.append(",\"ip\":\"");
    out.append(ip_text, parsed.ips[i].Format(ip_text));
    out.append("\",\"score\":");
    AppendJsonNumber(&out, score);
    if (options.calibration != nullptr) {
      out.append(",\"false_positive_rate_at_score\":");
      AppendJsonNumber(&out, options.calibration->FalsePositiveRateAt(score));
    }
    out.append(anomalous ? ",\"anomalous\":true}\n" : ",\"anomalous\":false}\n");
    ++slot->written;
  }
}

}  // namespace

ScorePairsSummary ScorePairs(std::unique_ptr<SequentialReader> input, const std::string& location,
                             WritableFile* output, const BatchScorer& scorer,
                             const ScorePairsOptions& options, BadRecordReporter* reporter,
                             Progress* progress) {
  const size_t threads = options.threads == 0 ? HardwareThreads() : options.threads;
  const size_t slot_count = 2 * threads + 2;
  std::vector<Slot> slots(slot_count);
  CsvChunkReader reader(std::move(input), options.chunk_bytes);

  std::mutex mutex;
  std::condition_variable changed;
  std::deque<uint64_t> ready;  // sequences of filled slots, oldest first
  uint64_t chunks_read = 0;
  bool input_done = false;
  bool failed = false;
  std::exception_ptr first_error;
  auto fail = [&](std::exception_ptr error) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!first_error) first_error = error;
    failed = true;
    changed.notify_all();
  };

  std::thread reader_thread([&] {
    try {
      std::string chunk;
      size_t records_end = 0;
      uint64_t sequence = 0;
      while (reader.Next(&chunk, &records_end)) {
        Slot* slot;
        {
          std::unique_lock<std::mutex> lock(mutex);
          changed.wait(lock, [&] {
            return failed || slots[sequence % slot_count].state == Slot::State::kFree;
          });
          if (failed) return;
          slot = &slots[sequence % slot_count];
        }
        slot->input.swap(chunk);
        slot->records_end = records_end;
        slot->sequence = sequence;
        {
          std::lock_guard<std::mutex> lock(mutex);
          slot->state = Slot::State::kFilled;
          ready.push_back(sequence);
          chunks_read = ++sequence;
        }
        changed.notify_all();
      }
      std::lock_guard<std::mutex> lock(mutex);
      input_done = true;
      changed.notify_all();
    } catch (...) {
      fail(std::current_exception());
    }
  });

  auto worker = [&] {
    for (;;) {
      Slot* slot;
      {
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [&] { return failed || !ready.empty() || input_done; });
        if (failed || ready.empty()) return;
        slot = &slots[ready.front() % slot_count];
        ready.pop_front();
      }
      try {
        ProcessChunk(slot, scorer, options);
      } catch (...) {
        fail(std::current_exception());
        return;
      }
      {
        std::lock_guard<std::mutex> lock(mutex);
        slot->state = Slot::State::kDone;
      }
      changed.notify_all();
    }
  };
  std::vector<std::thread> workers;
  try {
    for (size_t w = 0; w < threads; ++w) workers.emplace_back(worker);
  } catch (const std::system_error& e) {
    // Destroying a joinable std::thread terminates the process: stop and join what started.
    fail(std::current_exception());
    for (auto& thread : workers) thread.join();
    reader_thread.join();
    throw Error(fmt::format("cannot start {} scoring threads: {}", threads, e.what()));
  }

  // This thread writes chunks in order.
  ScorePairsSummary summary;
  uint64_t line_base = 1;
  for (uint64_t next = 0;; ++next) {
    Slot* slot;
    {
      std::unique_lock<std::mutex> lock(mutex);
      changed.wait(lock, [&] {
        const Slot& s = slots[next % slot_count];
        return failed || (input_done && next == chunks_read) ||
               (s.state == Slot::State::kDone && s.sequence == next);
      });
      if (failed) break;
      const Slot& s = slots[next % slot_count];
      if (!(s.state == Slot::State::kDone && s.sequence == next)) break;  // input done
      slot = &slots[next % slot_count];
    }
    try {
      output->Append(slot->output);
      if (reporter != nullptr) {
        for (BadRecord& bad : slot->parsed.bad_records) {
          bad.location = location;
          bad.value += line_base;
          reporter->Report(bad);
        }
      }
    } catch (...) {
      fail(std::current_exception());
      break;
    }
    line_base += slot->parsed.lines;
    summary.lines += slot->parsed.lines;
    summary.scored += slot->parsed.entities.size();
    summary.bad_rows += slot->parsed.bad_records.size();
    summary.anomalous += slot->anomalous;
    summary.written += slot->written;
    if (progress != nullptr) progress->Add(slot->input_bytes);
    {
      std::lock_guard<std::mutex> lock(mutex);
      slot->state = Slot::State::kFree;
    }
    changed.notify_all();
  }
  reader_thread.join();
  for (auto& t : workers) t.join();
  if (first_error) std::rethrow_exception(first_error);
  summary.bytes_read = reader.bytes_read();
  return summary;
}

}  // namespace ipinsights
