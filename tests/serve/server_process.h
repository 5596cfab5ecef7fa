// ServerProcess: runs the real `ipinsights serve` binary for integration tests, on a free
// port (--port 0; the port is read from its "listening on" line), and stops it by PID.
// Also small helpers: shell commands, raw sockets, a load client.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ipinsights::serve_test {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout
};

inline CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[65536];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ~ServerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Optional, set before Start: another `ipinsights` binary to run (an older build, say, to
  // measure it), and an RLIMIT_NOFILE (soft and hard) for the server process.
  std::string binary;
  rlim_t nofile_limit = 0;

  // Starts `ipinsights serve ARGS --port 0` with stderr to `log_path`; returns false when it
  // does not print its "listening on" line within 10 s.
  bool Start(const std::vector<std::string>& args, const std::string& log_path,
             const std::vector<std::string>& env = {}) {
    log_path_ = log_path;
    std::vector<std::string> argv = {IPINSIGHTS_BINARY, "serve"};
    if (!binary.empty()) argv[0] = binary;
    argv.insert(argv.end(), args.begin(), args.end());
    bool has_port = false;
    for (const std::string& arg : args) has_port |= arg == "--port";
    if (!has_port) {
      argv.push_back("--port");
      argv.push_back("0");
    }
    // Truncate before forking: reading a previous run's "listening on" line would be a race.
    WriteFile(log_path, "");
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 2);
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
      if (nofile_limit > 0) {
        rlimit limit{nofile_limit, nofile_limit};
        setrlimit(RLIMIT_NOFILE, &limit);
      }
      std::vector<char*> c_argv;
      for (std::string& a : argv) c_argv.push_back(a.data());
      c_argv.push_back(nullptr);
      execv(c_argv[0], c_argv.data());
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      std::string log = ReadFile(log_path);
      size_t at = log.find("listening on ");
      if (at != std::string::npos) {
        size_t colon = log.find(':', log.find("://", at) + 3);
        port_ = std::atoi(log.c_str() + colon + 1);
        return port_ > 0;
      }
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // Sends `signal` and waits for the exit; returns the exit code (-1 if killed by a signal
  // or not gone within 20 s).
  int Stop(int signal = SIGTERM) {
    kill(pid_, signal);
    for (int i = 0; i < 2000; ++i) {
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

  bool Alive() const { return pid_ > 0 && kill(pid_, 0) == 0; }
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return ReadFile(log_path_); }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

inline int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

inline bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads until the peer closes or `timeout_ms` passes without data.
inline std::string ReadUntilClose(int fd, int timeout_ms) {
  std::string out;
  char buffer[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) break;
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

// Reads one HTTP response with a Content-Length body; bytes past it (pipelined responses)
// stay in *pending for the next call.
inline std::string ReadResponse(int fd, std::string* pending, int timeout_ms = 5000) {
  std::string& out = *pending;
  char buffer[65536];
  for (;;) {
    size_t header_end = out.find("\r\n\r\n");
    if (header_end != std::string::npos) {
      size_t at = out.find("Content-Length: ");
      size_t length =
          at == std::string::npos ? 0 : std::strtoul(out.c_str() + at + 16, nullptr, 10);
      if (out.size() >= header_end + 4 + length) {
        std::string response = out.substr(0, header_end + 4 + length);
        out.erase(0, header_end + 4 + length);
        return response;
      }
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return std::exchange(out, std::string());
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) return std::exchange(out, std::string());
    out.append(buffer, static_cast<size_t>(n));
  }
}

// Continuous keep-alive load on `threads` connections (POST /invocations, one CSV pair):
// counts the 200 answers and the failures (any other answer, or a lost connection, which
// ends that connection's loop), and keeps the last body.
class Load {
 public:
  Load(int port, int threads) {
    for (int t = 0; t < threads; ++t) {
      workers_.emplace_back([this, port] {
        int fd = Connect(port);
        std::string pending;
        std::string request =
            "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: "
            "9\r\n\r\nu,1.2.3.4";
        while (!stop_) {
          if (fd < 0 || !SendAll(fd, request)) {
            ++failed_;
            break;
          }
          std::string response = ReadResponse(fd, &pending);
          if (response.rfind("HTTP/1.1 200", 0) != 0) {
            ++failed_;
            break;
          }
          ++ok_;
          std::lock_guard<std::mutex> lock(mutex_);
          last_ = response.substr(response.find("\r\n\r\n") + 4);
        }
        if (fd >= 0) close(fd);
      });
    }
  }
  void Stop() {
    stop_ = true;
    for (auto& w : workers_) w.join();
  }
  std::string last() {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_;
  }
  std::atomic<int> ok_{0}, failed_{0};

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::string last_;
};

}  // namespace ipinsights::serve_test
