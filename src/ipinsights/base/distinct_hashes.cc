#include "ipinsights/base/distinct_hashes.h"

#include "ipinsights/base/error.h"

namespace ipinsights {

void DistinctHashes::Insert(uint64_t hash) {
  if (hash == 0) hash = 1;
  // Kept at most half full so probes stay short.
  if ((size_ + 1) * 2 > slots_.size()) Grow();
  const size_t mask = slots_.size() - 1;
  for (size_t i = static_cast<size_t>(hash) & mask;; i = (i + 1) & mask) {
    if (slots_[i] == hash) return;
    if (slots_[i] == 0) {
      slots_[i] = hash;
      ++size_;
      return;
    }
  }
}

void DistinctHashes::Grow() {
  std::vector<uint64_t> old;
  old.swap(slots_);
  slots_.assign(old.empty() ? 64 : old.size() * 2, 0);
  const size_t mask = slots_.size() - 1;
  for (uint64_t hash : old) {
    if (hash == 0) continue;
    size_t i = static_cast<size_t>(hash) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = hash;
  }
}

void DistinctHashes::Merge(const DistinctHashes& other) {
  IPI_CHECK(&other != this);
  for (uint64_t hash : other.slots_) {
    if (hash != 0) Insert(hash);
  }
}

void DistinctHashes::Clear() {
  slots_.clear();
  size_ = 0;
  last_ = 0;
  has_last_ = false;
}

}  // namespace ipinsights
