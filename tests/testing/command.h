// Running the ipinsights binary (or any shell command) from a test and capturing what it
// printed and how it exited. Tests that check a command's behaviour end to end use these
// instead of their own popen/system wrappers.
//
//   CommandResult run = RunIpinsights(dir, "prepare cloudtrail --input in --output out.csv");
//   EXPECT_EQ(run.exit_code, 0) << run.err;
#pragma once

#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "scratch_test.h"

namespace ipinsights::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when the command died from a signal or could not start
  std::string out;     // stdout
  std::string err;     // stderr (empty for RunShell, which leaves it to the command)
};

// The binary under test: $IPINSIGHTS_BINARY, else the one this build made.
inline std::string IpinsightsBinary() {
  const char* env = std::getenv("IPINSIGHTS_BINARY");
  return env && *env ? env : IPINSIGHTS_BINARY;
}

// A file's size and modification time ("SIZE MTIME\n", as `stat -L -c "%s %Y"` prints
// them); "" when it cannot be read.
inline std::string FileStamp(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return "";
  return std::to_string(info.st_size) + " " + std::to_string(info.st_mtime) + "\n";
}

inline std::string BinaryStamp() { return FileStamp(IpinsightsBinary()); }

// True when `world` (a component's IPINSIGHTS_TEST_WORLD, made once per ctest run by
// `script`; see CMakeLists.txt) is complete and was made by the binary and the script under
// test: the script writes both stamps to WORLD/complete last. A test binary run by hand, or
// one finding a world an older binary or script made, makes its own files instead.
inline bool SharedWorldReady(const std::filesystem::path& world, const std::string& script) {
  const std::string binary = BinaryStamp(), made_by = FileStamp(script);
  return !binary.empty() && !made_by.empty() &&
         ReadFileBytes(world / "complete") == binary + made_by;
}

// Runs `command` with /bin/sh and returns its stdout (stderr as the command redirects it).
inline CommandResult RunShell(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[65536];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.out.append(buffer, got);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Runs `ipinsights ARGS` in `folder` with `stdin_text` on stdin; stdout and stderr are kept
// apart. `shell_prefix` runs first in the same shell (an environment variable, a ulimit).
inline CommandResult RunIpinsights(const std::filesystem::path& folder, const std::string& args,
                                   const std::string& stdin_text = "",
                                   const std::string& shell_prefix = "") {
  const std::filesystem::path in = folder / ".stdin", out = folder / ".stdout",
                              err = folder / ".stderr";
  WriteFileBytes(in, stdin_text);
  const std::string command = "cd '" + folder.string() + "' && " + shell_prefix + "'" +
                              IpinsightsBinary() + "' " + args + " <'" + in.string() + "' >'" +
                              out.string() + "' 2>'" + err.string() + "'";
  const int status = std::system(command.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadFileBytes(out);
  result.err = ReadFileBytes(err);
  std::error_code ignored;
  for (const auto& path : {in, out, err}) std::filesystem::remove(path, ignored);
  return result;
}

}  // namespace ipinsights::testing
