#include "ipinsights/detect/finding_run.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "ipinsights/base/error.h"

namespace ipinsights {
namespace {

// Each run is read through its own buffer; Finish reads every run at once, so this bounds the
// merge's memory per run.
constexpr size_t kRunBufferBytes = 64 << 10;

// Heap bytes only: the objects themselves are counted where they are held (a vector's
// capacity, PartialFinding's own size).
size_t HeapOf(const std::string& text) {
  // libstdc++ keeps up to 15 characters inside the string itself.
  return text.capacity() > 15 ? text.capacity() + 1 : 0;
}

size_t HeapOf(const std::vector<std::string>& texts) {
  size_t bytes = texts.capacity() * sizeof(std::string);
  for (const std::string& text : texts) bytes += HeapOf(text);
  return bytes;
}

size_t HeapOf(const std::vector<Reason>& reasons) {
  size_t bytes = reasons.capacity() * sizeof(Reason);
  for (const Reason& reason : reasons) {
    bytes += HeapOf(reason.code) + HeapOf(reason.message) + HeapOf(reason.facts);
  }
  return bytes;
}

size_t HeapOf(const NetworkInfo& network) {
  return HeapOf(network.as_org) + HeapOf(network.country) + HeapOf(network.aws_prefix) +
         HeapOf(network.aws_service) + HeapOf(network.aws_region);
}

// One list of fields (Fields below) read and written by two archives with the same methods:
// Writer appends each field, Reader fills it, so the two directions cannot drift apart.
// Numbers are their bytes; a string is its length (8 bytes) and its bytes; a list, its count
// and its items.
class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  template <typename T>
  void Fixed(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_->append(reinterpret_cast<const char*>(&value), sizeof(value));
  }
  void Text(const std::string& text) {
    Fixed<uint64_t>(text.size());
    out_->append(text);
  }
  void Address(const IpAddress& ip) { Fixed(ip.bytes()); }
  template <typename T, typename Item>
  void List(const std::vector<T>& items, Item item) {
    Fixed<uint64_t>(items.size());
    for (const T& value : items) item(value);
  }

 private:
  std::string* out_;
};

class Reader {
 public:
  Reader(std::string_view in, const std::string& folder) : in_(in), folder_(folder) {}
  template <typename T>
  void Fixed(T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    Take(&value, sizeof(value));
  }
  void Text(std::string& text) {
    uint64_t size = 0;
    Fixed(size);
    if (size > in_.size()) Corrupt();
    text.assign(in_.data(), size);
    in_.remove_prefix(size);
  }
  void Address(IpAddress& ip) {
    std::array<uint8_t, 16> bytes;
    Fixed(bytes);
    ip = IpAddress::FromBytes(bytes);
  }
  template <typename T, typename Item>
  void List(std::vector<T>& items, Item item) {
    uint64_t count = 0;
    Fixed(count);
    if (count > in_.size()) Corrupt();  // every item takes at least a byte
    items.resize(count);
    for (T& value : items) item(value);
  }
  bool done() const { return in_.empty(); }
  [[noreturn]] void Corrupt() const {
    throw Error(folder_ + ": a findings spill file read back corrupt (disk error?)");
  }

 private:
  void Take(void* out, size_t size) {
    if (size > in_.size()) Corrupt();
    std::memcpy(out, in_.data(), size);
    in_.remove_prefix(size);
  }
  std::string_view in_;
  const std::string& folder_;
};

// Every field of a PartialFinding, in record order. P is PartialFinding or const PartialFinding.
template <typename Archive, typename P>
void Fields(Archive& archive, P& partial) {
  auto& finding = partial.finding;
  auto text = [&](auto& value) { archive.Text(value); };
  auto reason = [&](auto& value) {
    archive.Text(value.code);
    archive.Text(value.message);
    archive.Text(value.facts);
  };
  archive.Text(finding.id);
  archive.Fixed(finding.kind);
  archive.Text(finding.entity);
  archive.Address(finding.ip);
  archive.Fixed(finding.window_start);
  archive.Fixed(finding.window_end);
  archive.Fixed(finding.first_seen);
  archive.Fixed(finding.last_seen);
  archive.Text(finding.first_event_time);
  archive.Text(finding.last_event_time);
  archive.Fixed(finding.events);
  archive.List(finding.sample_event_ids, text);
  archive.List(finding.activities, text);
  archive.Fixed(finding.activities_truncated);
  archive.Fixed(finding.lowest_score);
  archive.Fixed(finding.false_positive_rate);
  archive.List(finding.reasons, reason);
  archive.Fixed(finding.severity);
  archive.Text(finding.account_id);
  archive.Text(finding.region);
  archive.Text(finding.identity_type);
  archive.Text(finding.credential_type);
  archive.Text(finding.user_agent);
  archive.Fixed(finding.network.asn);
  archive.Text(finding.network.as_org);
  archive.Text(finding.network.country);
  archive.Fixed(finding.network.in_aws);
  archive.Text(finding.network.aws_prefix);
  archive.Text(finding.network.aws_service);
  archive.Text(finding.network.aws_region);
  archive.Text(finding.object);
  archive.Fixed(finding.record_index);
  archive.Fixed(partial.has_time);
  archive.Fixed(partial.has_lowest);
  archive.List(partial.samples, [&](auto& sample) {
    archive.Fixed(sample.first);
    archive.Text(sample.second);
  });
  archive.List(partial.rule_reasons, reason);
  archive.List(partial.lowest_reasons, reason);
}

}  // namespace

size_t HeapBytesOf(const PartialFinding& partial) {
  const Finding& finding = partial.finding;
  size_t bytes = HeapOf(finding.id) + HeapOf(finding.entity) + HeapOf(finding.first_event_time) +
                 HeapOf(finding.last_event_time) + HeapOf(finding.sample_event_ids) +
                 HeapOf(finding.activities) + HeapOf(finding.reasons) + HeapOf(finding.account_id) +
                 HeapOf(finding.region) + HeapOf(finding.identity_type) +
                 HeapOf(finding.credential_type) + HeapOf(finding.user_agent) +
                 HeapOf(finding.network) + HeapOf(finding.object) + HeapOf(partial.rule_reasons) +
                 HeapOf(partial.lowest_reasons);
  bytes += partial.samples.capacity() * sizeof(partial.samples[0]);
  for (const auto& [time, id] : partial.samples) bytes += HeapOf(id);
  return bytes;
}

FindingRun FindingRun::Create(const std::string& folder) {
  std::string where = folder;
  if (where.empty()) {
    const char* tmpdir = std::getenv("TMPDIR");
    where = tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
  }
  std::string path = where + "/ipinsights-findings-XXXXXX";
  const int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) {
    throw Error(ErrnoMessage(where + ": cannot create a findings spill file (set TMPDIR)", errno));
  }
  ::unlink(path.c_str());  // anonymous from here: gone when closed, however the process ends
  std::FILE* file = ::fdopen(fd, "w+b");
  if (file == nullptr) {
    const int saved = errno;
    ::close(fd);
    throw Error(ErrnoMessage(where + ": cannot open a findings spill file", saved));
  }
  std::setvbuf(file, nullptr, _IOFBF, kRunBufferBytes);
  return FindingRun(file, where);
}

FindingRun::~FindingRun() {
  if (file_ != nullptr) std::fclose(file_);
}

FindingRun::FindingRun(FindingRun&& other) noexcept
    : file_(std::exchange(other.file_, nullptr)),
      folder_(std::move(other.folder_)),
      records_(other.records_),
      bytes_(other.bytes_),
      read_(other.read_) {}

FindingRun& FindingRun::operator=(FindingRun&& other) noexcept {
  if (this != &other) {
    if (file_ != nullptr) std::fclose(file_);
    file_ = std::exchange(other.file_, nullptr);
    folder_ = std::move(other.folder_);
    records_ = other.records_;
    bytes_ = other.bytes_;
    read_ = other.read_;
  }
  return *this;
}

void FindingRun::Close() {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
  records_ = 0;
  read_ = 0;
}

void FindingRun::Write(const void* data, size_t size) {
  if (std::fwrite(data, 1, size, file_) != size) {
    throw Error(ErrnoMessage(folder_ + ": cannot write a findings spill file", errno));
  }
  bytes_ += size;
}

void FindingRun::ReadBytes(void* data, size_t size) {
  if (std::fread(data, 1, size, file_) != size) {
    throw Error(folder_ + ": a findings spill file ended early (disk error?)");
  }
}

void FindingRun::Append(const PartialFinding& partial) {
  scratch_.clear();
  Writer writer(&scratch_);
  Fields(writer, partial);
  const uint64_t size = scratch_.size();
  Write(&size, sizeof(size));
  Write(scratch_.data(), scratch_.size());
  ++records_;
}

void FindingRun::Rewind() {
  if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0) {
    throw Error(ErrnoMessage(folder_ + ": cannot rewind a findings spill file", errno));
  }
  read_ = 0;
}

bool FindingRun::Read(PartialFinding* partial) {
  if (read_ == records_) return false;
  uint64_t size = 0;
  ReadBytes(&size, sizeof(size));
  if (size > bytes_) Reader("", folder_).Corrupt();
  scratch_.resize(size);
  ReadBytes(scratch_.data(), size);
  Reader reader(scratch_, folder_);
  Fields(reader, *partial);
  if (!reader.done()) reader.Corrupt();
  ++read_;
  return true;
}

}  // namespace ipinsights
