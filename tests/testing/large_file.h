// WriteLargeFile: a test input of many megabytes without holding it in memory.
#pragma once

#include <algorithm>
#include <fstream>
#include <string>

namespace ipinsights::testing {

// Writes `head`, `filler_bytes` copies of `filler`, then `tail` to `path`, in 1 MiB pieces.
inline void WriteLargeFile(const std::string& path, const std::string& head, char filler,
                           size_t filler_bytes, const std::string& tail) {
  std::ofstream out(path, std::ios::binary);
  out << head;
  const std::string piece(1 << 20, filler);
  for (size_t left = filler_bytes; left > 0;) {
    const size_t n = std::min(left, piece.size());
    out.write(piece.data(), n);
    left -= n;
  }
  out << tail;
}

}  // namespace ipinsights::testing
