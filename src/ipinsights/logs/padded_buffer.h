// PaddedBuffer: a growable byte buffer that always keeps kJsonPadding readable bytes after
// its contents, so JSON can be parsed in place. Growing never zero-fills (unlike
// std::string::resize), and a buffer reused across files keeps its allocation.
//
// Thread-safety: a plain value type, one owner.
//
//   PaddedBuffer buffer;
//   buffer.Reserve(n);                      // capacity for n bytes plus padding
//   std::memcpy(buffer.data(), src, n);
//   buffer.set_size(n);
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

#include "ipinsights/logs/json_document_parser.h"

namespace ipinsights {

class PaddedBuffer {
 public:
  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }
  // Bytes usable for contents (the allocation is this plus kJsonPadding).
  size_t capacity() const { return capacity_; }
  std::string_view view() const { return {data_.get(), size_}; }

  void set_size(size_t size) { size_ = size; }
  void clear() { size_ = 0; }

  // Ensures capacity() >= n, keeping the contents.
  void Reserve(size_t n) {
    if (n <= capacity_) return;
    size_t grown = capacity_ + capacity_ / 2;
    size_t new_capacity = n > grown ? n : grown;
    std::unique_ptr<char[]> bigger(new char[new_capacity + kJsonPadding]);
    if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
    std::memset(bigger.get() + new_capacity, ' ', kJsonPadding);
    data_ = std::move(bigger);
    capacity_ = new_capacity;
  }

  // Frees the allocation when it is larger than `keep` bytes (after an unusually big file).
  void ShrinkTo(size_t keep) {
    if (capacity_ <= keep) return;
    data_.reset();
    capacity_ = 0;
    size_ = 0;
  }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace ipinsights
