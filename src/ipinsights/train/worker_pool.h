// WorkerPool: a fixed set of threads that run one parallel loop at a time.
//
// The trainer runs several short parallel loops per mini-batch; starting threads for each
// (base/parallel.h) would cost more than some loops. The calling thread works as worker 0.
// Tasks are handed out in increasing order; which worker runs a task must not change the
// result (callers write per-task outputs), so results do not depend on the thread count.
//
// Thread-safety: Run() is called from one thread at a time.
//
//   WorkerPool pool(threads);
//   pool.Run(chunks, [&](size_t chunk, size_t worker) { Process(chunk, scratch[worker]); });
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ipinsights {

class WorkerPool {
 public:
  // threads == 0: every hardware thread.
  explicit WorkerPool(size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  size_t threads() const { return threads_; }

  // Runs task(i, worker) for i in [0, n); returns when all are done. Rethrows the first
  // exception a task threw.
  void Run(size_t n, const std::function<void(size_t, size_t)>& task);

 private:
  void WorkerLoop(size_t worker);
  void Work(size_t worker);

  size_t threads_;
  std::vector<std::thread> pool_;
  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  uint64_t generation_ = 0;
  size_t running_ = 0;
  bool stopping_ = false;
  const std::function<void(size_t, size_t)>* task_ = nullptr;
  size_t n_ = 0;
  std::atomic<size_t> next_{0};
  std::exception_ptr error_;
};

}  // namespace ipinsights
