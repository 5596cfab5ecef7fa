// HistoryBuilder: counts on prepare's hot path. Per event: one hash of the entity, one probe
// of the entity index, one search of the entity's address list; an address seen before
// remembers where its two networks are, so a repeated address costs no network lookup.
// Entity names live once, in one arena; per-entity lists are flat vectors searched
// linearly while short and through a HashIndex once long. Nothing is allocated per event
// once an entity's lists have room.
#include <algorithm>
#include <string>
#include <utility>

#include "ipinsights/base/parallel.h"
#include "ipinsights/history/entity_history.h"
#include "ipinsights/history/hash_index.h"
#include "ipinsights/history/history_impl.h"

namespace ipinsights {
namespace {

// Lists up to this long are searched linearly (fits in a few cache lines).
constexpr size_t kLinearMax = 16;

struct AddressSlot {
  uint64_t high = 0;
  uint64_t low = 0;
  uint64_t events = 0;
  uint32_t network[2] = {HashIndex::kNone, HashIndex::kNone};  // positions in the lists
};

struct NetworkSlot {
  uint64_t high = 0;
  uint64_t low = 0;
  uint64_t events = 0;
  int32_t first_day = kUnknownDay;
  int32_t last_day = kUnknownDay;
};

template <typename Slot>
class SlotList {
 public:
  // The position of the slot for (high, low), added with zero counts when absent.
  std::pair<uint32_t, bool> FindOrAdd(uint64_t high, uint64_t low) {
    if (!indexed_) {
      for (uint32_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].high == high && slots_[i].low == low) return {i, false};
      }
      Append(high, low);
      if (slots_.size() > kLinearMax) Reindex();
      return {static_cast<uint32_t>(slots_.size() - 1), true};
    }
    const auto [position, added] = index_.FindOrInsert(
        AddressKeyHash(high, low), static_cast<uint32_t>(slots_.size()),
        [&](uint32_t i) { return slots_[i].high == high && slots_[i].low == low; });
    if (added) Append(high, low);
    return {position, added};
  }

  std::vector<Slot>& slots() { return slots_; }
  const std::vector<Slot>& slots() const { return slots_; }

  // Keeps the `keep` most used slots (ties: the lower address), in their order, and
  // re-indexes them.
  void KeepMostUsed(size_t keep) {
    if (slots_.size() <= keep) return;
    std::vector<uint32_t> order(slots_.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::nth_element(order.begin(), order.begin() + keep, order.end(), [&](uint32_t a, uint32_t b) {
      if (slots_[a].events != slots_[b].events) return slots_[a].events > slots_[b].events;
      return std::pair(slots_[a].high, slots_[a].low) < std::pair(slots_[b].high, slots_[b].low);
    });
    order.resize(keep);
    std::sort(order.begin(), order.end());
    std::vector<Slot> kept;
    kept.reserve(keep);
    for (uint32_t i : order) kept.push_back(slots_[i]);
    slots_ = std::move(kept);
    index_ = HashIndex();
    indexed_ = false;
    if (slots_.size() > kLinearMax) Reindex();
  }

  void Release() {
    std::vector<Slot>().swap(slots_);
    index_ = HashIndex();
    indexed_ = false;
  }

 private:
  // Indexes every slot (the list has outgrown linear search).
  void Reindex() {
    indexed_ = true;
    index_.Reserve(2 * slots_.size());
    for (uint32_t i = 0; i < slots_.size(); ++i) {
      index_.FindOrInsert(AddressKeyHash(slots_[i].high, slots_[i].low), i,
                          [](uint32_t) { return false; });
    }
  }

  void Append(uint64_t high, uint64_t low) {
    Slot slot;
    slot.high = high;
    slot.low = low;
    slots_.push_back(slot);
  }

  std::vector<Slot> slots_;
  HashIndex index_;  // once longer than kLinearMax
  bool indexed_ = false;
};

struct EntityState {
  uint64_t hash = 0;
  size_t name_offset = 0;  // in Impl::names
  uint32_t name_length = 0;
  uint64_t events = 0;
  int32_t first_day = kUnknownDay;
  int32_t last_day = kUnknownDay;
  bool addresses_truncated = false;  // by a merged history, or by the address cap
  bool networks_truncated[2] = {false, false};
  uint32_t last_address = 0;  // the address of the entity's previous event (checked first)
  SlotList<AddressSlot> addresses;
  SlotList<NetworkSlot> networks[2];  // [NetworkLevel]
};

// Most used first; ties in address order, so the result never depends on the order of
// events, merges or threads (except for an entity past the address cap, see
// Impl::BoundAddresses). Only the kept ones are sorted: long lists are cut first.
template <typename Item, typename Key>
void SortAndTruncate(std::vector<Item>* items, size_t limit, bool* truncated, Key key) {
  auto before = [&](const Item& a, const Item& b) {
    if (a.events != b.events) return a.events > b.events;
    return key(a) < key(b);
  };
  if (items->size() > limit) {
    std::nth_element(items->begin(), items->begin() + limit, items->end(), before);
    items->resize(limit);
    *truncated = true;
  }
  std::sort(items->begin(), items->end(), before);
}

// Counts per network (entities on it), keyed by the network's halves.
class NetworkTally {
 public:
  void Add(uint64_t high, uint64_t low, NetworkLevel level, uint64_t entities) {
    const auto [position, added] = index_.FindOrInsert(
        AddressKeyHash(high, low), static_cast<uint32_t>(counts_.size()), [&](uint32_t i) {
          return HighHalf(counts_[i].network.base) == high &&
                 LowHalf(counts_[i].network.base) == low;
        });
    if (added) {
      const IpAddress base = IpAddress::FromHalves(high, low);
      counts_.push_back({Network{base, PrefixLength(base.is_v4(), level)}, 0});
    }
    counts_[position].entities += entities;
  }
  // The count of the network (high, low); 0 when never added.
  uint64_t Get(uint64_t high, uint64_t low) const {
    const uint32_t position = index_.Find(AddressKeyHash(high, low), [&](uint32_t i) {
      return HighHalf(counts_[i].network.base) == high && LowHalf(counts_[i].network.base) == low;
    });
    return position == HashIndex::kNone ? 0 : counts_[position].entities;
  }
  const std::vector<NetworkCount>& counts() const { return counts_; }
  std::vector<NetworkCount> Take() && { return std::move(counts_); }

 private:
  HashIndex index_;
  std::vector<NetworkCount> counts_;
};

}  // namespace

struct HistoryBuilder::Impl {
  HistoryLimits limits;
  // An entity's working list of addresses is bounded: past address_cap() distinct ones it
  // keeps the most used half and says its list is truncated, so memory stays bounded per
  // entity (about 1.5 MB at the cap) whatever the logs hold (a role used from every address
  // of a NAT pool, a client behind rotating addresses). Lists end at addresses_per_entity
  // anyway; an address that keeps coming back survives the halving, one seen once in a while
  // may not, and is then counted from its return. Which ones survive depends on the events a
  // builder saw, so `prepare`'s history is the same for any thread count only while no entity
  // passes the cap in one worker's share: the cap is high for that. Networks are not bounded
  // this way (an entity's /24 and /16 networks are far fewer than its addresses, and their
  // entity counts must stay whole).
  size_t address_cap() const { return std::max<size_t>(16384, 64 * limits.addresses_per_entity); }
  void BoundAddresses(EntityState& state) {
    if (state.addresses.slots().size() <= address_cap()) return;
    state.addresses.KeepMostUsed(address_cap() / 2);
    state.addresses_truncated = true;
    state.last_address = 0;
  }

  std::string names;
  std::vector<EntityState> entities;
  HashIndex index;
  // Per network, the entities merged histories counted on it that their kept lists no
  // longer show (dropped from a truncated list). Finish adds them to the count over the
  // lists: exact for one merged history; with several (shards) an entity dropped in one and
  // seen in another counts twice, an overcount bounded by the parts' own counts summed.
  NetworkTally dropped[2];  // [NetworkLevel]

  std::string_view NameOf(const EntityState& state) const {
    return std::string_view(names.data() + state.name_offset, state.name_length);
  }

  EntityState& EntityFor(std::string_view entity, uint64_t hash) {
    const auto [position, added] =
        index.FindOrInsert(hash, static_cast<uint32_t>(entities.size()),
                           [&](uint32_t i) { return NameOf(entities[i]) == entity; });
    if (!added) return entities[position];
    EntityState& state = entities.emplace_back();
    state.hash = hash;
    state.name_offset = names.size();
    state.name_length = static_cast<uint32_t>(entity.size());
    names.append(entity);
    return state;
  }

  // The slot of an address, its network slots resolved (created empty when new).
  AddressSlot& AddressOf(EntityState& state, uint64_t high, uint64_t low) {
    std::vector<AddressSlot>& slots = state.addresses.slots();
    // Consecutive events of an entity often come from one address (a session).
    if (state.last_address < slots.size() && slots[state.last_address].high == high &&
        slots[state.last_address].low == low) {
      return slots[state.last_address];
    }
    const auto [position, added] = state.addresses.FindOrAdd(high, low);
    state.last_address = position;
    if (added) {
      for (int level = 0; level < 2; ++level) {
        uint64_t net_high, net_low;
        NetworkHalves(high, low, static_cast<NetworkLevel>(level), &net_high, &net_low);
        state.addresses.slots()[position].network[level] =
            state.networks[level].FindOrAdd(net_high, net_low).first;
      }
    }
    return state.addresses.slots()[position];
  }

  void AddNetwork(EntityState& state, int level, uint64_t high, uint64_t low, uint64_t events,
                  int32_t first_day, int32_t last_day) {
    NetworkSlot& slot =
        state.networks[level].slots()[state.networks[level].FindOrAdd(high, low).first];
    slot.events += events;
    WidenDays(first_day, last_day, &slot.first_day, &slot.last_day);
  }
};

HistoryBuilder::HistoryBuilder(const HistoryLimits& limits) : impl_(std::make_unique<Impl>()) {
  impl_->limits = limits;
}
HistoryBuilder::~HistoryBuilder() = default;
HistoryBuilder::HistoryBuilder(HistoryBuilder&&) noexcept = default;
HistoryBuilder& HistoryBuilder::operator=(HistoryBuilder&&) noexcept = default;

void HistoryBuilder::Add(std::string_view entity, const IpAddress& ip, int32_t day) {
  if (day < 0) day = kUnknownDay;  // before 1970: not a log's time
  EntityState& state = impl_->EntityFor(entity, EntityKeyHash(entity));
  ++state.events;
  WidenDays(day, day, &state.first_day, &state.last_day);
  AddressSlot& address = impl_->AddressOf(state, HighHalf(ip), LowHalf(ip));
  ++address.events;
  for (int level = 0; level < 2; ++level) {
    NetworkSlot& network = state.networks[level].slots()[address.network[level]];
    ++network.events;
    WidenDays(day, day, &network.first_day, &network.last_day);
  }
  impl_->BoundAddresses(state);
}

void HistoryBuilder::Merge(HistoryBuilder&& other) {
  if (impl_->entities.empty() && impl_->dropped[0].counts().empty() &&
      impl_->dropped[1].counts().empty()) {
    // The usual first merge of workers' builders: take the other one whole.
    const HistoryLimits limits = impl_->limits;
    std::swap(impl_, other.impl_);
    impl_->limits = limits;
    return;
  }
  Impl& from = *other.impl_;
  for (int level = 0; level < 2; ++level) {
    for (const NetworkCount& count : from.dropped[level].counts()) {
      impl_->dropped[level].Add(HighHalf(count.network.base), LowHalf(count.network.base),
                                static_cast<NetworkLevel>(level), count.entities);
    }
  }
  for (EntityState& source : from.entities) {
    EntityState& state = impl_->EntityFor(from.NameOf(source), source.hash);
    state.events += source.events;
    WidenDays(source.first_day, source.last_day, &state.first_day, &state.last_day);
    state.addresses_truncated |= source.addresses_truncated;
    // Networks first, so that the addresses find theirs and add nothing twice.
    for (int level = 0; level < 2; ++level) {
      state.networks_truncated[level] |= source.networks_truncated[level];
      for (const NetworkSlot& slot : source.networks[level].slots()) {
        impl_->AddNetwork(state, level, slot.high, slot.low, slot.events, slot.first_day,
                          slot.last_day);
      }
    }
    for (const AddressSlot& slot : source.addresses.slots()) {
      impl_->AddressOf(state, slot.high, slot.low).events += slot.events;
    }
    impl_->BoundAddresses(state);
  }
  // `from` is *other.impl_: read what is kept before replacing it.
  const HistoryLimits limits = from.limits;
  other.impl_ = std::make_unique<Impl>();
  other.impl_->limits = limits;
}

void HistoryBuilder::Merge(const EntityHistory& history) {
  // The history's exact entity counts per network, less those its kept lists show.
  for (int level = 0; level < 2; ++level) {
    const NetworkLevel network_level = static_cast<NetworkLevel>(level);
    NetworkTally kept;
    for (const EntityRecord& record : history.records()) {
      for (const NetworkUse& use : level == 0 ? record.fine : record.coarse) {
        kept.Add(HighHalf(use.network.base), LowHalf(use.network.base), network_level, 1);
      }
    }
    for (const NetworkCount& count : history.impl().networks[level]) {
      const uint64_t high = HighHalf(count.network.base), low = LowHalf(count.network.base);
      const uint64_t listed = kept.Get(high, low);
      if (count.entities > listed) {
        impl_->dropped[level].Add(high, low, network_level, count.entities - listed);
      }
    }
  }
  for (const EntityRecord& record : history.records()) {
    EntityState& state = impl_->EntityFor(record.entity, EntityKeyHash(record.entity));
    state.events += record.events;
    WidenDays(record.first_day, record.last_day, &state.first_day, &state.last_day);
    state.addresses_truncated |= record.addresses_truncated;
    state.networks_truncated[0] |= record.fine_truncated;
    state.networks_truncated[1] |= record.coarse_truncated;
    const std::vector<NetworkUse>* lists[2] = {&record.fine, &record.coarse};
    for (int level = 0; level < 2; ++level) {
      for (const NetworkUse& use : *lists[level]) {
        impl_->AddNetwork(state, level, use.network.base.high64(), use.network.base.low64(),
                          use.events, use.first_day, use.last_day);
      }
    }
    // An address whose network fell out of a truncated list gets an empty network slot;
    // Finish drops slots without events.
    for (const AddressCount& address : record.addresses) {
      impl_->AddressOf(state, address.ip.high64(), address.ip.low64()).events += address.events;
    }
    impl_->BoundAddresses(state);
  }
}

EntityHistory HistoryBuilder::Finish() && {
  auto out = std::make_unique<EntityHistory::Impl>();
  Impl& in = *impl_;
  out->limits = in.limits;
  const size_t n = in.entities.size();

  // Entities per network, counted over every network an entity used (before truncation),
  // plus those merged histories had dropped from their lists.
  for (int level = 0; level < 2; ++level) {
    const NetworkLevel network_level = static_cast<NetworkLevel>(level);
    NetworkTally tally = std::move(in.dropped[level]);
    for (EntityState& state : in.entities) {
      for (const NetworkSlot& slot : state.networks[level].slots()) {
        if (slot.events > 0) tally.Add(slot.high, slot.low, network_level, 1);
      }
    }
    std::vector<NetworkCount>& counts = out->networks[level];
    counts = std::move(tally).Take();
    // Parts' dropped entities can count one entity twice; no network has more than all.
    for (NetworkCount& count : counts) count.entities = std::min<uint64_t>(count.entities, n);
    std::sort(counts.begin(), counts.end(), [](const NetworkCount& a, const NetworkCount& b) {
      return a.network.base < b.network.base;
    });
  }

  // Each entity's record at its place in name order. The records are independent, so they
  // are made in parallel: at the end of `prepare` this is serial time, and its workers idle.
  std::vector<uint32_t> order(n);
  for (uint32_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return in.NameOf(in.entities[a]) < in.NameOf(in.entities[b]);
  });
  out->records.resize(n);
  const size_t limits[2] = {in.limits.fine_per_entity, in.limits.coarse_per_entity};
  constexpr size_t kChunk = 256;
  ParallelFor((n + kChunk - 1) / kChunk, 0, [&](size_t task, size_t) {
    for (size_t rank = task * kChunk; rank < std::min(n, (task + 1) * kChunk); ++rank) {
      EntityState& state = in.entities[order[rank]];
      EntityRecord& record = out->records[rank];
      record.entity = std::string(in.NameOf(state));
      record.events = state.events;
      record.first_day = state.first_day;
      record.last_day = state.last_day;
      record.addresses.reserve(state.addresses.slots().size());
      for (const AddressSlot& slot : state.addresses.slots()) {
        if (slot.events > 0) {
          record.addresses.push_back({IpAddress::FromHalves(slot.high, slot.low), slot.events});
        }
      }
      record.addresses_truncated = state.addresses_truncated;
      SortAndTruncate(&record.addresses, in.limits.addresses_per_entity,
                      &record.addresses_truncated, [](const AddressCount& a) { return a.ip; });
      state.addresses.Release();
      for (int level = 0; level < 2; ++level) {
        std::vector<NetworkUse>& uses = level == 0 ? record.fine : record.coarse;
        for (const NetworkSlot& slot : state.networks[level].slots()) {
          if (slot.events == 0) continue;
          const IpAddress base = IpAddress::FromHalves(slot.high, slot.low);
          uses.push_back(
              {Network{base, PrefixLength(base.is_v4(), static_cast<NetworkLevel>(level))},
               slot.events, slot.first_day, slot.last_day});
        }
        bool& truncated = level == 0 ? record.fine_truncated : record.coarse_truncated;
        truncated = state.networks_truncated[level];
        SortAndTruncate(&uses, limits[level], &truncated,
                        [](const NetworkUse& use) { return use.network.base; });
        state.networks[level].Release();
      }
    }
  });
  for (const EntityRecord& record : out->records) {
    out->events += record.events;
    WidenDays(record.first_day, record.last_day, &out->first_day, &out->last_day);
  }
  out->Index();
  impl_ = std::make_unique<Impl>();
  impl_->limits = out->limits;
  return EntityHistory(std::move(out));
}

}  // namespace ipinsights
