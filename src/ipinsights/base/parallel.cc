#include "ipinsights/base/parallel.h"

#include <fmt/format.h>

#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "ipinsights/base/error.h"

namespace ipinsights {

size_t HardwareThreads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

void ParallelFor(size_t n, size_t threads, const std::function<void(size_t, size_t)>& task) {
  if (threads == 0) threads = HardwareThreads();
  if (threads > n) threads = n;
  if (n == 0) return;
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) task(i, 0);
    return;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto worker = [&](size_t worker_index) {
    for (;;) {
      if (failed.load(std::memory_order_relaxed)) return;
      size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= n) return;
      try {
        task(i, worker_index);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        failed.store(true);
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  try {
    for (size_t w = 1; w < threads; ++w) pool.emplace_back(worker, w);
  } catch (const std::system_error& e) {
    // Destroying a joinable std::thread terminates the process: stop and join what started.
    failed.store(true);
    for (auto& t : pool) t.join();
    throw Error(fmt::format("cannot start {} threads: {}", threads, e.what()));
  }
  worker(0);
  for (auto& t : pool) t.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace ipinsights
