// Helpers for the S3 tests: free ports, child processes stopped by PID, moto_server and
// the python helper servers in this folder.
//
// Thread-safety: test-only, single-threaded use.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ipinsights/storage/local_storage.h"
#include "ipinsights/storage/s3_client.h"
#include "ipinsights/storage/s3_storage.h"

extern char** environ;

namespace ipinsights::s3test {

inline std::string SourceDir() { return IPINSIGHTS_SOURCE_DIR; }
inline std::string HelperScript(const std::string& name) {
  return SourceDir() + "/tests/storage/" + name;
}

inline int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

inline bool PortOpen(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return open;
}

// Whether `program` is found on PATH.
inline bool OnPath(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

// Whether python3 can import `module`.
inline bool PythonHas(const std::string& module) {
  return std::system(("python3 -c 'import " + module + "' >/dev/null 2>&1").c_str()) == 0;
}

// A child process, terminated (SIGTERM, then SIGKILL) by its PID when destroyed.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv,
               const std::vector<std::string>& extra_env = {}) {
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    for (const auto& e : extra_env) env_strings.push_back(e);
    std::vector<char*> env;
    for (auto& e : env_strings) env.push_back(e.data());
    env.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // Quiet servers: their request logs would drown the test output.
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), env.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~ChildProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  bool started() const { return pid_ > 0; }

  // Waits until the child listens on `port` (or exits, or 15 s pass).
  bool WaitForPort(int port) {
    for (int i = 0; i < 750; ++i) {
      if (PortOpen(port)) return true;
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

 private:
  pid_t pid_ = -1;
};

// A server started from the test on a free loopback port.
struct LocalServer {
  int port = 0;
  std::unique_ptr<ChildProcess> process;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

// Starts `argv` + {"--port", port} (or with `port_flag`); nullopt when it did not come up.
inline std::optional<LocalServer> StartServer(std::vector<std::string> argv,
                                              const std::vector<std::string>& extra_env = {},
                                              const std::string& port_flag = "--port") {
  LocalServer server;
  server.port = FreePort();
  argv.push_back(port_flag);
  argv.push_back(std::to_string(server.port));
  server.process = std::make_unique<ChildProcess>(argv, extra_env);
  if (!server.process->started() || !server.process->WaitForPort(server.port)) return std::nullopt;
  return server;
}

// Runs a shell command; returns its stdout and sets *status to its exit status.
inline std::string RunCommand(const std::string& command, int* status) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *status = -1;
    return output;
  }
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  int raw = ::pclose(pipe);
  *status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return output;
}

// One moto_server for the whole test process, with test credentials in the environment and
// DefaultS3Storage() pointed at it (it reads its endpoint once); the first call creates
// `bucket`. nullptr where moto_server is missing or does not start. A test binary that uses
// it registers StopProcessMoto, which stops it by its PID when the tests end.
inline LocalServer* ProcessMoto(const char* bucket) {
  static LocalServer* moto = [bucket] {
    LocalServer* server = nullptr;
    if (!OnPath("moto_server")) return server;
    auto started = StartServer({"moto_server", "-H", "127.0.0.1"}, {}, "-p");
    if (!started) return server;
    server = new LocalServer(std::move(*started));
    ::setenv("AWS_ACCESS_KEY_ID", "AKIAIPINSIGHTSTEST01", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    ::setenv("AWS_REGION", "us-east-1", 1);
    SetS3EndpointOverride(server->url());
    DefaultS3Storage().client().CreateBucket(bucket);
    return server;
  }();
  return moto;
}

// Uploads the local files `objects` (listed under the folder `root`) to `s3` under
// `prefix` + their path below `root`, eight at a time: each upload to moto is a round trip of
// milliseconds.
inline void UploadObjects(const std::vector<ObjectInfo>& objects, const std::string& root,
                          S3Storage& s3, const std::string& prefix) {
  LocalStorage local;
  std::vector<std::thread> uploaders;
  for (size_t t = 0; t < 8; ++t) {
    uploaders.emplace_back([&, t] {
      for (size_t i = t; i < objects.size(); i += 8) {
        std::string bytes;
        local.ReadAll(objects[i].location, &bytes);
        auto writer = s3.OpenWritable(prefix + objects[i].location.substr(root.size() + 1));
        writer->Append(bytes);
        writer->Close();
      }
    });
  }
  for (std::thread& uploader : uploaders) uploader.join();
}

class StopProcessMoto : public ::testing::Environment {
 public:
  explicit StopProcessMoto(const char* bucket) : bucket_(bucket) {}
  void TearDown() override {
    if (LocalServer* moto = ProcessMoto(bucket_)) moto->process.reset();
  }

 private:
  const char* bucket_;
};

}  // namespace ipinsights::s3test
