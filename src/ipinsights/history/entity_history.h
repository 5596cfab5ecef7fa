// EntityHistory: what the training window says about each entity's past, kept beside the
// model (DIR/history.ipinsights) so `score` can say *why* an event is unusual. The model
// scores; the history explains. Serve never reads it.
//
// Contents (docs/formats/history.md):
//   per entity   events, first and last day; its addresses with counts; the networks it was
//                seen on at two levels with counts and first/last day: "fine" (IPv4 /24,
//                IPv6 /48) and "coarse" (IPv4 /16, IPv6 /32); and, once `train` has scored
//                them, where the entity's own (event-weighted) scores lie (min, 5th
//                percentile, median). Bounded: at most HistoryLimits' addresses and networks
//                per entity, the most used kept; a truncated list says so (a "new" network
//                then means "not among the N most used").
//   per network  how many entities were seen on it (both levels).
//
// Days are days since 1970-01-01 (UTC); kUnknownDay when the pairs had no time (a history
// built by `train` from a CSV without a `prepare` history beside it).
//
// Who builds it: `prepare` feeds every row it writes to the training output into a
// HistoryBuilder (one per worker, merged) and writes DEST.history (and part-I-of-N.history
// per shard); `train` merges the histories beside its --train channel (or builds one from the
// rows, without days, when there is none), adds the entities' score summaries and writes
// DIR/history.ipinsights; the registry publishes it with the model.
//
// Thread-safety: a HistoryBuilder is used by one thread at a time; an EntityHistory is
// immutable and safe to read from any number of threads.
//
//   HistoryBuilder builder;
//   builder.Add("AIDAEXAMPLE", *IpAddress::Parse("203.0.113.7"), DayNumber(Date{2024, 3, 1}));
//   EntityHistory history = std::move(builder).Finish();
//   WriteHistoryFile(history, "out/history.ipinsights");
//   EntityHistory again = ReadHistoryFile("out/history.ipinsights");
//   if (const EntityRecord* record = again.Find("AIDAEXAMPLE")) { ... }
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/pairs/ip_address.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {

inline constexpr int32_t kUnknownDay = -1;

// Network levels: fine = IPv4 /24, IPv6 /48; coarse = IPv4 /16, IPv6 /32.
enum class NetworkLevel : uint8_t { kFine = 0, kCoarse = 1 };

// A network: the address with the host bits cleared, and its prefix length (24, 16 for
// IPv4; 48, 32 for IPv6). NetworkOf(ip, level) computes it.
struct Network {
  IpAddress base;
  uint8_t prefix_length = 0;
  bool operator==(const Network&) const = default;
  // "203.0.113.0/24", "2001:db8::/32"
  std::string ToString() const;
};
Network NetworkOf(const IpAddress& ip, NetworkLevel level);

struct AddressCount {
  IpAddress ip;
  uint64_t events = 0;
};

struct NetworkUse {
  Network network;
  uint64_t events = 0;
  int32_t first_day = kUnknownDay;
  int32_t last_day = kUnknownDay;
};

struct EntityRecord {
  std::string entity;
  uint64_t events = 0;
  int32_t first_day = kUnknownDay;
  int32_t last_day = kUnknownDay;
  std::vector<AddressCount> addresses;  // most used first
  std::vector<NetworkUse> fine;         // most used first
  std::vector<NetworkUse> coarse;       // most used first
  bool addresses_truncated = false;     // more addresses were seen than kept
  bool fine_truncated = false;
  bool coarse_truncated = false;
  // The entity's own training pairs scored by the trained model, weighted by events
  // (NaN until `train` fills them).
  float score_min = std::numeric_limits<float>::quiet_NaN();
  float score_p05 = std::numeric_limits<float>::quiet_NaN();
  float score_p50 = std::numeric_limits<float>::quiet_NaN();

  bool has_scores() const { return !std::isnan(score_p50); }
  // The use of `ip`'s network at `level`, or nullptr when not among those kept.
  const NetworkUse* FindNetwork(const IpAddress& ip, NetworkLevel level) const;
  // True when `ip` is among the kept addresses.
  bool HasAddress(const IpAddress& ip) const;
};

struct HistoryLimits {
  size_t addresses_per_entity = 64;
  size_t fine_per_entity = 32;
  size_t coarse_per_entity = 16;
};

class EntityHistory {
 public:
  EntityHistory();
  ~EntityHistory();
  EntityHistory(EntityHistory&&) noexcept;
  EntityHistory& operator=(EntityHistory&&) noexcept;

  // nullptr when the entity was never seen.
  const EntityRecord* Find(std::string_view entity) const;
  // How many entities were seen on `ip`'s network at `level` (0: nobody).
  uint64_t EntitiesOnNetwork(const IpAddress& ip, NetworkLevel level) const;

  size_t entities() const;
  uint64_t events() const;
  // The window the history covers (kUnknownDay when no pair had a time).
  int32_t first_day() const;
  int32_t last_day() const;
  const HistoryLimits& limits() const;
  // The XXH3-64 checksum stored at the end of the file it was read from (0 for a history
  // built in memory): `train` records it in the model, so `score` can tell the history
  // written with a model from another one (docs/formats/model-file.md, "history_checksum").
  uint64_t checksum() const;

  // Every record, sorted by entity (for writing, merging and filling scores).
  const std::vector<EntityRecord>& records() const;
  std::vector<EntityRecord>& mutable_records();

  struct Impl;
  explicit EntityHistory(std::unique_ptr<Impl> impl);
  // The records with the per-network tables (history_impl.h; for the file writer).
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

class HistoryBuilder {
 public:
  explicit HistoryBuilder(const HistoryLimits& limits = {});
  ~HistoryBuilder();
  HistoryBuilder(HistoryBuilder&&) noexcept;
  HistoryBuilder& operator=(HistoryBuilder&&) noexcept;

  // One event; `day` may be kUnknownDay.
  void Add(std::string_view entity, const IpAddress& ip, int32_t day);
  // Adds everything `other` holds (workers' builders; the histories of shards).
  void Merge(HistoryBuilder&& other);
  void Merge(const EntityHistory& history);
  // Applies the limits (most used kept) and counts entities per network.
  EntityHistory Finish() &&;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Days since 1970-01-01 of a Unix time (floor).
int32_t DayOfUnixSeconds(int64_t unix_seconds);

// The companion history location of a training CSV location: "train.csv" ->
// "train.csv.history", "s3://b/train/part-0-of-4" -> "s3://b/train/part-0-of-4.history".
std::string HistoryLocationFor(const std::string& csv_location);

// Writes atomically (Storage::OpenWritable). Throws Error naming the location.
void WriteHistoryFile(const EntityHistory& history, const std::string& location);
// Appends the whole file to `file` without closing it (the caller closes it, possibly
// together with other outputs); returns its size in bytes and, when `checksum` is given,
// stores there the file's checksum (what checksum() of the file read back says). Throws Error.
uint64_t WriteHistoryFile(const EntityHistory& history, WritableFile* file,
                          uint64_t* checksum = nullptr);
// Throws Error naming the location and the reason (not a history file, version, truncated,
// checksum, inconsistent).
EntityHistory ReadHistoryFile(const std::string& location);
EntityHistory ParseHistoryFile(std::string_view bytes, const std::string& location);

}  // namespace ipinsights
