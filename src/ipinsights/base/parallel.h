// Running independent tasks on a fixed number of threads.
//
// ParallelFor hands out task indices 0..n-1 to `threads` workers in increasing order
// (dynamic scheduling: a worker takes the next index when it finishes one). The callback
// gets (task_index, worker_index) so per-worker scratch space can be indexed without locks.
// The first exception thrown by a task is rethrown after all workers stop; tasks not yet
// started are then skipped.
//
// Thread-safety: the callback runs concurrently; it must only touch shared state safely.
//
//   ParallelFor(files.size(), threads, [&](size_t i, size_t worker) { Parse(files[i]); });
#pragma once

#include <cstddef>
#include <functional>

namespace ipinsights {

// The number of hardware threads (at least 1).
size_t HardwareThreads();

// `threads` == 0 means HardwareThreads().
void ParallelFor(size_t n, size_t threads, const std::function<void(size_t, size_t)>& task);

}  // namespace ipinsights
