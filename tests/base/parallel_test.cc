#include "ipinsights/base/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

namespace ipinsights {
namespace {

TEST(ParallelFor, RunsEveryTaskOnce) {
  std::vector<std::atomic<int>> hits(1000);
  ParallelFor(hits.size(), 4, [&](size_t i, size_t worker) {
    EXPECT_LT(worker, 4u);
    hits[i].fetch_add(1);
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST(ParallelFor, RethrowsTheTaskError) {
  EXPECT_THROW(ParallelFor(100, 2,
                           [](size_t i, size_t) {
                             if (i == 50) throw std::runtime_error("task 50");
                           }),
               std::runtime_error);
}

TEST(ParallelFor, HandlesNoTasks) {
  ParallelFor(0, 2, [](size_t, size_t) { FAIL(); });
}

}  // namespace
}  // namespace ipinsights
