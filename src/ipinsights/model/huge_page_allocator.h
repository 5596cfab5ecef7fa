// HugePageAllocator: a std::allocator for the large embedding tables and optimiser
// moments. Blocks of 4 MB or more are 2 MB-aligned and marked MADV_HUGEPAGE, so random row
// accesses during training miss the TLB far less often (measured: Adam on scattered rows
// was the trainer's largest cost with 4 KB pages). Smaller blocks use operator new.
//
// Thread-safety: stateless.
//
//   std::vector<float, HugePageAllocator<float>> table(rows * dim);
#pragma once

#include <sys/mman.h>

#include <cstdlib>
#include <new>
#include <vector>

namespace ipinsights {

template <typename T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr size_t kHugePage = size_t{2} << 20;
  static constexpr size_t kThreshold = size_t{4} << 20;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kThreshold) return static_cast<T*>(::operator new(bytes));
    const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* p = std::aligned_alloc(kHugePage, rounded);
    if (p == nullptr) throw std::bad_alloc();
    madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure is harmless
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kThreshold) {
      ::operator delete(p);
    } else {
      std::free(p);
    }
  }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

// The float array type of large tables.
using FloatTable = std::vector<float, HugePageAllocator<float>>;

}  // namespace ipinsights
