// ByteBudget: bytes held for clients by the whole server (request bodies being received,
// answers being sent), counted against a limit, so that many connections together cannot
// make the server hold unbounded memory. HttpServer charges request bodies to one and large
// answers to another; the Router looks at the answer budget before building a large answer.
//
// Thread-safety: every member may be called from any thread (relaxed atomics: a count, not a
// synchronisation).
//
//   ByteBudget answers(1 << 30);
//   if (!answers.TryTake(n)) return Answer503();
//   ... send ...; answers.Give(n);
#pragma once

#include <atomic>
#include <cstddef>

namespace ipinsights {

class ByteBudget {
 public:
  explicit ByteBudget(size_t limit) : limit_(limit) {}
  ByteBudget(const ByteBudget&) = delete;
  ByteBudget& operator=(const ByteBudget&) = delete;

  // Takes `n` bytes when they fit under the limit; false (nothing taken) when not.
  bool TryTake(size_t n) {
    size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (used > limit_ || n > limit_ - used) return false;
    } while (!used_.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
    return true;
  }
  // Takes `n` bytes even over the limit (an allocator's rounding of what TryTake allowed).
  void Take(size_t n) { used_.fetch_add(n, std::memory_order_relaxed); }
  void Give(size_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }
  size_t used() const { return used_.load(std::memory_order_relaxed); }
  size_t limit() const { return limit_; }
  // What is left under the limit now (0 when it is spent).
  size_t left() const {
    size_t used = used_.load(std::memory_order_relaxed);
    return used >= limit_ ? 0 : limit_ - used;
  }

 private:
  std::atomic<size_t> used_{0};
  const size_t limit_;
};

}  // namespace ipinsights
