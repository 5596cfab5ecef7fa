// The history file (docs/formats/history.md): fixed header, entity records, the two network
// tables, XXH3-64 checksum. The reader trusts nothing: every count is checked against the
// bytes left before anything is allocated for it, and every record against the rules the
// writer keeps (sorted, unique, within the limits, sums that add up).
#include <fmt/format.h>
#include <xxhash.h>

#include <bit>
#include <cmath>
#include <cstring>

#include "ipinsights/base/error.h"
#include "ipinsights/history/entity_history.h"
#include "ipinsights/history/history_impl.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the history file is little-endian; add byte swapping for this CPU");

constexpr char kMagic[8] = {'\x89', 'I', 'P', 'I', 'H', 'S', 'T', '\n'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 80;
constexpr size_t kChecksumBytes = 8;
constexpr size_t kEntityFixedBytes = 48;  // without the name
constexpr size_t kAddressBytes = 24;
constexpr size_t kNetworkUseBytes = 32;
constexpr size_t kNetworkCountBytes = 24;
constexpr uint32_t kKnownFlags = 7;
constexpr size_t kMaxEntityBytes = 65535;

template <typename T>
void Put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

void PutAddress(std::string& out, const IpAddress& ip) {
  out.append(reinterpret_cast<const char*>(ip.bytes().data()), 16);
}

std::string Serialize(const EntityHistory::Impl& history) {
  std::string out(kMagic, sizeof(kMagic));
  Put<uint32_t>(out, kVersion);
  Put<uint32_t>(out, 0);
  Put<uint64_t>(out, 0);  // file length, filled in below
  Put<uint64_t>(out, history.records.size());
  Put<uint64_t>(out, history.networks[0].size());
  Put<uint64_t>(out, history.networks[1].size());
  Put<uint64_t>(out, history.events);
  Put<int32_t>(out, history.first_day);
  Put<int32_t>(out, history.last_day);
  Put<uint32_t>(out, static_cast<uint32_t>(history.limits.addresses_per_entity));
  Put<uint32_t>(out, static_cast<uint32_t>(history.limits.fine_per_entity));
  Put<uint32_t>(out, static_cast<uint32_t>(history.limits.coarse_per_entity));
  Put<uint32_t>(out, 0);
  for (const EntityRecord& record : history.records) {
    Put<uint32_t>(out, static_cast<uint32_t>(record.entity.size()));
    out += record.entity;
    Put<uint64_t>(out, record.events);
    Put<int32_t>(out, record.first_day);
    Put<int32_t>(out, record.last_day);
    Put<float>(out, record.score_min);
    Put<float>(out, record.score_p05);
    Put<float>(out, record.score_p50);
    Put<uint32_t>(out, (record.addresses_truncated ? 1u : 0u) | (record.fine_truncated ? 2u : 0u) |
                           (record.coarse_truncated ? 4u : 0u));
    Put<uint32_t>(out, static_cast<uint32_t>(record.addresses.size()));
    Put<uint32_t>(out, static_cast<uint32_t>(record.fine.size()));
    Put<uint32_t>(out, static_cast<uint32_t>(record.coarse.size()));
    for (const AddressCount& address : record.addresses) {
      PutAddress(out, address.ip);
      Put<uint64_t>(out, address.events);
    }
    for (const std::vector<NetworkUse>* uses : {&record.fine, &record.coarse}) {
      for (const NetworkUse& use : *uses) {
        PutAddress(out, use.network.base);
        Put<uint64_t>(out, use.events);
        Put<int32_t>(out, use.first_day);
        Put<int32_t>(out, use.last_day);
      }
    }
  }
  for (const std::vector<NetworkCount>& counts : history.networks) {
    for (const NetworkCount& count : counts) {
      PutAddress(out, count.network.base);
      Put<uint64_t>(out, count.entities);
    }
  }
  const uint64_t length = out.size() + kChecksumBytes;
  std::memcpy(out.data() + 16, &length, sizeof(length));
  Put<uint64_t>(out, XXH3_64bits(out.data(), out.size()));
  return out;
}

// Reads the bytes front to back; every read is bounds-checked against `end_`.
class Cursor {
 public:
  Cursor(std::string_view bytes, size_t end, const std::string& location)
      : bytes_(bytes), end_(end), location_(location) {}

  size_t offset() const { return offset_; }
  size_t left() const { return end_ - offset_; }

  // Throws unless `count` items of at least `bytes_each` fit in what is left.
  void Need(uint64_t count, size_t bytes_each, const std::string& what) const {
    if (count > left() / bytes_each) {
      Fail(fmt::format("{} ({} of at least {} bytes) do not fit in the {} bytes left", what, count,
                       bytes_each, left()));
    }
  }

  template <typename T>
  T Get() {
    if (left() < sizeof(T)) Fail("record runs past the end of the data");
    T value;
    std::memcpy(&value, bytes_.data() + offset_, sizeof(T));
    offset_ += sizeof(T);
    return value;
  }

  IpAddress Address() {
    if (left() < 16) Fail("record runs past the end of the data");
    std::array<uint8_t, 16> raw;
    std::memcpy(raw.data(), bytes_.data() + offset_, 16);
    offset_ += 16;
    return IpAddress::FromBytes(raw);
  }

  std::string_view Bytes(size_t n) {
    if (left() < n) Fail("record runs past the end of the data");
    std::string_view view = bytes_.substr(offset_, n);
    offset_ += n;
    return view;
  }

  [[noreturn]] void Fail(const std::string& reason) const { FailAt(offset_, reason); }
  [[noreturn]] void FailAt(size_t offset, const std::string& reason) const {
    throw Error(fmt::format("{}: corrupted history file (byte {}: {})", location_, offset, reason));
  }

 private:
  std::string_view bytes_;
  size_t end_;
  const std::string& location_;
  size_t offset_ = 0;
};

// True when `base` has no bits set beyond the prefix of `level`.
bool IsNetworkBase(const IpAddress& base, NetworkLevel level) {
  return NetworkOf(base, level).base == base;
}

void CheckDays(const Cursor& cursor, size_t at, int32_t first, int32_t last,
               const std::string& what) {
  const bool first_known = first != kUnknownDay;
  const bool last_known = last != kUnknownDay;
  if (first_known != last_known || (first_known && (first < 0 || last < first))) {
    cursor.FailAt(at, fmt::format("{}: bad days {}..{}", what, first, last));
  }
}

bool ScoreOk(float score) { return std::isnan(score) || std::isfinite(score); }

// Sorted most used first, ties by key, strictly (so no key twice).
template <typename Key>
bool InOrder(uint64_t events_a, const Key& a, uint64_t events_b, const Key& b) {
  return events_a > events_b || (events_a == events_b && a < b);
}

}  // namespace

void WriteHistoryFile(const EntityHistory& history, const std::string& location) {
  std::unique_ptr<WritableFile> file = OpenStorage(location).OpenWritable(location);
  WriteHistoryFile(history, file.get());
  file->Close();
}

uint64_t WriteHistoryFile(const EntityHistory& history, WritableFile* file, uint64_t* checksum) {
  const std::string bytes = Serialize(history.impl());
  if (checksum != nullptr) {
    std::memcpy(checksum, bytes.data() + bytes.size() - kChecksumBytes, sizeof(*checksum));
  }
  file->Append(bytes);
  return bytes.size();
}

EntityHistory ReadHistoryFile(const std::string& location) {
  std::string bytes;
  OpenStorage(location).ReadAll(location, &bytes);
  return ParseHistoryFile(bytes, location);
}

EntityHistory ParseHistoryFile(std::string_view bytes, const std::string& location) {
  if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    throw Error(fmt::format("{}: not an ipinsights history file (bad magic bytes)", location));
  }
  if (bytes.size() < kHeaderBytes + kChecksumBytes) {
    throw Error(fmt::format("{}: truncated history file ({} bytes, the header alone is {})",
                            location, bytes.size(), kHeaderBytes + kChecksumBytes));
  }
  Cursor header(bytes, kHeaderBytes, location);
  header.Bytes(sizeof(kMagic));
  const uint32_t version = header.Get<uint32_t>();
  if (version != kVersion) {
    throw Error(fmt::format("{}: unsupported history file version {} (this build reads {})",
                            location, version, kVersion));
  }
  if (header.Get<uint32_t>() != 0) header.FailAt(12, "reserved field is not 0");
  const uint64_t length = header.Get<uint64_t>();
  if (length > bytes.size()) {
    throw Error(fmt::format("{}: truncated history file ({} bytes, its header says {})", location,
                            bytes.size(), length));
  }
  if (length < bytes.size()) {
    throw Error(fmt::format("{}: corrupted history file ({} bytes, its header says {})", location,
                            bytes.size(), length));
  }
  uint64_t stored;
  std::memcpy(&stored, bytes.data() + bytes.size() - kChecksumBytes, sizeof(stored));
  if (XXH3_64bits(bytes.data(), bytes.size() - kChecksumBytes) != stored) {
    throw Error(fmt::format("{}: corrupted history file (checksum mismatch)", location));
  }

  auto impl = std::make_unique<EntityHistory::Impl>();
  impl->checksum = stored;
  const uint64_t entities = header.Get<uint64_t>();
  const uint64_t network_counts[2] = {header.Get<uint64_t>(), header.Get<uint64_t>()};
  impl->events = header.Get<uint64_t>();
  impl->first_day = header.Get<int32_t>();
  impl->last_day = header.Get<int32_t>();
  impl->limits.addresses_per_entity = header.Get<uint32_t>();
  impl->limits.fine_per_entity = header.Get<uint32_t>();
  impl->limits.coarse_per_entity = header.Get<uint32_t>();
  if (header.Get<uint32_t>() != 0) header.FailAt(76, "reserved field is not 0");
  CheckDays(header, 56, impl->first_day, impl->last_day, "header");

  Cursor cursor(bytes, bytes.size() - kChecksumBytes, location);
  cursor.Bytes(kHeaderBytes);
  cursor.Need(entities, kEntityFixedBytes + 1, "entities");
  impl->records.resize(entities);
  uint64_t events = 0;
  int32_t first_day = kUnknownDay, last_day = kUnknownDay;
  const size_t limits[3] = {impl->limits.addresses_per_entity, impl->limits.fine_per_entity,
                            impl->limits.coarse_per_entity};
  for (uint64_t e = 0; e < entities; ++e) {
    const size_t at = cursor.offset();
    const std::string what = fmt::format("entity {}", e);
    EntityRecord& record = impl->records[e];
    const uint32_t name_length = cursor.Get<uint32_t>();
    if (name_length == 0 || name_length > kMaxEntityBytes) {
      cursor.FailAt(at, fmt::format("{}: name of {} bytes", what, name_length));
    }
    record.entity = std::string(cursor.Bytes(name_length));
    if (e > 0 && !(impl->records[e - 1].entity < record.entity)) {
      cursor.FailAt(at, fmt::format("{}: entities not sorted (or one twice)", what));
    }
    record.events = cursor.Get<uint64_t>();
    record.first_day = cursor.Get<int32_t>();
    record.last_day = cursor.Get<int32_t>();
    record.score_min = cursor.Get<float>();
    record.score_p05 = cursor.Get<float>();
    record.score_p50 = cursor.Get<float>();
    const uint32_t flags = cursor.Get<uint32_t>();
    const uint32_t counts[3] = {cursor.Get<uint32_t>(), cursor.Get<uint32_t>(),
                                cursor.Get<uint32_t>()};
    if (record.events == 0) cursor.FailAt(at, what + ": no events");
    if (record.events > ~uint64_t{0} - events) cursor.FailAt(at, what + ": events overflow");
    events += record.events;
    CheckDays(cursor, at, record.first_day, record.last_day, what);
    WidenDays(record.first_day, record.last_day, &first_day, &last_day);
    if (!ScoreOk(record.score_min) || !ScoreOk(record.score_p05) || !ScoreOk(record.score_p50) ||
        (record.has_scores() &&
         !(record.score_min <= record.score_p05 && record.score_p05 <= record.score_p50))) {
      cursor.FailAt(at, what + ": bad score summary");
    }
    if ((flags & ~kKnownFlags) != 0) cursor.FailAt(at, fmt::format("{}: flags {}", what, flags));
    record.addresses_truncated = flags & 1;
    record.fine_truncated = flags & 2;
    record.coarse_truncated = flags & 4;
    for (int list = 0; list < 3; ++list) {
      if (counts[list] > limits[list]) {
        cursor.FailAt(at, fmt::format("{}: {} items in a list limited to {}", what, counts[list],
                                      limits[list]));
      }
    }
    cursor.Need(counts[0], kAddressBytes, what + ": addresses");
    record.addresses.resize(counts[0]);
    uint64_t address_events = 0;
    for (uint32_t i = 0; i < counts[0]; ++i) {
      AddressCount& address = record.addresses[i];
      address.ip = cursor.Address();
      address.events = cursor.Get<uint64_t>();
      if (address.events == 0 || address.events > record.events - address_events) {
        cursor.Fail(fmt::format("{}: address events do not add up", what));
      }
      address_events += address.events;
      if (i > 0 && !InOrder(record.addresses[i - 1].events, record.addresses[i - 1].ip,
                            address.events, address.ip)) {
        cursor.Fail(fmt::format("{}: addresses not in order (or one twice)", what));
      }
    }
    for (int level = 0; level < 2; ++level) {
      std::vector<NetworkUse>& uses = level == 0 ? record.fine : record.coarse;
      cursor.Need(counts[1 + level], kNetworkUseBytes, what + ": networks");
      uses.resize(counts[1 + level]);
      uint64_t network_events = 0;
      for (uint32_t i = 0; i < uses.size(); ++i) {
        NetworkUse& use = uses[i];
        const IpAddress base = cursor.Address();
        use.network = Network{base, PrefixLength(base.is_v4(), static_cast<NetworkLevel>(level))};
        use.events = cursor.Get<uint64_t>();
        use.first_day = cursor.Get<int32_t>();
        use.last_day = cursor.Get<int32_t>();
        if (!IsNetworkBase(base, static_cast<NetworkLevel>(level))) {
          cursor.Fail(fmt::format("{}: network {} has host bits set", what, base.ToString()));
        }
        if (use.events == 0 || use.events > record.events - network_events) {
          cursor.Fail(fmt::format("{}: network events do not add up", what));
        }
        network_events += use.events;
        CheckDays(cursor, cursor.offset(), use.first_day, use.last_day, what + ": network");
        if (i > 0 && !InOrder(uses[i - 1].events, uses[i - 1].network.base, use.events, base)) {
          cursor.Fail(fmt::format("{}: networks not in order (or one twice)", what));
        }
      }
    }
  }
  if (events != impl->events || first_day != impl->first_day || last_day != impl->last_day) {
    header.FailAt(40, "the header's events or days disagree with the records");
  }
  for (int level = 0; level < 2; ++level) {
    cursor.Need(network_counts[level], kNetworkCountBytes, "network counts");
    std::vector<NetworkCount>& counts = impl->networks[level];
    counts.resize(network_counts[level]);
    for (uint64_t i = 0; i < counts.size(); ++i) {
      const IpAddress base = cursor.Address();
      counts[i].network =
          Network{base, PrefixLength(base.is_v4(), static_cast<NetworkLevel>(level))};
      counts[i].entities = cursor.Get<uint64_t>();
      if (!IsNetworkBase(base, static_cast<NetworkLevel>(level))) {
        cursor.Fail(fmt::format("network count {}: {} has host bits set", i, base.ToString()));
      }
      if (counts[i].entities == 0 || counts[i].entities > entities) {
        cursor.Fail(
            fmt::format("network count {}: {} entities of {}", i, counts[i].entities, entities));
      }
      if (i > 0 && !(counts[i - 1].network.base < base)) {
        cursor.Fail(fmt::format("network count {}: not sorted (or one twice)", i));
      }
    }
  }
  if (cursor.left() != 0) {
    cursor.Fail(fmt::format("{} bytes after the last record", cursor.left()));
  }
  impl->Index();
  return EntityHistory(std::move(impl));
}

}  // namespace ipinsights
