#include "ipinsights/train/worker_pool.h"

#include <fmt/format.h>

#include <system_error>

#include "ipinsights/base/error.h"
#include "ipinsights/base/parallel.h"

namespace ipinsights {

WorkerPool::WorkerPool(size_t threads) : threads_(threads == 0 ? HardwareThreads() : threads) {
  try {
    for (size_t w = 1; w < threads_; ++w) pool_.emplace_back([this, w] { WorkerLoop(w); });
  } catch (const std::system_error& e) {
    // The destructor does not run for a constructor that throws: stop and join here, since
    // destroying a joinable std::thread terminates the process.
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    start_.notify_all();
    for (auto& thread : pool_) thread.join();
    throw Error(fmt::format("cannot start {} training threads: {}", threads_, e.what()));
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  start_.notify_all();
  for (auto& thread : pool_) thread.join();
}

void WorkerPool::Work(size_t worker) {
  for (;;) {
    const size_t i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i >= n_) return;
    try {
      (*task_)(i, worker);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
      next_.store(n_, std::memory_order_relaxed);  // skip the rest
      return;
    }
  }
}

void WorkerPool::WorkerLoop(size_t worker) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    Work(worker);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--running_ == 0) done_.notify_one();
    }
  }
}

void WorkerPool::Run(size_t n, const std::function<void(size_t, size_t)>& task) {
  if (n == 0) return;
  if (threads_ == 1 || n == 1) {
    for (size_t i = 0; i < n; ++i) task(i, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = &task;
    n_ = n;
    next_.store(0, std::memory_order_relaxed);
    error_ = nullptr;
    running_ = threads_ - 1;
    ++generation_;
  }
  start_.notify_all();
  Work(0);
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return running_ == 0; });
    error = error_;
    task_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace ipinsights
