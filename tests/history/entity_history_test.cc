#include "ipinsights/history/entity_history.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ipinsights/base/civil_time.h"

namespace ipinsights {
namespace {

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

int32_t Day(int year, int month, int day) {
  return static_cast<int32_t>(DaysFromCivil(Date{year, month, day}));
}

struct Event {
  std::string entity;
  std::string ip;
  int32_t day;
};

void ExpectSameHistory(const EntityHistory& a, const EntityHistory& b) {
  ASSERT_EQ(a.entities(), b.entities());
  EXPECT_EQ(a.events(), b.events());
  EXPECT_EQ(a.first_day(), b.first_day());
  EXPECT_EQ(a.last_day(), b.last_day());
  for (size_t i = 0; i < a.records().size(); ++i) {
    const EntityRecord& x = a.records()[i];
    const EntityRecord& y = b.records()[i];
    EXPECT_EQ(x.entity, y.entity);
    EXPECT_EQ(x.events, y.events);
    EXPECT_EQ(x.first_day, y.first_day);
    EXPECT_EQ(x.last_day, y.last_day);
    ASSERT_EQ(x.addresses.size(), y.addresses.size()) << x.entity;
    for (size_t j = 0; j < x.addresses.size(); ++j) {
      EXPECT_EQ(x.addresses[j].ip, y.addresses[j].ip);
      EXPECT_EQ(x.addresses[j].events, y.addresses[j].events);
    }
    for (auto [u, v] : {std::pair{&x.fine, &y.fine}, std::pair{&x.coarse, &y.coarse}}) {
      ASSERT_EQ(u->size(), v->size()) << x.entity;
      for (size_t j = 0; j < u->size(); ++j) {
        EXPECT_EQ((*u)[j].network, (*v)[j].network);
        EXPECT_EQ((*u)[j].events, (*v)[j].events);
        EXPECT_EQ((*u)[j].first_day, (*v)[j].first_day);
        EXPECT_EQ((*u)[j].last_day, (*v)[j].last_day);
      }
    }
    EXPECT_EQ(x.addresses_truncated, y.addresses_truncated);
    EXPECT_EQ(x.fine_truncated, y.fine_truncated);
    EXPECT_EQ(x.coarse_truncated, y.coarse_truncated);
    for (const NetworkUse& use : x.fine) {
      EXPECT_EQ(a.EntitiesOnNetwork(use.network.base, NetworkLevel::kFine),
                b.EntitiesOnNetwork(use.network.base, NetworkLevel::kFine));
    }
  }
}

TEST(Network, ToStringWritesBaseAndPrefix) {
  EXPECT_EQ(NetworkOf(Ip("203.0.113.7"), NetworkLevel::kFine).ToString(), "203.0.113.0/24");
  EXPECT_EQ(NetworkOf(Ip("203.0.113.7"), NetworkLevel::kCoarse).ToString(), "203.0.0.0/16");
  EXPECT_EQ(NetworkOf(Ip("2001:db8:1:2::9"), NetworkLevel::kFine).ToString(), "2001:db8:1::/48");
  EXPECT_EQ(NetworkOf(Ip("2001:db8:1:2::9"), NetworkLevel::kCoarse).ToString(), "2001:db8::/32");
}

TEST(Network, Ipv4MappedIsIpv4) {
  EXPECT_EQ(NetworkOf(Ip("::ffff:10.1.2.3"), NetworkLevel::kFine),
            NetworkOf(Ip("10.1.2.99"), NetworkLevel::kFine));
  EXPECT_EQ(NetworkOf(Ip("10.1.2.3"), NetworkLevel::kFine).prefix_length, 24);
  EXPECT_EQ(NetworkOf(Ip("10.1.2.3"), NetworkLevel::kCoarse).prefix_length, 16);
  EXPECT_EQ(NetworkOf(Ip("2001:db8::1"), NetworkLevel::kFine).prefix_length, 48);
  EXPECT_EQ(NetworkOf(Ip("2001:db8::1"), NetworkLevel::kCoarse).prefix_length, 32);
}

TEST(DayOfUnixSeconds, FloorsToTheUtcDay) {
  EXPECT_EQ(DayOfUnixSeconds(0), 0);
  EXPECT_EQ(DayOfUnixSeconds(86399), 0);
  EXPECT_EQ(DayOfUnixSeconds(86400), 1);
  EXPECT_EQ(DayOfUnixSeconds(*ParseTimestamp("2024-03-01T23:59:59Z")), Day(2024, 3, 1));
}

TEST(HistoryLocationFor, AppendsHistorySuffix) {
  EXPECT_EQ(HistoryLocationFor("train.csv"), "train.csv.history");
  EXPECT_EQ(HistoryLocationFor("s3://b/train/part-0-of-4"), "s3://b/train/part-0-of-4.history");
}

TEST(HistoryBuilder, CountsEventsAddressesAndNetworks) {
  HistoryBuilder builder;
  builder.Add("alice", Ip("203.0.113.7"), Day(2024, 3, 2));
  builder.Add("alice", Ip("203.0.113.7"), Day(2024, 3, 1));
  builder.Add("alice", Ip("203.0.113.9"), Day(2024, 3, 5));
  builder.Add("alice", Ip("203.0.7.1"), Day(2024, 3, 3));
  builder.Add("bob", Ip("203.0.113.50"), Day(2024, 3, 4));
  EntityHistory history = std::move(builder).Finish();
  EXPECT_EQ(history.entities(), 2u);
  EXPECT_EQ(history.events(), 5u);
  EXPECT_EQ(history.first_day(), Day(2024, 3, 1));
  EXPECT_EQ(history.last_day(), Day(2024, 3, 5));

  const EntityRecord* alice = history.Find("alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->events, 4u);
  EXPECT_EQ(alice->first_day, Day(2024, 3, 1));
  EXPECT_EQ(alice->last_day, Day(2024, 3, 5));
  ASSERT_EQ(alice->addresses.size(), 3u);
  EXPECT_EQ(alice->addresses[0].ip, Ip("203.0.113.7"));
  EXPECT_EQ(alice->addresses[0].events, 2u);
  ASSERT_EQ(alice->fine.size(), 2u);
  EXPECT_EQ(alice->fine[0].network.ToString(), "203.0.113.0/24");
  EXPECT_EQ(alice->fine[0].events, 3u);
  EXPECT_EQ(alice->fine[0].first_day, Day(2024, 3, 1));
  EXPECT_EQ(alice->fine[0].last_day, Day(2024, 3, 5));
  EXPECT_EQ(alice->fine[1].network.ToString(), "203.0.7.0/24");
  ASSERT_EQ(alice->coarse.size(), 1u);
  EXPECT_EQ(alice->coarse[0].events, 4u);
  EXPECT_FALSE(alice->has_scores());
  EXPECT_TRUE(alice->HasAddress(Ip("203.0.113.9")));
  EXPECT_FALSE(alice->HasAddress(Ip("203.0.113.8")));
  ASSERT_NE(alice->FindNetwork(Ip("203.0.7.200"), NetworkLevel::kFine), nullptr);
  EXPECT_EQ(alice->FindNetwork(Ip("203.0.8.1"), NetworkLevel::kFine), nullptr);
  EXPECT_NE(alice->FindNetwork(Ip("203.0.8.1"), NetworkLevel::kCoarse), nullptr);

  EXPECT_EQ(history.EntitiesOnNetwork(Ip("203.0.113.1"), NetworkLevel::kFine), 2u);
  EXPECT_EQ(history.EntitiesOnNetwork(Ip("203.0.7.1"), NetworkLevel::kFine), 1u);
  EXPECT_EQ(history.EntitiesOnNetwork(Ip("203.0.99.1"), NetworkLevel::kFine), 0u);
  EXPECT_EQ(history.EntitiesOnNetwork(Ip("203.0.99.1"), NetworkLevel::kCoarse), 2u);
  EXPECT_EQ(history.Find("carol"), nullptr);
  ASSERT_EQ(history.records().size(), 2u);
  EXPECT_EQ(history.records()[0].entity, "alice");
  EXPECT_EQ(history.records()[1].entity, "bob");
}

TEST(HistoryBuilder, UnknownDaysTakeNoPart) {
  HistoryBuilder builder;
  builder.Add("alice", Ip("10.0.0.1"), kUnknownDay);
  builder.Add("bob", Ip("10.0.0.1"), kUnknownDay);
  builder.Add("bob", Ip("10.0.0.1"), Day(2024, 1, 9));
  EntityHistory history = std::move(builder).Finish();
  EXPECT_EQ(history.Find("alice")->first_day, kUnknownDay);
  EXPECT_EQ(history.Find("alice")->last_day, kUnknownDay);
  EXPECT_EQ(history.Find("bob")->first_day, Day(2024, 1, 9));
  EXPECT_EQ(history.Find("bob")->fine[0].last_day, Day(2024, 1, 9));
  EXPECT_EQ(history.first_day(), Day(2024, 1, 9));
}

TEST(HistoryBuilder, TruncationKeepsTheMostUsed) {
  HistoryLimits limits;
  limits.addresses_per_entity = 3;
  limits.fine_per_entity = 2;
  limits.coarse_per_entity = 1;
  HistoryBuilder builder(limits);
  // 10.0.N.1 used N+1 times, for N = 0..39 (more than the linear-search length).
  for (int n = 0; n < 40; ++n) {
    for (int k = 0; k <= n; ++k) {
      builder.Add("alice",
                  Ip(("10." + std::to_string(n % 2) + "." + std::to_string(n) + ".1").c_str()), k);
    }
  }
  builder.Add("bob", Ip("10.0.0.1"), 0);
  EntityHistory history = std::move(builder).Finish();
  const EntityRecord* alice = history.Find("alice");
  ASSERT_NE(alice, nullptr);
  ASSERT_EQ(alice->addresses.size(), 3u);
  EXPECT_TRUE(alice->addresses_truncated);
  EXPECT_EQ(alice->addresses[0].ip, Ip("10.1.39.1"));
  EXPECT_EQ(alice->addresses[0].events, 40u);
  EXPECT_EQ(alice->addresses[1].ip, Ip("10.0.38.1"));
  EXPECT_EQ(alice->addresses[2].ip, Ip("10.1.37.1"));
  ASSERT_EQ(alice->fine.size(), 2u);
  EXPECT_TRUE(alice->fine_truncated);
  EXPECT_EQ(alice->fine[0].network.ToString(), "10.1.39.0/24");
  ASSERT_EQ(alice->coarse.size(), 1u);
  EXPECT_TRUE(alice->coarse_truncated);
  EXPECT_EQ(alice->coarse[0].network.ToString(), "10.1.0.0/16");  // 420 events against 400
  EXPECT_EQ(alice->events, 40u * 41u / 2u);
  const EntityRecord* bob = history.Find("bob");
  EXPECT_FALSE(bob->addresses_truncated);
  EXPECT_FALSE(bob->fine_truncated);
  // Counted over every network used, not only the kept ones.
  EXPECT_EQ(history.EntitiesOnNetwork(Ip("10.0.0.9"), NetworkLevel::kFine), 2u);
  EXPECT_EQ(history.EntitiesOnNetwork(Ip("10.1.1.9"), NetworkLevel::kFine), 1u);
}

TEST(HistoryBuilder, TiesAreBrokenByAddressWhateverTheOrder) {
  HistoryLimits limits;
  limits.addresses_per_entity = 1;
  HistoryBuilder a(limits), b(limits);
  a.Add("e", Ip("10.0.0.2"), 0);
  a.Add("e", Ip("10.0.0.1"), 0);
  b.Add("e", Ip("10.0.0.1"), 0);
  b.Add("e", Ip("10.0.0.2"), 0);
  EntityHistory x = std::move(a).Finish(), y = std::move(b).Finish();
  EXPECT_EQ(x.Find("e")->addresses[0].ip, Ip("10.0.0.1"));
  EXPECT_EQ(y.Find("e")->addresses[0].ip, Ip("10.0.0.1"));
}

std::vector<Event> SomeEvents(int n, int seed) {
  std::vector<Event> events;
  uint64_t x = static_cast<uint64_t>(seed) * 2654435761u + 1;
  for (int i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const int entity = static_cast<int>((x >> 33) % 50);
    const int net = static_cast<int>((x >> 20) % (entity % 5 == 0 ? 60 : 4));
    std::string ip = (x >> 60) % 4 == 0
                         ? "2001:db8:" + std::to_string(net) + ":" + std::to_string((x >> 8) % 7) +
                               "::" + std::to_string((x >> 12) % 9)
                         : "198." + std::to_string(net % 3) + "." + std::to_string(net) + "." +
                               std::to_string((x >> 40) % 5);
    events.push_back(
        {"entity-" + std::to_string(entity), ip,
         (x >> 50) % 7 == 0 ? kUnknownDay : static_cast<int32_t>(19000 + (x >> 44) % 30)});
  }
  return events;
}

TEST(HistoryBuilder, MergeEqualsBuildingFromTheConcatenation) {
  HistoryLimits limits;
  limits.addresses_per_entity = 8;
  limits.fine_per_entity = 4;
  limits.coarse_per_entity = 2;
  const std::vector<Event> events = SomeEvents(6000, 3);
  HistoryBuilder whole(limits);
  for (const Event& e : events) whole.Add(e.entity, Ip(e.ip.c_str()), e.day);
  HistoryBuilder parts[3] = {HistoryBuilder(limits), HistoryBuilder(limits),
                             HistoryBuilder(limits)};
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    parts[(i / 100) % 3].Add(e.entity, Ip(e.ip.c_str()), e.day);
  }
  HistoryBuilder merged(limits);
  for (HistoryBuilder& part : parts) merged.Merge(std::move(part));
  ExpectSameHistory(std::move(whole).Finish(), std::move(merged).Finish());
}

TEST(HistoryBuilder, MergingAnUntruncatedHistoryEqualsMergingItsBuilder) {
  const std::vector<Event> events = SomeEvents(3000, 5);
  const HistoryLimits limits{1000, 1000, 1000};
  HistoryBuilder whole(limits), first(limits), second(limits);
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    whole.Add(e.entity, Ip(e.ip.c_str()), e.day);
    (i < 1000 ? first : second).Add(e.entity, Ip(e.ip.c_str()), e.day);
  }
  HistoryBuilder merged(limits);
  merged.Merge(std::move(first).Finish());
  merged.Merge(std::move(second).Finish());
  ExpectSameHistory(std::move(whole).Finish(), std::move(merged).Finish());
}

TEST(HistoryBuilder, MergingATruncatedHistoryKeepsItsFlags) {
  HistoryLimits limits;
  limits.addresses_per_entity = 1;
  HistoryBuilder builder(limits);
  builder.Add("e", Ip("10.0.0.1"), 1);
  builder.Add("e", Ip("10.0.0.1"), 1);
  builder.Add("e", Ip("10.0.0.2"), 2);
  HistoryBuilder merged;
  merged.Merge(std::move(builder).Finish());
  EntityHistory history = std::move(merged).Finish();
  const EntityRecord* e = history.Find("e");
  EXPECT_EQ(e->events, 3u);
  ASSERT_EQ(e->addresses.size(), 1u);
  EXPECT_TRUE(e->addresses_truncated);
  EXPECT_EQ(e->fine[0].events, 3u);
}

// An entity on more networks than its lists keep: the network it dropped still counts it.
TEST(HistoryBuilder, MergingATruncatedHistoryKeepsItsEntityCountsPerNetwork) {
  HistoryLimits limits;
  limits.fine_per_entity = 2;
  limits.coarse_per_entity = 1;
  HistoryBuilder builder(limits);
  for (int i = 0; i < 3; ++i) builder.Add("traveller", Ip("10.0.1.1"), 1);
  for (int i = 0; i < 2; ++i) builder.Add("traveller", Ip("10.0.2.1"), 1);
  builder.Add("traveller", Ip("10.0.3.1"), 1);  // the least used /24: dropped
  builder.Add("traveller", Ip("10.9.0.1"), 1);  // the least used /16: dropped
  builder.Add("local", Ip("10.0.3.7"), 1);
  const EntityHistory prepared = std::move(builder).Finish();
  ASSERT_TRUE(prepared.Find("traveller")->fine_truncated);
  ASSERT_EQ(prepared.EntitiesOnNetwork(Ip("10.0.3.0"), NetworkLevel::kFine), 2u);

  // What `train` does with prepare's history: merge it and finish again.
  HistoryBuilder merged(limits);
  merged.Merge(prepared);
  const EntityHistory trained = std::move(merged).Finish();
  ExpectSameHistory(prepared, trained);
  EXPECT_EQ(trained.EntitiesOnNetwork(Ip("10.0.3.0"), NetworkLevel::kFine), 2u);
  EXPECT_EQ(trained.EntitiesOnNetwork(Ip("10.9.0.0"), NetworkLevel::kCoarse), 1u);
  EXPECT_EQ(trained.EntitiesOnNetwork(Ip("10.0.0.0"), NetworkLevel::kCoarse), 2u);

  // Merged twice over (a history of a history) it stays the same.
  HistoryBuilder again(limits);
  again.Merge(trained);
  ExpectSameHistory(trained, std::move(again).Finish());
}

// Parts of one window (shards): each entity dropped from a part's list is counted from that
// part's table, so no network loses an entity; an entity dropped in two parts counts twice.
TEST(HistoryBuilder, MergingTruncatedPartsCountsBetweenTheExactCountAndThePartsSummed) {
  HistoryLimits limits;
  limits.fine_per_entity = 4;
  const std::vector<Event> events = SomeEvents(6000, 11);
  HistoryBuilder whole(limits),
      parts[3] = {HistoryBuilder(limits), HistoryBuilder(limits), HistoryBuilder(limits)};
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    whole.Add(e.entity, Ip(e.ip.c_str()), e.day);
    parts[i % 3].Add(e.entity, Ip(e.ip.c_str()), e.day);
  }
  const EntityHistory exact = std::move(whole).Finish();
  std::vector<EntityHistory> finished;
  HistoryBuilder merged(limits);
  for (HistoryBuilder& part : parts) {
    finished.push_back(std::move(part).Finish());
    merged.Merge(finished.back());
  }
  const EntityHistory from_parts = std::move(merged).Finish();
  size_t truncated = 0;
  for (const EntityRecord& record : exact.records()) {
    truncated += record.fine_truncated;
    for (const NetworkUse& use : record.fine) {
      const uint64_t counted = from_parts.EntitiesOnNetwork(use.network.base, NetworkLevel::kFine);
      uint64_t summed = 0;
      for (const EntityHistory& part : finished) {
        summed += part.EntitiesOnNetwork(use.network.base, NetworkLevel::kFine);
      }
      EXPECT_GE(counted, exact.EntitiesOnNetwork(use.network.base, NetworkLevel::kFine));
      EXPECT_LE(counted, summed);
    }
  }
  EXPECT_GT(truncated, 0u) << "the events should truncate some entities' lists";
}

// A role used from a whole NAT pool: 200,000 distinct addresses, three of them daily. The
// builder keeps a bounded working list (HistoryBuilder::Impl::BoundAddresses), and the
// addresses that keep coming back are the ones kept, with their counts.
TEST(HistoryBuilder, AnEntityOnCountlessAddressesKeepsItsFrequentOnes) {
  HistoryBuilder builder;
  uint32_t pool = 0x64400000u;  // 100.64.0.0/10, one new address per event
  for (int i = 0; i < 200000; ++i) {
    builder.Add("role", IpAddress::FromV4(pool++), 1);
    if (i % 100 == 0) {
      builder.Add("role", Ip("198.51.100.1"), 1);
      builder.Add("role", Ip("198.51.100.2"), 1);
      builder.Add("role", Ip("198.51.100.3"), 1);
    }
  }
  builder.Add("other", Ip("100.64.0.1"), 1);
  const EntityHistory history = std::move(builder).Finish();
  const EntityRecord* role = history.Find("role");
  ASSERT_NE(role, nullptr);
  EXPECT_EQ(role->events, 206000u);
  EXPECT_TRUE(role->addresses_truncated);
  ASSERT_EQ(role->addresses.size(), 64u);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(role->addresses[k].ip, Ip(("198.51.100." + std::to_string(k + 1)).c_str()));
    EXPECT_EQ(role->addresses[k].events, 2000u);
  }
  // Networks are whole: every /24 of the pool counts the role, the shared one both.
  EXPECT_EQ(history.EntitiesOnNetwork(Ip("100.64.0.1"), NetworkLevel::kFine), 2u);
  EXPECT_EQ(history.EntitiesOnNetwork(Ip("100.67.13.1"), NetworkLevel::kFine), 1u);
  EXPECT_EQ(role->fine[0].network.ToString(), "198.51.100.0/24");
  EXPECT_EQ(role->fine[0].events, 6000u);
}

// One entity over two parts that keep different networks: the part that dropped a network
// counts the entity on it, the part that kept it counts it again. A network never counts
// more entities than the history has, so the file reads back.
TEST(HistoryBuilder, MergedPartsNeverCountMoreEntitiesThanTheyHave) {
  HistoryLimits limits;
  limits.fine_per_entity = 2;
  HistoryBuilder first(limits), second(limits);
  for (int i = 0; i < 3; ++i) first.Add("key", Ip("10.0.1.1"), 1);
  for (int i = 0; i < 2; ++i) first.Add("key", Ip("10.0.2.1"), 1);
  first.Add("key", Ip("10.0.3.1"), 1);                               // dropped by the first part
  for (int i = 0; i < 3; ++i) second.Add("key", Ip("10.0.3.1"), 2);  // kept by the second
  HistoryBuilder merged(limits);
  merged.Merge(std::move(first).Finish());
  merged.Merge(std::move(second).Finish());
  const EntityHistory history = std::move(merged).Finish();
  EXPECT_EQ(history.EntitiesOnNetwork(Ip("10.0.3.1"), NetworkLevel::kFine), 1u);
  const std::string file = (std::filesystem::temp_directory_path() /
                            ("ipinsights_merged_parts_" + std::to_string(::getpid())))
                               .string();
  WriteHistoryFile(history, file);
  const EntityHistory again = ReadHistoryFile(file);
  std::filesystem::remove(file);
  EXPECT_EQ(again.EntitiesOnNetwork(Ip("10.0.3.1"), NetworkLevel::kFine), 1u);
  EXPECT_EQ(again.entities(), 1u);
}

TEST(HistoryBuilder, FindsManyEntities) {
  HistoryBuilder builder;
  for (int i = 0; i < 20000; ++i) {
    builder.Add("entity-" + std::to_string(i), IpAddress::FromV4(0x0a000000u + i), i % 5);
  }
  EntityHistory history = std::move(builder).Finish();
  EXPECT_EQ(history.entities(), 20000u);
  for (int i = 0; i < 20000; i += 997) {
    const EntityRecord* record = history.Find("entity-" + std::to_string(i));
    ASSERT_NE(record, nullptr);
    EXPECT_EQ(record->addresses[0].ip, IpAddress::FromV4(0x0a000000u + i));
  }
  EXPECT_EQ(history.Find("entity-20000"), nullptr);
  EXPECT_EQ(history.EntitiesOnNetwork(Ip("10.0.1.0"), NetworkLevel::kFine), 256u);
}

}  // namespace
}  // namespace ipinsights
