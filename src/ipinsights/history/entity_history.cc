#include "ipinsights/history/entity_history.h"

#include "ipinsights/history/history_impl.h"

namespace ipinsights {

const NetworkUse* EntityRecord::FindNetwork(const IpAddress& ip, NetworkLevel level) const {
  const Network network = NetworkOf(ip, level);
  // Linear: the lists are bounded (HistoryLimits) and read only for flagged events.
  for (const NetworkUse& use : level == NetworkLevel::kFine ? fine : coarse) {
    if (use.network == network) return &use;
  }
  return nullptr;
}

bool EntityRecord::HasAddress(const IpAddress& ip) const {
  for (const AddressCount& address : addresses) {
    if (address.ip == ip) return true;
  }
  return false;
}

void EntityHistory::Impl::Index() {
  entity_index.Clear();
  entity_index.Reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    entity_index.FindOrInsert(EntityKeyHash(records[i].entity), static_cast<uint32_t>(i),
                              [](uint32_t) { return false; });
  }
  for (int level = 0; level < 2; ++level) {
    HashIndex& index = network_index[level];
    index.Clear();
    index.Reserve(networks[level].size());
    for (size_t i = 0; i < networks[level].size(); ++i) {
      const IpAddress& base = networks[level][i].network.base;
      index.FindOrInsert(AddressKeyHash(base.high64(), base.low64()), static_cast<uint32_t>(i),
                         [](uint32_t) { return false; });
    }
  }
}

EntityHistory::EntityHistory() : impl_(std::make_unique<Impl>()) {}
EntityHistory::~EntityHistory() = default;
EntityHistory::EntityHistory(EntityHistory&&) noexcept = default;
EntityHistory& EntityHistory::operator=(EntityHistory&&) noexcept = default;
EntityHistory::EntityHistory(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

const EntityRecord* EntityHistory::Find(std::string_view entity) const {
  const uint32_t i = impl_->entity_index.Find(
      EntityKeyHash(entity), [&](uint32_t i) { return impl_->records[i].entity == entity; });
  return i == HashIndex::kNone ? nullptr : &impl_->records[i];
}

uint64_t EntityHistory::EntitiesOnNetwork(const IpAddress& ip, NetworkLevel level) const {
  const Network network = NetworkOf(ip, level);
  const int l = static_cast<int>(level);
  const std::vector<NetworkCount>& counts = impl_->networks[l];
  const uint32_t i =
      impl_->network_index[l].Find(AddressKeyHash(network.base.high64(), network.base.low64()),
                                   [&](uint32_t i) { return counts[i].network == network; });
  return i == HashIndex::kNone ? 0 : counts[i].entities;
}

size_t EntityHistory::entities() const { return impl_->records.size(); }
uint64_t EntityHistory::events() const { return impl_->events; }
uint64_t EntityHistory::checksum() const { return impl_->checksum; }
int32_t EntityHistory::first_day() const { return impl_->first_day; }
int32_t EntityHistory::last_day() const { return impl_->last_day; }
const HistoryLimits& EntityHistory::limits() const { return impl_->limits; }
const std::vector<EntityRecord>& EntityHistory::records() const { return impl_->records; }
// The index holds positions and names' hashes: callers change scores, never names or order.
std::vector<EntityRecord>& EntityHistory::mutable_records() { return impl_->records; }

}  // namespace ipinsights
