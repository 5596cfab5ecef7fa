#include "ipinsights/model/entity_novelty.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "../testing/scratch_test.h"
#include "ipinsights/base/error.h"
#include "ipinsights/model/model.h"
#include "ipinsights/model/model_impl.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

using ::testing::HasSubstr;

EntityNovelty Novelty(size_t rows) {
  EntityNovelty novelty;
  novelty.model_weight = 0.5f;
  novelty.model_offset = -2;
  novelty.fade_below = -20;
  novelty.mean_rate = 0.02;
  novelty.source = "validation";
  for (size_t row = 0; row < rows; ++row) {
    novelty.log_rate.push_back(std::log(0.001f + 0.01f * static_cast<float>(row % 7)));
  }
  return novelty;
}

const IpAddress kIp = *IpAddress::Parse("198.51.100.7");

// Model::Load(path) must fail with an Error whose message has `part`.
void ExpectLoadFails(const std::string& path, const std::string& part) {
  try {
    Model::Load(path);
    ADD_FAILURE() << path << " loaded; expected an error with \"" << part << "\"";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(part));
  }
}

// The network term on `novelty`: shares for 198.51.0.0/16 (popular), 2001:db8::/32 (used by
// one entity) and every other slot (unused), the average network used by 3 entities.
void AddNetworkShares(EntityNovelty* novelty, float network_weight) {
  novelty->network_weight = network_weight;
  novelty->mean_network_entities = 3;
  novelty->log_network_share.assign(kNetworkSlots, LogNetworkShare(0, 3));
  novelty->log_network_share[NetworkSlot(kIp)] = LogNetworkShare(40, 3);
  novelty->log_network_share[NetworkSlot(*IpAddress::Parse("2001:db8::1"))] = LogNetworkShare(1, 3);
}

TEST(EntityNovelty, EmptyLeavesTheDotProduct) {
  const EntityNovelty empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.Adjust(3.25f, 0, kIp), 3.25f);
  EXPECT_EQ(empty.Adjust(-40.0f, 7, kIp), -40.0f);
}

TEST(EntityNovelty, AdjustIsTheLogOfTheMixtureWithoutOverflow) {
  const EntityNovelty novelty = Novelty(7);
  for (float dot : {-200.0f, -10.0f, 0.0f, 3.0f, 200.0f}) {
    for (uint64_t row : {0u, 1u, 2u}) {
      const double x = 0.5 * dot - 2.0;
      const double expected =
          std::log(std::exp(x) + std::exp(double(novelty.log_rate[row]) + std::min(0.0, x + 20)));
      EXPECT_NEAR(novelty.Adjust(dot, row, kIp), expected,
                  1e-5 * std::max(1.0, std::fabs(expected)))
          << dot << " " << row;
    }
  }
  // A pair the model finds mildly anomalous scores about its entity's novelty rate...
  EXPECT_NEAR(novelty.Adjust(-20.0f, 2, kIp), novelty.log_rate[2], 0.001);
  // ...and one it is sure of, past fade_below, falls under it whatever the rate.
  EXPECT_LT(novelty.Adjust(-80.0f, 6, kIp), novelty.log_rate[6] - 10);
  // Monotone in the dot product.
  EXPECT_LT(novelty.Adjust(1.0f, 1, kIp), novelty.Adjust(1.5f, 1, kIp));
}

TEST(EntityNovelty, TheNetworkShareRaisesPopularNetworksAndLowersUnusedOnes) {
  EntityNovelty novelty = Novelty(7);
  novelty.fade_below = -std::numeric_limits<float>::infinity();
  AddNetworkShares(&novelty, 0.5f);
  const IpAddress unused = *IpAddress::Parse("203.0.113.9");
  const IpAddress v6 = *IpAddress::Parse("2001:db8:ffff::2");  // the same /32 as 2001:db8::1
  for (float dot : {-60.0f, -10.0f, 0.0f, 4.0f}) {
    for (const IpAddress& ip : {kIp, unused, v6}) {
      const double x = 0.5 * dot - 2.0;
      const double expected =
          std::log(std::exp(x) +
                   std::exp(double(novelty.log_rate[3])) *
                       std::pow(std::exp(double(novelty.log_network_share[NetworkSlot(ip)])), 0.5));
      EXPECT_NEAR(novelty.Adjust(dot, 3, ip), expected, 1e-5 * std::max(1.0, std::fabs(expected)))
          << dot << " " << ip.ToString();
    }
  }
  // Where the model knows nothing, the rate decides: raised by 40 other entities' use of the
  // network ((41 / 4)^0.5), lowered where no one went ((1 / 4)^0.5).
  EXPECT_NEAR(novelty.Adjust(-60.0f, 3, kIp), novelty.log_rate[3] + 0.5 * std::log(41.0 / 4), 1e-4);
  EXPECT_NEAR(novelty.Adjust(-60.0f, 3, unused), novelty.log_rate[3] + 0.5 * std::log(1.0 / 4),
              1e-4);
  EXPECT_NEAR(novelty.Adjust(-60.0f, 3, v6), novelty.log_rate[3] + 0.5 * std::log(2.0 / 4), 1e-4);
  // Weight 0 with a table: the rate alone.
  novelty.network_weight = 0;
  EXPECT_NEAR(novelty.Adjust(-60.0f, 3, kIp), novelty.log_rate[3], 1e-4);
}

TEST(EntityNovelty, NetworkSlotsAreSlash16AndSlash32) {
  EXPECT_EQ(NetworkSlot(*IpAddress::Parse("10.1.0.0")),
            NetworkSlot(*IpAddress::Parse("10.1.255.9")));
  EXPECT_EQ(NetworkSlot(*IpAddress::Parse("10.1.0.0")), size_t{0x0a01});
  EXPECT_NE(NetworkSlot(*IpAddress::Parse("10.1.0.0")), NetworkSlot(*IpAddress::Parse("10.2.0.0")));
  const size_t v6 = NetworkSlot(*IpAddress::Parse("2001:db8::1"));
  EXPECT_GE(v6, size_t{65536});
  EXPECT_LT(v6, kNetworkSlots);
  EXPECT_EQ(v6, NetworkSlot(*IpAddress::Parse("2001:db8:abcd:1::7")));
  EXPECT_NE(v6, NetworkSlot(*IpAddress::Parse("2001:db9::1")));
}

TEST(EntityNovelty, RatesAreFoundBySlotOrByRowInOlderModels) {
  EntityNovelty novelty;
  EXPECT_EQ(novelty.RateIndex(0x1234567890ULL, 17), 17u);  // the release before: per row
  novelty.rate_slots = 1024;
  const uint64_t slot = novelty.RateIndex(0x1234567890ULL, 17);
  EXPECT_LT(slot, 1024u);
  // Pinned: a saved model's rates are found by these values (docs/formats/model-file.md).
  EXPECT_EQ(slot, 494u);
  EXPECT_EQ(NetworkSlot(*IpAddress::Parse("2001:db8::1")), 96631u);
  // Entities sharing a row (hash % rows) get slots of their own.
  int same = 0;
  for (uint64_t h = 0; h < 1000; ++h) same += RateSlot(h * 2000, 1 << 16) == RateSlot(0, 1 << 16);
  EXPECT_LE(same, 2);
  EXPECT_EQ(RateSlotsFor(0), 1024u);
  EXPECT_EQ(RateSlotsFor(100), 2048u);
  EXPECT_EQ(RateSlotsFor(10000), 262144u);
  EXPECT_EQ(RateSlotsFor(100000000), uint64_t{1} << 22);
}

TEST(EntityNovelty, ShrinksFewEventsTowardsTheMeanRate) {
  EXPECT_DOUBLE_EQ(ShrunkNoveltyRate(0, 0, 0.03), 0.03);
  // Many events: near the entity's own share.
  EXPECT_NEAR(ShrunkNoveltyRate(100, 1000, 0.03), 0.1, 0.003);
  // Two events, both once-used networks: pulled most of the way to the mean.
  EXPECT_LT(ShrunkNoveltyRate(2, 2, 0.03), 0.15);
}

TEST(EntityNovelty, JsonRoundTripsAndBadObjectsAreNamed) {
  const EntityNovelty novelty = Novelty(0);
  const EntityNovelty back = ParseEntityNoveltyJson(EntityNoveltyJson(novelty), "m");
  EXPECT_EQ(back.model_weight, novelty.model_weight);
  EXPECT_EQ(back.model_offset, novelty.model_offset);
  EXPECT_EQ(back.fade_below, novelty.fade_below);
  EXPECT_EQ(back.mean_rate, novelty.mean_rate);
  EXPECT_EQ(back.source, "validation");
  EXPECT_EQ(back.rate_slots, 0u);
  EXPECT_TRUE(back.log_network_share.empty());
  // Today's fit: no fade (no key), rates per slot, the network term.
  EntityNovelty current = Novelty(0);
  current.fade_below = -std::numeric_limits<float>::infinity();
  current.rate_slots = 4096;
  AddNetworkShares(&current, 0.25f);
  const std::string json = EntityNoveltyJson(current);
  EXPECT_THAT(json, ::testing::Not(HasSubstr("fade_below")));
  const EntityNovelty current_back = ParseEntityNoveltyJson(json, "m");
  EXPECT_EQ(current_back.fade_below, -std::numeric_limits<float>::infinity());
  EXPECT_EQ(current_back.rate_slots, 4096u);
  EXPECT_EQ(current_back.network_weight, 0.25f);
  EXPECT_EQ(current_back.mean_network_entities, 3.0);
  EXPECT_EQ(current_back.network_slots, kNetworkSlots);  // the model file reads the shares
  for (const char* bad :
       {"{}", "{\"model_weight\": 1}",
        "{\"model_weight\": 0, \"model_offset\": 1, \"fade_below\": 0}",
        "{\"model_weight\": -1, \"model_offset\": 1, \"fade_below\": 0}",
        "{\"model_weight\": 1, \"model_offset\": 1, \"fade_below\": 1e39}",
        "{\"model_weight\": 1, \"model_offset\": 1, \"fade_below\": -1e39}",
        "{\"model_weight\": 1, \"model_offset\": 1, \"fade_below\": 0, \"mean_rate\": 2}",
        "{\"model_weight\": 1, \"model_offset\": 1, \"rate_slots\": 1000}",
        "{\"model_weight\": 1, \"model_offset\": 1, \"rate_slots\": 1099511627776}",
        "{\"model_weight\": 1, \"model_offset\": 1, \"network_slots\": 65536}",
        "{\"model_weight\": 1, \"model_offset\": 1, \"network_weight\": -1}",
        "{\"model_weight\": 1, \"model_offset\": 1, \"network_weight\": 9}",
        "{\"model_weight\": 1, \"model_offset\": 1, \"mean_network_entities\": -3}", "[1]",
        "{\"model_weight\": "}) {
    SCOPED_TRACE(bad);
    try {
      ParseEntityNoveltyJson(bad, "where.ipinsights");
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("where.ipinsights: entity_novelty"));
    }
  }
}

class EntityNoveltyModelTest : public testing::ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    hp_.num_entity_vectors = 50;
    hp_.vector_dim = 8;
    hp_.num_ip_encoder_layers = 1;
    hp_.ip_hash_buckets = 2048;
    path_ = (dir_ / "model.ipinsights").string();
  }
  std::string path_;
  Hyperparameters hp_;
};

TEST_F(EntityNoveltyModelTest, ScoreAddsTheNoveltyAndDotProductStaysSageMakers) {
  std::shared_ptr<Model> model = Model::Create(hp_, 5);
  const IpAddress ip = *IpAddress::Parse("198.51.100.7");
  const float dot = model->Score("alice", ip);
  EXPECT_EQ(model->DotProduct("alice", ip), dot);
  model->impl().novelty = Novelty(50);
  // A created model scores batches through the window of folded entities (a loaded one
  // folds every entity at load): both paths add the novelty.
  {
    const std::string_view names[] = {"alice", "bob", "alice"};
    const IpAddress addresses[] = {ip, *IpAddress::Parse("203.0.113.1"), ip};
    float batch[3];
    model->ScoreBatch(names, addresses, 3, batch);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(batch[i], model->Score(names[i], addresses[i])) << i;
    EXPECT_NE(batch[0], dot);
  }
  model->Save(path_);
  const std::shared_ptr<const Model> loaded = Model::Load(path_);
  EXPECT_EQ(loaded->impl().novelty.log_rate, model->impl().novelty.log_rate);
  EXPECT_EQ(loaded->impl().novelty.model_offset, -2.0f);
  const uint64_t row = loaded->impl().EntityRowOfHash(loaded->impl().EntityHash("alice"));
  EXPECT_EQ(loaded->DotProduct("alice", ip), dot);
  EXPECT_EQ(loaded->Score("alice", ip), loaded->impl().novelty.Adjust(dot, row, ip));
  // The batch paths agree with the single ones, bit for bit.
  const std::string_view entities[] = {"alice", "bob", "alice"};
  const IpAddress ips[] = {ip, *IpAddress::Parse("2001:db8::1"), *IpAddress::Parse("10.1.2.3")};
  float scores[3], dots[3];
  loaded->ScoreBatch(entities, ips, 3, scores);
  loaded->DotProductBatch(entities, ips, 3, dots);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(scores[i], loaded->Score(entities[i], ips[i])) << i;
    EXPECT_EQ(dots[i], loaded->DotProduct(entities[i], ips[i])) << i;
  }
  // Saving again gives the same bytes.
  loaded->Save(path_ + ".again");
  EXPECT_EQ(ReadWholeObject(path_ + ".again"), ReadWholeObject(path_));
}

// Today's fit: rates per slot of the entity's hash and the network term, saved and loaded
// with the same scores through every path.
TEST_F(EntityNoveltyModelTest, RateSlotsAndNetworkSharesTravelWithTheModel) {
  std::shared_ptr<Model> model = Model::Create(hp_, 5);
  EntityNovelty novelty = Novelty(1024);
  novelty.fade_below = -std::numeric_limits<float>::infinity();
  novelty.rate_slots = 1024;
  AddNetworkShares(&novelty, 0.5f);
  model->impl().novelty = novelty;
  const std::string_view entities[] = {"alice", "bob", "alice", "carol"};
  const IpAddress ips[] = {kIp, *IpAddress::Parse("2001:db8::1"), *IpAddress::Parse("203.0.113.4"),
                           kIp};
  const Model::Impl& impl = model->impl();
  for (int i = 0; i < 4; ++i) {
    const uint64_t hash = impl.EntityHash(entities[i]);
    const float dot = model->DotProduct(entities[i], ips[i]);
    EXPECT_EQ(model->Score(entities[i], ips[i]), novelty.Adjust(dot, RateSlot(hash, 1024), ips[i]))
        << i;
  }
  model->Save(path_);
  const std::shared_ptr<const Model> loaded = Model::Load(path_);
  EXPECT_EQ(loaded->impl().novelty.rate_slots, 1024u);
  EXPECT_EQ(loaded->impl().novelty.log_rate, novelty.log_rate);
  EXPECT_EQ(loaded->impl().novelty.log_network_share, novelty.log_network_share);
  EXPECT_EQ(loaded->impl().novelty.fade_below, -std::numeric_limits<float>::infinity());
  float batch[4], created[4];
  loaded->ScoreBatch(entities, ips, 4, batch);
  model->ScoreBatch(entities, ips, 4, created);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(batch[i], loaded->Score(entities[i], ips[i])) << i;
    EXPECT_EQ(created[i], batch[i]) << i;
  }
  loaded->Save(path_ + ".again");
  EXPECT_EQ(ReadWholeObject(path_ + ".again"), ReadWholeObject(path_));
  // A non-finite share is named; a file short of its shares is truncated.
  model->impl().novelty.log_network_share[77] = std::numeric_limits<float>::infinity();
  model->Save(path_);
  ExpectLoadFails(path_, "network share[77]");
  model->impl().novelty.log_network_share[77] = 0;
  model->Save(path_);
  const std::string bytes = ReadWholeObject(path_);
  WriteWholeObject(path_,
                   bytes.substr(0, bytes.size() - 8 - 4 * 10) + bytes.substr(bytes.size() - 8));
  ExpectLoadFails(path_, "truncated model file");
}

// A model file of the release before rate slots and the network term (format version 1, a
// fade, rates per entity row: the fuzz corpus keeps one, written by that release) scores as
// that release did, and saving it again gives the same bytes.
TEST_F(EntityNoveltyModelTest, AModelOfTheReleaseBeforeScoresAsItDid) {
  const std::string old_file =
      std::string(IPINSIGHTS_SOURCE_DIR) + "/fuzz/corpus/model_file/tiny-novelty.ipinsights";
  const std::shared_ptr<const Model> model = Model::Load(old_file);
  const EntityNovelty& novelty = model->impl().novelty;
  ASSERT_EQ(novelty.rate_slots, 0u);
  ASSERT_EQ(novelty.log_rate.size(), 8u);
  EXPECT_TRUE(novelty.log_network_share.empty());
  EXPECT_EQ(novelty.fade_below, -6.0f);
  for (const char* entity : {"alice", "bob", "carol", "dave"}) {
    for (const char* text : {"192.0.2.1", "2001:db8::5", "10.9.8.7"}) {
      const IpAddress ip = *IpAddress::Parse(text);
      const uint64_t row = model->impl().EntityRowOfHash(model->impl().EntityHash(entity));
      const double x = double(novelty.model_weight) * model->DotProduct(entity, ip) +
                       double(novelty.model_offset);
      const double expected =
          std::log(std::exp(x) + std::exp(double(novelty.log_rate[row]) + std::min(0.0, x + 6)));
      EXPECT_NEAR(model->Score(entity, ip), expected, 1e-5) << entity << " " << text;
    }
  }
  model->Save(path_);
  const std::string bytes = ReadWholeObject(path_);
  EXPECT_EQ(bytes, ReadWholeObject(old_file));
  EXPECT_EQ(bytes[8], 1);  // format version 1
}

TEST_F(EntityNoveltyModelTest, RateSlotsOrNetworkSharesMakeAVersion2File) {
  std::shared_ptr<Model> model = Model::Create(hp_, 5);
  EntityNovelty novelty = Novelty(1024);
  novelty.fade_below = -std::numeric_limits<float>::infinity();
  novelty.rate_slots = 1024;
  model->impl().novelty = novelty;
  model->Save(path_);
  std::string bytes = ReadWholeObject(path_);
  EXPECT_EQ(bytes[8], 2);
  // A version 1 file has no slots: one whose header names them is corrupted.
  std::string v1 = bytes;
  v1[8] = 1;
  WriteWholeObject(path_ + ".v1", v1);
  ExpectLoadFails(path_ + ".v1", "format version 1 with entity_novelty rate or network slots");
  // A header that says more slots than the file holds is truncated, not read past.
  const size_t at = bytes.find("\"rate_slots\": 1024");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 18, "\"rate_slots\": 2048");
  WriteWholeObject(path_, bytes);
  ExpectLoadFails(path_, "truncated model file");
  // The writer refuses arrays that do not match what its header would say.
  model->impl().novelty.log_rate.resize(1000);
  try {
    model->Save(path_);
    ADD_FAILURE() << "wrote 1000 rates for 1024 slots";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("does not match"));
  }
  model->impl().novelty.log_rate.resize(1024);
  model->impl().novelty.log_network_share.assign(100, 0.0f);
  EXPECT_THROW(model->Save(path_), Error);
}

TEST_F(EntityNoveltyModelTest, MissingOrNonFiniteRatesAreRejected) {
  std::shared_ptr<Model> model = Model::Create(hp_, 5);
  model->impl().novelty = Novelty(50);
  model->impl().novelty.log_rate[9] = std::numeric_limits<float>::quiet_NaN();
  model->Save(path_);
  ExpectLoadFails(path_, "entity novelty rate[9]");
  // The header names the rates, so a file without them is short.
  model->impl().novelty.log_rate[9] = 0;
  model->Save(path_);
  const std::string bytes = ReadWholeObject(path_);
  WriteWholeObject(path_,
                   bytes.substr(0, bytes.size() - 8 - 4 * 50) + bytes.substr(bytes.size() - 8));
  ExpectLoadFails(path_, "truncated model file");
}

}  // namespace
}  // namespace ipinsights
