// Helpers shared by the fuzz targets: an invariant check that aborts (so libFuzzer and the
// seed replay both report it with the input), and a per-process temp file for parsers that
// only read files.
//
// Thread-safety: the fuzz targets are single-threaded; so are these helpers.
//
//   FUZZ_CHECK(reparsed == ip, "Format/Parse round trip");
//   const std::string& path = WriteFuzzTempFile(data, size, ".csv");
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#define FUZZ_CHECK(condition, what)                                                             \
  do {                                                                                          \
    if (!(condition)) {                                                                         \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s (%s)\n", __FILE__, __LINE__, what, \
                   #condition);                                                                 \
      std::abort();                                                                             \
    }                                                                                           \
  } while (0)

namespace ipinsights::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return size == 0 ? std::string_view()
                   : std::string_view(reinterpret_cast<const char*>(data), size);
}

// Writes the input to one file per process (rewritten for every input, removed at exit) and
// returns its path.
inline const std::string& WriteFuzzTempFile(const uint8_t* data, size_t size, const char* suffix) {
  struct TempFile {
    std::string path;
    ~TempFile() {
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  };
  static TempFile file{(std::filesystem::temp_directory_path() /
                        ("ipinsights-fuzz-" + std::to_string(getpid()) + suffix))
                           .string()};
  std::FILE* out = std::fopen(file.path.c_str(), "wb");
  if (out == nullptr) {
    std::perror(file.path.c_str());
    std::abort();
  }
  if (size > 0 && std::fwrite(data, 1, size, out) != size) std::abort();
  std::fclose(out);
  return file.path;
}

}  // namespace ipinsights::fuzz
