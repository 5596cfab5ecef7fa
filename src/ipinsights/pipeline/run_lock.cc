#include "ipinsights/pipeline/run_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "ipinsights/base/error.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {

RunLock::RunLock(const std::string& run_folder) {
  if (IsS3Location(run_folder)) return;
  std::error_code error;
  std::filesystem::create_directories(run_folder, error);
  if (error) throw Error(fmt::format("{}: cannot create: {}", run_folder, error.message()));
  const std::string path = (std::filesystem::path(run_folder) / "run.lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(ErrnoMessage(path + ": cannot open", errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int saved = errno;
    ::close(fd_);
    fd_ = -1;
    if (saved == EWOULDBLOCK) {
      throw Error(
          fmt::format("{}: another pipeline run of this job and window is in progress "
                      "(it holds this lock); wait for it to finish",
                      path));
    }
    throw Error(ErrnoMessage(path + ": cannot lock", saved));
  }
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace ipinsights
