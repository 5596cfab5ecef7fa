// ScratchTest: a gtest fixture whose every test gets its own empty folder, removed when the
// test ends, with helpers to write and read files in it. Most tests that touch files derive
// from it instead of making their own folder.
//
//   class PrepareCliTest : public testing::ScratchTest {};
//   TEST_F(PrepareCliTest, Something) {
//     Write("in/a.json", "{}");
//     EXPECT_EQ(Read("out.csv"), "");
//   }
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ipinsights::testing {

// The whole content of a file ("" when it cannot be read).
inline std::string ReadFileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Writes `bytes` to `path`, making its parent folders.
inline void WriteFileBytes(const std::filesystem::path& path, const std::string& bytes) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

class ScratchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("ipinsights_") + info->test_suite_name() + "_" + info->name() + "_" +
            std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // The absolute path of `relative` inside the test's folder.
  std::string Path(const std::string& relative) const { return (dir_ / relative).string(); }
  // Writes `bytes` to Path(relative), making folders; returns the path.
  std::string Write(const std::string& relative, const std::string& bytes) const {
    WriteFileBytes(dir_ / relative, bytes);
    return Path(relative);
  }
  std::string Read(const std::string& relative) const { return ReadFileBytes(dir_ / relative); }

  std::filesystem::path dir_;
};

}  // namespace ipinsights::testing
