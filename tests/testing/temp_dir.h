// TempDir(): one scratch folder per test process, made on first use and removed when the
// process's tests end (ctest runs each test in a process of its own).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace ipinsights::testing {

inline std::string& TempDirPath() {
  static std::string dir;
  return dir;
}

inline std::string TempDir() {
  std::string& dir = TempDirPath();
  if (dir.empty()) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "ipinsights_test_XXXXXX").string();
    dir = mkdtemp(pattern.data());
  }
  return dir;
}

class RemoveTempDir : public ::testing::Environment {
 public:
  void TearDown() override {
    if (!TempDirPath().empty()) std::filesystem::remove_all(TempDirPath());
  }
};
inline ::testing::Environment* const kRemoveTempDir =
    ::testing::AddGlobalTestEnvironment(new RemoveTempDir);

}  // namespace ipinsights::testing
