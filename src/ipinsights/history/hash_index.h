// HashIndex: an open-addressing index from a 64-bit hash to a position in the caller's
// vector (entities by name, a list's addresses, networks). It stores (hash, position)
// pairs only; the caller says whether the item at a position is the one looked for, so
// keys of any type live once, in the caller's own flat container.
//
// Linear probing over a power-of-two table kept at most half full: a lookup is one or two
// cache lines. Positions are uint32_t (at most 2^32 - 2 items).
//
// Thread-safety: const methods may run concurrently; the others need exclusive access.
//
//   HashIndex index;
//   auto [position, added] = index.FindOrInsert(Hash64(name, 0), names.size(),
//                                                [&](uint32_t i) { return names[i] == name; });
//   if (added) names.push_back(name);
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace ipinsights {

class HashIndex {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // Room for `n` items without growing.
  void Reserve(size_t n) {
    size_t capacity = 16;
    while (capacity < 2 * n) capacity *= 2;
    if (capacity > slots_.size()) Rehash(capacity);
  }

  // The position whose item `equals` says is the one, among those inserted with `hash`;
  // kNone when there is none.
  template <typename Equals>
  uint32_t Find(uint64_t hash, Equals&& equals) const {
    if (slots_.empty()) return kNone;
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots_[i];
      if (slot.position == kNone) return kNone;
      if (slot.hash == hash && equals(slot.position)) return slot.position;
    }
  }

  // Find(), or, when absent, records `new_position` under `hash` and returns it with true.
  template <typename Equals>
  std::pair<uint32_t, bool> FindOrInsert(uint64_t hash, uint32_t new_position, Equals&& equals) {
    if (2 * (size_ + 1) > slots_.size()) Rehash(slots_.empty() ? 16 : 2 * slots_.size());
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.position == kNone) {
        slot = Slot{hash, new_position};
        ++size_;
        return {new_position, true};
      }
      if (slot.hash == hash && equals(slot.position)) return {slot.position, false};
    }
  }

  size_t size() const { return size_; }
  // Forgets every item, keeping the table's memory.
  void Clear() {
    for (Slot& slot : slots_) slot.position = kNone;
    size_ = 0;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t position = kNone;
  };

  void Rehash(size_t capacity) {
    std::vector<Slot> old(capacity);
    old.swap(slots_);
    const size_t mask = capacity - 1;
    for (const Slot& slot : old) {
      if (slot.position == kNone) continue;
      size_t i = slot.hash & mask;
      while (slots_[i].position != kNone) i = (i + 1) & mask;
      slots_[i] = slot;
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace ipinsights
