#include "ipinsights/base/distinct_hashes.h"

#include <gtest/gtest.h>

#include "ipinsights/base/hash.h"

namespace ipinsights {
namespace {

TEST(DistinctHashes, CountsEachValueOnceAcrossRepeatsGrowthAndMerges) {
  DistinctHashes a, b;
  for (int round = 0; round < 3; ++round) {
    for (uint64_t i = 0; i < 10000; ++i) a.Add(Hash64(std::to_string(i), 0));
  }
  EXPECT_EQ(a.size(), 10000u);
  for (uint64_t i = 5000; i < 15000; ++i) b.Add(Hash64(std::to_string(i), 0));
  a.Merge(b);
  EXPECT_EQ(a.size(), 15000u);
  a.Add(0);
  a.Add(1);  // 0 is stored as 1: they count once together
  EXPECT_EQ(a.size(), 15001u);
  a.Clear();
  EXPECT_EQ(a.size(), 0u);
  a.Add(42);
  a.Add(42);
  EXPECT_EQ(a.size(), 1u);
}

}  // namespace
}  // namespace ipinsights
