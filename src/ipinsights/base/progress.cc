#include "ipinsights/base/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace ipinsights {

std::string FormatBytes(uint64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1000.0 && unit < 4) {
    value /= 1000.0;
    ++unit;
  }
  if (unit == 0) return fmt::format("{} B", bytes);
  return fmt::format("{:.{}f} {}", value, value < 10 ? 2 : (value < 100 ? 1 : 0), units[unit]);
}

std::string FormatCount(uint64_t count) {
  if (count < 1000) return fmt::format("{}", count);
  if (count < 1000000) return fmt::format("{:.1f}k", count / 1e3);
  if (count < 1000000000) return fmt::format("{:.2f}M", count / 1e6);
  return fmt::format("{:.2f}G", count / 1e9);
}

namespace {

// One lock for everything written to stderr by bars and log lines, and whether the cursor
// stands at the end of a drawn bar (so a log line must clear it first).
std::mutex& StderrMutex() {
  static std::mutex mutex;
  return mutex;
}
bool bar_on_screen = false;  // guarded by StderrMutex()

// "1m05s", "42s": the time left, rounded to what a person plans with.
std::string FormatDuration(double seconds) {
  const int64_t whole = static_cast<int64_t>(seconds + 0.5);
  if (whole >= 3600) return fmt::format("{}h{:02d}m", whole / 3600, (whole % 3600) / 60);
  if (whole >= 60) return fmt::format("{}m{:02d}s", whole / 60, whole % 60);
  return fmt::format("{}s", whole);
}

}  // namespace

bool Progress::StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

void Progress::PrintLine(const std::string& line) {
  std::lock_guard<std::mutex> lock(StderrMutex());
  std::fprintf(stderr, "%s%s\n", bar_on_screen ? "\r\033[K" : "", line.c_str());
  bar_on_screen = false;
  std::fflush(stderr);
}

Progress::Progress(std::string label, uint64_t total, Unit unit, bool quiet)
    : label_(std::move(label)),
      unit_(unit),
      quiet_(quiet),
      terminal_(StderrIsTerminal()),
      start_(std::chrono::steady_clock::now()),
      total_(total) {
  if (!quiet_) thread_ = std::thread([this] { Run(); });
}

Progress::~Progress() { Done(); }

void Progress::SetStatus(const std::string& status) {
  std::lock_guard<std::mutex> lock(mutex_);
  status_ = status;
}

void Progress::Done() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_) return;
    finished_ = true;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!quiet_ && terminal_) Draw(true);
}

void Progress::Run() {
  // A terminal gets a live bar; a log file gets a line every 10 s.
  const auto period = terminal_ ? std::chrono::milliseconds(100) : std::chrono::seconds(10);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (wake_.wait_for(lock, period, [this] { return stopping_; })) break;
    lock.unlock();
    Draw(false);
    lock.lock();
  }
}

void Progress::Draw(bool final_line) {
  const uint64_t done = done_.load(std::memory_order_relaxed);
  const uint64_t total = total_.load(std::memory_order_relaxed);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? done / seconds : 0;
  auto amount = [&](uint64_t v) { return unit_ == Unit::kBytes ? FormatBytes(v) : FormatCount(v); };
  std::string status;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    status = status_;
  }
  std::string line;
  if (total > 0) {
    const double fraction = std::min(1.0, static_cast<double>(done) / total);
    const int width = 24;
    const int filled = static_cast<int>(fraction * width);
    std::string bar(filled, '#');
    bar.append(width - filled, '.');
    line = fmt::format("{} [{}] {:5.1f}% {}/{} {}/s {:.0f}s", label_, bar, fraction * 100,
                       amount(done), amount(total), amount(static_cast<uint64_t>(rate)), seconds);
    // The time left, once a second of work gives a rate worth extrapolating.
    if (!final_line && seconds >= 1 && done > 0 && done < total) {
      line += ", " + FormatDuration((total - done) / rate) + " left";
    }
  } else {
    line = fmt::format("{} {} {}/s {:.0f}s", label_, amount(done),
                       amount(static_cast<uint64_t>(rate)), seconds);
  }
  if (!status.empty()) line += " " + status;
  std::lock_guard<std::mutex> lock(StderrMutex());
  if (terminal_) {
    std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), final_line ? "\n" : "");
    bar_on_screen = !final_line;
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace ipinsights
