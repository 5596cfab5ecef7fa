// Human progress on long work, on stderr.
//
// On a terminal it redraws one bar line at most 10 times a second, with the time left once
// it can be estimated; otherwise it prints a plain line every 10 seconds; with quiet it
// prints nothing. Log lines printed meanwhile go through PrintLine, which keeps them apart
// from the bar. Done() prints the last state
// and ends the line. Add() is cheap (one relaxed atomic add) and may be called from any
// thread; drawing happens on a background thread.
//
//   Progress progress("prepare", total_bytes, Progress::Unit::kBytes, quiet);
//   progress.Add(file_size);   // from worker threads
//   progress.Done();
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace ipinsights {

class Progress {
 public:
  enum class Unit { kCount, kBytes };

  // total == 0 means unknown (no percentage shown).
  Progress(std::string label, uint64_t total, Unit unit, bool quiet);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Add(uint64_t amount) { done_.fetch_add(amount, std::memory_order_relaxed); }
  void SetTotal(uint64_t total) { total_.store(total, std::memory_order_relaxed); }
  // A short free-form status shown after the numbers (e.g. "loss 0.123").
  void SetStatus(const std::string& status);
  // Stops drawing and prints the final line (unless quiet). Idempotent.
  void Done();

  // True when stderr is a terminal.
  static bool StderrIsTerminal();

  // Prints `line` and a newline on stderr without mixing it into a live bar: on a terminal
  // the bar's line is cleared first and redrawn under the text at its next tick. Every log
  // line printed while a Progress may be drawing goes through here. Thread-safe.
  static void PrintLine(const std::string& line);

 private:
  void Run();
  void Draw(bool final_line);

  const std::string label_;
  const Unit unit_;
  const bool quiet_;
  const bool terminal_;
  const std::chrono::steady_clock::time_point start_;
  std::atomic<uint64_t> total_;
  std::atomic<uint64_t> done_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::string status_;
  bool stopping_ = false;
  bool finished_ = false;
  std::thread thread_;
};

// "1.2 GB", "340 MB", "12 KB", "17 B" (decimal units).
std::string FormatBytes(uint64_t bytes);
// "1.23M", "45.6k", "789".
std::string FormatCount(uint64_t count);

}  // namespace ipinsights
