#include "ipinsights/train/novelty_fit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ipinsights/model/model.h"
#include "ipinsights/model/model_impl.h"
#include "ipinsights/train/row_scores.h"

namespace ipinsights {
namespace {

class NoveltyFitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Hyperparameters hp;
    hp.num_entity_vectors = 1000;
    hp.vector_dim = 8;
    hp.ip_hash_buckets = 4096;
    model_ = Model::Create(hp, 3);
  }
  TrainingRow Row(const std::string& entity, const char* ip) {
    return {model_->impl().EntityHash(entity), *IpAddress::Parse(ip)};
  }
  uint64_t Slot(const std::string& entity, uint64_t slots) {
    return RateSlot(model_->impl().EntityHash(entity), slots);
  }
  std::shared_ptr<Model> model_;
};

TEST_F(NoveltyFitTest, RatesCountOnceUsedNetworksAndShrinkFewEvents) {
  std::vector<TrainingRow> rows;
  // home: 100 events on one /16; traveller: 80 at home and 20 on 20 other /16s (a new
  // address in the same /16 twice is not new: 203.0.0.0/16 counts once, with two events).
  for (int i = 0; i < 100; ++i) rows.push_back(Row("home", "198.51.100.7"));
  for (int i = 0; i < 80; ++i) rows.push_back(Row("traveller", "192.0.2.1"));
  for (int i = 0; i < 20; ++i) {
    rows.push_back(Row("traveller", ("100." + std::to_string(i) + ".1.1").c_str()));
  }
  rows.push_back(Row("traveller", "203.0.1.1"));
  rows.push_back(Row("traveller", "203.0.200.9"));
  // IPv6 networks are /32s.
  rows.push_back(Row("v6", "2001:db8:1::1"));
  rows.push_back(Row("v6", "2001:db8:2::1"));
  rows.push_back(Row("v6", "2001:db9::1"));
  double mean_rate = 0;
  uint64_t slots = 0;
  const std::vector<float> log_rate = EntityNoveltyLogRates(rows, &slots, &mean_rate);
  EXPECT_EQ(slots, 1024u);  // 3 entities: the least
  ASSERT_EQ(log_rate.size(), slots);
  ASSERT_NE(Slot("home", slots), Slot("traveller", slots));
  // Once-used networks: the traveller's 20, the v6 entity's 2001:db9::/32.
  EXPECT_DOUBLE_EQ(mean_rate, 21.0 / rows.size());
  EXPECT_FLOAT_EQ(std::exp(log_rate[Slot("home", slots)]), ShrunkNoveltyRate(0, 100, mean_rate));
  EXPECT_FLOAT_EQ(std::exp(log_rate[Slot("traveller", slots)]),
                  ShrunkNoveltyRate(20, 102, mean_rate));
  EXPECT_FLOAT_EQ(std::exp(log_rate[Slot("v6", slots)]), ShrunkNoveltyRate(1, 3, mean_rate));
  EXPECT_GT(log_rate[Slot("traveller", slots)], log_rate[Slot("home", slots)]);
  // An entity never seen has the population's rate.
  EXPECT_FLOAT_EQ(std::exp(log_rate[Slot("stranger", slots)]), mean_rate);
}

TEST_F(NoveltyFitTest, RatesAreEachEntitysOwnWhereTheyShareAnEntityRow) {
  // Two entities of one entity row (hash % 1000): a traveller and a homebody.
  std::string traveller = "t", homebody;
  const uint64_t row = model_->impl().EntityRowOfHash(model_->impl().EntityHash(traveller));
  for (int i = 0; homebody.empty(); ++i) {
    const std::string name = "h" + std::to_string(i);
    if (model_->impl().EntityRowOfHash(model_->impl().EntityHash(name)) == row) homebody = name;
  }
  std::vector<TrainingRow> rows;
  for (int i = 0; i < 50; ++i) {
    rows.push_back(Row(traveller, ("100." + std::to_string(i) + ".1.1").c_str()));
    rows.push_back(Row(homebody, "192.0.2.1"));
  }
  double mean_rate = 0;
  uint64_t slots = 0;
  const std::vector<float> log_rate = EntityNoveltyLogRates(rows, &slots, &mean_rate);
  ASSERT_NE(Slot(traveller, slots), Slot(homebody, slots));
  EXPECT_FLOAT_EQ(std::exp(log_rate[Slot(traveller, slots)]), ShrunkNoveltyRate(50, 50, mean_rate));
  EXPECT_FLOAT_EQ(std::exp(log_rate[Slot(homebody, slots)]), ShrunkNoveltyRate(0, 50, mean_rate));
}

TEST_F(NoveltyFitTest, NetworkSharesCountEntitiesNotEvents) {
  std::vector<TrainingRow> rows;
  // 198.51.0.0/16: 4 entities (one of them with 100 events); 192.0.0.0/16: 1 entity;
  // 2001:db8::/32: 2 entities on different /48s; 3 networks used, 7 entities on them.
  for (int i = 0; i < 100; ++i) rows.push_back(Row("busy", "198.51.100.7"));
  for (const char* e : {"a", "b", "c"}) rows.push_back(Row(e, "198.51.7.1"));
  rows.push_back(Row("a", "192.0.2.1"));
  rows.push_back(Row("b", "2001:db8:1::1"));
  rows.push_back(Row("c", "2001:db8:2::1"));
  double mean = 0;
  const std::vector<float> share = NetworkLogShares(rows, &mean);
  ASSERT_EQ(share.size(), kNetworkSlots);
  EXPECT_DOUBLE_EQ(mean, 7.0 / 3);
  EXPECT_FLOAT_EQ(share[NetworkSlot(*IpAddress::Parse("198.51.0.1"))], LogNetworkShare(4, mean));
  EXPECT_FLOAT_EQ(share[NetworkSlot(*IpAddress::Parse("192.0.200.1"))], LogNetworkShare(1, mean));
  EXPECT_FLOAT_EQ(share[NetworkSlot(*IpAddress::Parse("2001:db8:ffff::9"))],
                  LogNetworkShare(2, mean));
  EXPECT_FLOAT_EQ(share[NetworkSlot(*IpAddress::Parse("203.0.113.1"))], LogNetworkShare(0, mean));
  EXPECT_GT(share[NetworkSlot(*IpAddress::Parse("198.51.0.1"))], 0);
  EXPECT_LT(share[NetworkSlot(*IpAddress::Parse("203.0.113.1"))], 0);
}

// Where people work and travel on networks many of them use and the drawn addresses are
// hosts of any network, most of them used by one or two entities, the fit takes the
// network term. (The model is untrained: its dot product is noise, so the rates alone, all
// alike here, could not tell the normal pairs from the drawn ones.)
TEST_F(NoveltyFitTest, TakesTheNetworkTermWhenTripsGoWhereOthersGo) {
  std::vector<TrainingRow> train, holdout;
  const char* popular[] = {"60.1.0.1", "60.2.0.1", "60.3.0.1"};
  for (int e = 0; e < 400; ++e) {
    const std::string entity = "user" + std::to_string(e);
    // Homes: 20 offices of 20 people each.
    const std::string home = "11." + std::to_string(e % 20) + ".0.1";
    for (int i = 0; i < 40; ++i) train.push_back(Row(entity, home.c_str()));
    // Every entity travels: two trips in training, on popular networks or a rare one.
    train.push_back(Row(entity, popular[e % 3]));
    train.push_back(Row(entity, ("150." + std::to_string(e % 250) + ".9.9").c_str()));
    for (int i = 0; i < 18; ++i) holdout.push_back(Row(entity, home.c_str()));
    holdout.push_back(Row(entity, popular[(e + 1) % 3]));
    holdout.push_back(Row(entity, popular[(e + 2) % 3]));
  }
  const NoveltyFit fit = FitEntityNovelty(model_->impl(), train, holdout, 0.05, 4, 2);
  ASSERT_FALSE(fit.novelty.empty());
  EXPECT_GT(fit.novelty.network_weight, 0);
  EXPECT_EQ(fit.novelty.log_network_share.size(), kNetworkSlots);
  EXPECT_GT(fit.novelty.mean_network_entities, 1);
  EXPECT_GT(fit.novelty.rate_slots, 0u);
  EXPECT_EQ(fit.novelty.log_rate.size(), fit.novelty.rate_slots);
  EXPECT_GT(fit.caught_with_novelty, fit.caught_dot_product + 0.1);
}

TEST_F(NoveltyFitTest, NothingToFitOnIsNoNovelty) {
  const std::vector<TrainingRow> rows = {Row("a", "192.0.2.1")};
  const NoveltyFit fit = FitEntityNovelty(model_->impl(), rows, {}, 0.01, 1, 1);
  EXPECT_TRUE(fit.novelty.empty());
  EXPECT_EQ(fit.holdout_pairs, 0u);
}

TEST_F(NoveltyFitTest, IsDeterministicAndNeverWorseThanTheDotProductOnItsHoldout) {
  std::vector<TrainingRow> train, holdout;
  for (int e = 0; e < 200; ++e) {
    const std::string entity = "user" + std::to_string(e);
    const std::string home = "10." + std::to_string(e % 50) + ".0.1";
    for (int i = 0; i < 30; ++i) train.push_back(Row(entity, home.c_str()));
    for (int i = 0; i < e % 5; ++i) {
      train.push_back(Row(entity, ("172." + std::to_string((e * 7 + i) % 200) + ".3.3").c_str()));
    }
    for (int i = 0; i < 25; ++i) holdout.push_back(Row(entity, home.c_str()));
  }
  const NoveltyFit a = FitEntityNovelty(model_->impl(), train, holdout, 0.01, 9, 2);
  const NoveltyFit b = FitEntityNovelty(model_->impl(), train, holdout, 0.01, 9, 1);
  EXPECT_EQ(a.holdout_pairs, holdout.size());
  EXPECT_EQ(a.drawn_pairs, holdout.size());
  // Too few normal pairs for a tail at 1%: no fit at all.
  const std::vector<TrainingRow> few(holdout.begin(), holdout.begin() + 2000);
  const NoveltyFit none = FitEntityNovelty(model_->impl(), train, few, 0.01, 9, 2);
  EXPECT_TRUE(none.novelty.empty());
  EXPECT_EQ(none.drawn_pairs, 0u);
  EXPECT_GE(a.caught_with_novelty, a.caught_dot_product);
  EXPECT_EQ(a.caught_with_novelty, b.caught_with_novelty);
  EXPECT_EQ(a.novelty.model_weight, b.novelty.model_weight);
  EXPECT_EQ(a.novelty.model_offset, b.novelty.model_offset);
  EXPECT_EQ(a.novelty.log_rate, b.novelty.log_rate);
  EXPECT_EQ(a.novelty.network_weight, b.novelty.network_weight);
  EXPECT_EQ(a.novelty.log_network_share, b.novelty.log_network_share);
  EXPECT_EQ(a.novelty.empty(), a.caught_with_novelty == a.caught_dot_product);
}

// Calibration and the history's score summaries go through ScoreRows: with a novelty, it must
// give Model::Score (and the dot product when asked), as the consumers will see it.
TEST_F(NoveltyFitTest, RowScoresAreTheModelsScores) {
  Model::Impl& impl = model_->impl();
  impl.novelty.model_weight = 0.5f;
  impl.novelty.model_offset = -1;
  impl.novelty.fade_below = -3;
  impl.novelty.log_rate.assign(1000, std::log(0.05f));
  const std::vector<TrainingRow> rows = {Row("a", "192.0.2.1"), Row("b", "2001:db8::1"),
                                         Row("a", "100.64.3.2")};
  const std::vector<float> scores = ScoreRows(impl, rows, 2);
  const std::vector<float> dots = ScoreRows(impl, rows, 2, RowScore::kDotProduct);
  const char* entities[] = {"a", "b", "a"};
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_NEAR(scores[i], model_->Score(entities[i], rows[i].ip), 1e-5) << i;
    EXPECT_NEAR(dots[i], model_->DotProduct(entities[i], rows[i].ip), 1e-5) << i;
    EXPECT_NE(scores[i], dots[i]) << i;
  }
  // And with today's fit: rates per slot, the network term.
  impl.novelty.fade_below = -std::numeric_limits<float>::infinity();
  impl.novelty.rate_slots = 2048;
  impl.novelty.log_rate.assign(2048, std::log(0.05f));
  impl.novelty.log_rate[RateSlot(impl.EntityHash("a"), 2048)] = std::log(0.3f);
  impl.novelty.network_weight = 0.5f;
  impl.novelty.log_network_share.assign(kNetworkSlots, -1.0f);
  impl.novelty.log_network_share[NetworkSlot(rows[0].ip)] = 2.0f;
  const std::vector<float> current = ScoreRows(impl, rows, 2);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_NEAR(current[i], model_->Score(entities[i], rows[i].ip), 1e-5) << i;
    EXPECT_NE(current[i], scores[i]) << i;
  }
}

}  // namespace
}  // namespace ipinsights
