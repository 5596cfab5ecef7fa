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

class Encoder {
 public:
  explicit Encoder(std::string* out) : out_(out) {}
  template <typename T>
  void Fixed(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_->append(reinterpret_cast<const char*>(&value), sizeof(value));
  }
  void Text(const std::string& text) {
    Fixed<uint64_t>(text.size());
    out_->append(text);
  }
  void Reasons(const std::vector<Reason>& reasons) {
    Fixed<uint64_t>(reasons.size());
    for (const Reason& reason : reasons) {
      Text(reason.code);
      Text(reason.message);
      Text(reason.facts);
    }
  }

 private:
  std::string* out_;
};

class Decoder {
 public:
  Decoder(std::string_view in, const std::string& folder) : in_(in), folder_(folder) {}
  template <typename T>
  T Fixed() {
    T value;
    Take(&value, sizeof(value));
    return value;
  }
  void Text(std::string* text) {
    const uint64_t size = Fixed<uint64_t>();
    if (size > in_.size()) Corrupt();
    text->assign(in_.data(), size);
    in_.remove_prefix(size);
  }
  void Reasons(std::vector<Reason>* reasons) {
    const uint64_t count = Fixed<uint64_t>();
    if (count > in_.size()) Corrupt();  // every reason takes at least 24 bytes
    reasons->resize(count);
    for (Reason& reason : *reasons) {
      Text(&reason.code);
      Text(&reason.message);
      Text(&reason.facts);
    }
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

void Encode(const PartialFinding& partial, std::string* out) {
  Encoder encode(out);
  const Finding& finding = partial.finding;
  encode.Text(finding.id);
  encode.Fixed(finding.kind);
  encode.Text(finding.entity);
  encode.Fixed(finding.ip.bytes());
  encode.Fixed(finding.window_start);
  encode.Fixed(finding.window_end);
  encode.Fixed(finding.first_seen);
  encode.Fixed(finding.last_seen);
  encode.Text(finding.first_event_time);
  encode.Text(finding.last_event_time);
  encode.Fixed(finding.events);
  encode.Fixed<uint64_t>(finding.sample_event_ids.size());
  for (const std::string& id : finding.sample_event_ids) encode.Text(id);
  encode.Fixed<uint64_t>(finding.activities.size());
  for (const std::string& activity : finding.activities) encode.Text(activity);
  encode.Fixed(finding.activities_truncated);
  encode.Fixed(finding.lowest_score);
  encode.Fixed(finding.false_positive_rate);
  encode.Reasons(finding.reasons);
  encode.Fixed(finding.severity);
  encode.Text(finding.account_id);
  encode.Text(finding.region);
  encode.Text(finding.identity_type);
  encode.Text(finding.credential_type);
  encode.Text(finding.user_agent);
  encode.Fixed(finding.network.asn);
  encode.Text(finding.network.as_org);
  encode.Text(finding.network.country);
  encode.Fixed(finding.network.in_aws);
  encode.Text(finding.network.aws_prefix);
  encode.Text(finding.network.aws_service);
  encode.Text(finding.network.aws_region);
  encode.Text(finding.object);
  encode.Fixed(finding.record_index);
  encode.Fixed(partial.has_time);
  encode.Fixed(partial.has_lowest);
  encode.Fixed<uint64_t>(partial.samples.size());
  for (const auto& [time, id] : partial.samples) {
    encode.Fixed(time);
    encode.Text(id);
  }
  encode.Reasons(partial.rule_reasons);
  encode.Reasons(partial.lowest_reasons);
}

void Decode(Decoder& decode, PartialFinding* partial) {
  Finding& finding = partial->finding;
  auto strings = [&](std::vector<std::string>* out) {
    const uint64_t count = decode.Fixed<uint64_t>();
    out->resize(count);
    for (std::string& text : *out) decode.Text(&text);
  };
  decode.Text(&finding.id);
  finding.kind = decode.Fixed<LogKind>();
  decode.Text(&finding.entity);
  finding.ip = IpAddress::FromBytes(decode.Fixed<std::array<uint8_t, 16>>());
  finding.window_start = decode.Fixed<int64_t>();
  finding.window_end = decode.Fixed<int64_t>();
  finding.first_seen = decode.Fixed<int64_t>();
  finding.last_seen = decode.Fixed<int64_t>();
  decode.Text(&finding.first_event_time);
  decode.Text(&finding.last_event_time);
  finding.events = decode.Fixed<uint64_t>();
  strings(&finding.sample_event_ids);
  strings(&finding.activities);
  finding.activities_truncated = decode.Fixed<bool>();
  finding.lowest_score = decode.Fixed<float>();
  finding.false_positive_rate = decode.Fixed<double>();
  decode.Reasons(&finding.reasons);
  finding.severity = decode.Fixed<Severity>();
  decode.Text(&finding.account_id);
  decode.Text(&finding.region);
  decode.Text(&finding.identity_type);
  decode.Text(&finding.credential_type);
  decode.Text(&finding.user_agent);
  finding.network.asn = decode.Fixed<uint32_t>();
  decode.Text(&finding.network.as_org);
  decode.Text(&finding.network.country);
  finding.network.in_aws = decode.Fixed<bool>();
  decode.Text(&finding.network.aws_prefix);
  decode.Text(&finding.network.aws_service);
  decode.Text(&finding.network.aws_region);
  decode.Text(&finding.object);
  finding.record_index = decode.Fixed<uint64_t>();
  partial->has_time = decode.Fixed<bool>();
  partial->has_lowest = decode.Fixed<bool>();
  const uint64_t samples = decode.Fixed<uint64_t>();
  partial->samples.resize(samples);
  for (auto& [time, id] : partial->samples) {
    time = decode.Fixed<int64_t>();
    decode.Text(&id);
  }
  decode.Reasons(&partial->rule_reasons);
  decode.Reasons(&partial->lowest_reasons);
  if (!decode.done()) decode.Corrupt();
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
  Encode(partial, &scratch_);
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
  if (size > bytes_) Decoder("", folder_).Corrupt();
  scratch_.resize(size);
  ReadBytes(scratch_.data(), size);
  Decoder decode(scratch_, folder_);
  Decode(decode, partial);
  ++read_;
  return true;
}

}  // namespace ipinsights
