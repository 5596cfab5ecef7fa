// The peak resident memory of the test process, for tests that bound a reader's memory.
#pragma once

#include <cstddef>
#include <fstream>
#include <string>

namespace ipinsights::testing {

// Peak resident memory of this process (VmHWM), in bytes; ResetPeakRss() starts it again
// from the current resident size (Linux 4.0+: "5" > /proc/self/clear_refs).
inline size_t PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

inline void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

}  // namespace ipinsights::testing
