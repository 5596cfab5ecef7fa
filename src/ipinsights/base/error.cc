#include "ipinsights/base/error.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ipinsights {

std::string ErrnoMessage(const std::string& what, int errno_value) {
  return what + ": " + std::strerror(errno_value);
}

void CheckFailed(const char* expression, const char* file, int line) {
  std::fprintf(stderr, "internal error: check failed: %s at %s:%d\n", expression, file, line);
  std::abort();
}

}  // namespace ipinsights
