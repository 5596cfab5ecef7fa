// DistinctHashes: counts distinct 64-bit hashes (of entities, say) exactly, in an
// open-addressing table of 8 bytes per distinct value. prepare counts distinct entities with
// it so users can size num_entity_vectors (SageMaker's advice: about twice that number).
//
// Hashes are taken as given: feed good ones (base/hash.h Hash64). Two different values whose
// hashes collide count once, a chance of about n^2 / 2^65 over n values.
//
// Thread-safety: none; give each thread its own and Merge them.
//
//   DistinctHashes entities;
//   for (const auto& row : rows) entities.Add(Hash64(row.entity, 0));
//   total.Merge(entities);
//   uint64_t distinct = total.size();
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ipinsights {

class DistinctHashes {
 public:
  void Add(uint64_t hash) {
    // Consecutive events of one entity are the common case in logs: one compare skips them.
    if (has_last_ && hash == last_) return;
    last_ = hash;
    has_last_ = true;
    Insert(hash);
  }
  void Merge(const DistinctHashes& other);  // `other` must not be *this
  uint64_t size() const { return size_; }
  void Clear();

 private:
  void Insert(uint64_t hash);
  void Grow();

  std::vector<uint64_t> slots_;  // 0 = empty; the hash 0 is stored as 1
  uint64_t size_ = 0;
  uint64_t last_ = 0;  // the hash Add saw last, when has_last_
  bool has_last_ = false;
};

}  // namespace ipinsights
