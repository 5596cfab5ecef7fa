#include "ipinsights/storage/local_storage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "ipinsights/base/error.h"
#include "ipinsights/storage/temp_files.h"

namespace ipinsights {
namespace {

namespace fs = std::filesystem;

class FdReader : public SequentialReader {
 public:
  FdReader(std::string path, int fd, bool owned) : path_(std::move(path)), fd_(fd), owned_(owned) {}
  ~FdReader() override {
    if (owned_) ::close(fd_);
  }
  size_t Read(char* buffer, size_t n) override {
    for (;;) {
      ssize_t got = ::read(fd_, buffer, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno == EINTR) continue;
      throw Error(ErrnoMessage(path_ + ": read failed", errno));
    }
  }

 private:
  std::string path_;
  int fd_;
  bool owned_;
};

void WriteFully(int fd, const std::string& path, std::string_view data) {
  while (!data.empty()) {
    ssize_t wrote = ::write(fd, data.data(), data.size());
    if (wrote < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrnoMessage(path + ": write failed", errno));
    }
    data.remove_prefix(static_cast<size_t>(wrote));
  }
}

class StdoutWriter : public WritableFile {
 public:
  void Append(std::string_view data) override { WriteFully(STDOUT_FILENO, "stdout", data); }
  void Close() override {}
};

// Writes to a hidden temp file beside the destination and renames it into place.
class AtomicFileWriter : public WritableFile {
 public:
  explicit AtomicFileWriter(std::string path)
      : path_(std::move(path)), temp_(CreateTempFile(path_)) {}
  ~AtomicFileWriter() override {
    if (temp_.fd >= 0) ::close(temp_.fd);
    if (!published_) ::unlink(temp_.path.c_str());
    ForgetTempFile(temp_);
  }
  void Append(std::string_view data) override {
    // Buffer small appends; one write() per 1 MiB.
    buffer_.append(data);
    if (buffer_.size() >= (1u << 20)) Flush();
  }
  void Sync() override {
    if (temp_.fd < 0) return;
    Flush();
    if (::fsync(temp_.fd) != 0 && errno != EINVAL) {
      throw Error(ErrnoMessage(path_ + ": fsync failed", errno));
    }
    int fd = temp_.fd;
    temp_.fd = -1;
    if (::close(fd) != 0) throw Error(ErrnoMessage(path_ + ": close failed", errno));
  }
  void Close() override {
    if (published_) return;
    Sync();
    if (::rename(temp_.path.c_str(), path_.c_str()) != 0) {
      throw Error(ErrnoMessage(path_ + ": cannot rename into place", errno));
    }
    published_ = true;
    ForgetTempFile(temp_);
    SyncFolder();
  }

 private:
  void Flush() {
    try {
      WriteFully(temp_.fd, path_, buffer_);
    } catch (...) {
      buffer_.clear();
      throw;
    }
    buffer_.clear();
  }
  // Makes the rename durable: without it a power loss may undo the rename. Best effort:
  // the file is in place already, and some file systems cannot sync a folder.
  void SyncFolder() {
    std::string folder = fs::path(path_).parent_path().string();
    int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
  }

  std::string path_;
  TempFile temp_;
  std::string buffer_;
  bool published_ = false;
};

}  // namespace

std::vector<ObjectInfo> LocalStorage::List(const std::string& location) {
  if (location == "-") return {ObjectInfo{"-", 0}};
  std::error_code ec;
  fs::file_status status = fs::status(location, ec);
  if (ec || !fs::exists(status)) throw Error(location + ": no such file or folder");
  return ListUnder(location, ListDepth::kRecursive).objects;
}

Listing LocalStorage::ListUnder(const std::string& location, ListDepth depth) {
  Listing listing;
  if (location == "-") {
    listing.objects.push_back({"-", 0});
    return listing;
  }
  std::error_code ec;
  fs::file_status status = fs::status(location, ec);
  if (ec || !fs::exists(status)) return listing;
  if (!fs::is_directory(status)) {
    listing.objects.push_back({location, static_cast<uint64_t>(fs::file_size(location, ec))});
    return listing;
  }
  // Dot-files and dot-folders (.git, editor and OS files) and our writers' temp files
  // (orphans of an interrupted run) are not data.
  auto hidden = [](const fs::path& path) {
    const std::string name = path.filename().string();
    return (!name.empty() && name[0] == '.') || IsTempFileName(name);
  };
  if (depth == ListDepth::kOneLevel) {
    fs::directory_iterator it(location, fs::directory_options::follow_directory_symlink, ec);
    if (ec) throw Error(location + ": cannot list: " + ec.message());
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) throw Error(location + ": cannot list: " + ec.message());
      if (hidden(it->path())) continue;
      if (it->is_directory(ec)) {
        listing.folders.push_back(it->path().string() + "/");
      } else if (it->is_regular_file(ec)) {
        listing.objects.push_back({it->path().string(), static_cast<uint64_t>(it->file_size(ec))});
      }
    }
    std::sort(listing.folders.begin(), listing.folders.end());
  } else {
    fs::recursive_directory_iterator it(location, fs::directory_options::follow_directory_symlink,
                                        ec);
    if (ec) throw Error(location + ": cannot list: " + ec.message());
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) throw Error(location + ": cannot list: " + ec.message());
      if (hidden(it->path())) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      listing.objects.push_back({it->path().string(), static_cast<uint64_t>(it->file_size(ec))});
    }
  }
  std::sort(listing.objects.begin(), listing.objects.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.location < b.location; });
  return listing;
}

void LocalStorage::ReadAll(const std::string& location, std::string* out) {
  out->clear();
  auto reader = OpenSequential(location);
  if (location != "-") {
    struct stat st;
    if (::stat(location.c_str(), &st) == 0 && static_cast<size_t>(st.st_size) > out->capacity()) {
      out->reserve(static_cast<size_t>(st.st_size));
    }
  }
  size_t capacity = std::max<size_t>(out->capacity(), 1 << 16);
  for (;;) {
    size_t used = out->size();
    if (used == capacity) capacity *= 2;
    out->resize(capacity);
    size_t got = reader->Read(out->data() + used, capacity - used);
    out->resize(used + got);
    if (got == 0) break;
  }
}

std::unique_ptr<SequentialReader> LocalStorage::OpenSequential(const std::string& location) {
  if (location == "-") return std::make_unique<FdReader>("stdin", STDIN_FILENO, false);
  int fd = ::open(location.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(ErrnoMessage(location + ": cannot open", errno));
  return std::make_unique<FdReader>(location, fd, true);
}

std::unique_ptr<WritableFile> LocalStorage::OpenWritable(const std::string& location) {
  if (location == "-") return std::make_unique<StdoutWriter>();
  std::error_code ec;
  fs::path parent = fs::path(location).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  return std::make_unique<AtomicFileWriter>(location);
}

bool LocalStorage::Exists(const std::string& location) {
  std::error_code ec;
  return location == "-" || fs::exists(location, ec);
}

}  // namespace ipinsights
