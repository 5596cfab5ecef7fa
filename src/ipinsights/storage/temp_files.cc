#include "ipinsights/storage/temp_files.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "ipinsights/base/error.h"

namespace ipinsights {
namespace {

constexpr std::string_view kTempMarker = ".ipinsights-tmp-";
constexpr size_t kRandomChars = 6;

// The registry the signal handler walks: fixed storage, so the handler neither allocates
// nor locks. A slot is free (0), being filled (1) or holds a live path (2). More open temp
// files than slots only lose the signal cleanup for the extra ones.
constexpr int kSlots = 64;
struct Slot {
  std::atomic<int> state{0};
  char path[PATH_MAX];
};
Slot g_slots[kSlots];

int Register(const std::string& path) {
  if (path.size() >= PATH_MAX) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = 0;
    if (g_slots[i].state.compare_exchange_strong(expected, 1)) {
      std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
      g_slots[i].state.store(2);
      return i;
    }
  }
  return -1;
}

void OnSignal(int sig) {
  const int saved_errno = errno;
  for (Slot& slot : g_slots) {
    if (slot.state.load() == 2) ::unlink(slot.path);
  }
  errno = saved_errno;
  // SA_RESETHAND restored the default action; the signal is blocked until we return, and
  // then ends the process as if no handler had run (the exit status names the signal).
  ::raise(sig);
}

void RandomChars(char* out, size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char bytes[16];
  if (::getrandom(bytes, n, 0) != static_cast<ssize_t>(n)) {
    // No entropy source: pid and a counter still make the name unique; O_EXCL does the rest.
    static std::atomic<uint64_t> counter{0};
    uint64_t x = (static_cast<uint64_t>(::getpid()) << 20) ^ counter.fetch_add(0x9E3779B9u);
    for (size_t i = 0; i < n; ++i, x = x * 6364136223846793005u + 1442695040888963407u) {
      bytes[i] = static_cast<unsigned char>(x >> 56);
    }
  }
  for (size_t i = 0; i < n; ++i) out[i] = kAlphabet[bytes[i] % (sizeof(kAlphabet) - 1)];
}

bool AllDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

TempFile CreateTempFile(const std::string& destination) {
  namespace fs = std::filesystem;
  const fs::path dest(destination);
  const std::string prefix =
      (dest.parent_path() / ("." + dest.filename().string() + std::string(kTempMarker))).string();
  struct stat st;
  const bool keep_mode = ::stat(destination.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  TempFile temp;
  for (int attempt = 0; attempt < 100; ++attempt) {
    char suffix[kRandomChars];
    RandomChars(suffix, kRandomChars);
    temp.path = prefix + std::string(suffix, kRandomChars);
    // O_EXCL|O_NOFOLLOW: never write through a file or link someone planted at the name.
    temp.fd = ::open(temp.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (temp.fd >= 0) break;
    if (errno != EEXIST) throw Error(ErrnoMessage(destination + ": cannot create", errno));
  }
  if (temp.fd < 0) throw Error(destination + ": cannot create a temp file beside it");
  temp.slot = Register(temp.path);
  if (keep_mode && ::fchmod(temp.fd, st.st_mode & 07777) != 0) {
    const int saved = errno;
    ::close(temp.fd);
    ::unlink(temp.path.c_str());
    ForgetTempFile(temp);
    throw Error(ErrnoMessage(destination + ": cannot set the mode of its temp file", saved));
  }
  return temp;
}

void ForgetTempFile(TempFile& temp) {
  if (temp.slot >= 0) g_slots[temp.slot].state.store(0);
  temp.slot = -1;
}

bool IsTempFileName(std::string_view name) {
  if (name.size() > kTempMarker.size() + kRandomChars && name[0] == '.' &&
      name.substr(name.size() - kRandomChars - kTempMarker.size(), kTempMarker.size()) ==
          kTempMarker) {
    return true;
  }
  // Legacy: NAME.tmp.PID.N
  size_t last_dot = name.rfind('.');
  if (last_dot == std::string_view::npos || !AllDigits(name.substr(last_dot + 1))) return false;
  size_t pid_dot = name.rfind('.', last_dot - 1);
  if (pid_dot == std::string_view::npos || pid_dot < 4 ||
      !AllDigits(name.substr(pid_dot + 1, last_dot - pid_dot - 1))) {
    return false;
  }
  return name.substr(pid_dot - 4, 4) == ".tmp";
}

void InstallTempFileCleanup() {
  static std::atomic<bool> installed{false};
  if (installed.exchange(true)) return;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGABRT}) {
    struct sigaction old;
    if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler == SIG_IGN) continue;
    struct sigaction action;
    std::memset(&action, 0, sizeof(action));
    action.sa_handler = OnSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    ::sigaction(sig, &action, nullptr);
  }
}

}  // namespace ipinsights
