#include "ipinsights/train/novelty_fit.h"

#include <gtest/gtest.h>

#include <cmath>
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
  uint64_t EntityRow(const std::string& entity) {
    return model_->impl().EntityRowOfHash(model_->impl().EntityHash(entity));
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
  const std::vector<float> log_rate = EntityNoveltyLogRates(model_->impl(), rows, &mean_rate);
  ASSERT_EQ(log_rate.size(), 1000u);
  ASSERT_NE(EntityRow("home"), EntityRow("traveller"));
  // Once-used networks: the traveller's 20, the v6 entity's 2001:db9::/32.
  EXPECT_DOUBLE_EQ(mean_rate, 21.0 / rows.size());
  EXPECT_FLOAT_EQ(std::exp(log_rate[EntityRow("home")]), ShrunkNoveltyRate(0, 100, mean_rate));
  EXPECT_FLOAT_EQ(std::exp(log_rate[EntityRow("traveller")]),
                  ShrunkNoveltyRate(20, 102, mean_rate));
  EXPECT_FLOAT_EQ(std::exp(log_rate[EntityRow("v6")]), ShrunkNoveltyRate(1, 3, mean_rate));
  EXPECT_GT(log_rate[EntityRow("traveller")], log_rate[EntityRow("home")]);
  // An entity never seen has the population's rate.
  EXPECT_FLOAT_EQ(std::exp(log_rate[EntityRow("stranger")]), mean_rate);
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
  EXPECT_GE(a.recall_with_novelty, a.recall_dot_product);
  EXPECT_EQ(a.recall_with_novelty, b.recall_with_novelty);
  EXPECT_EQ(a.novelty.model_weight, b.novelty.model_weight);
  EXPECT_EQ(a.novelty.model_offset, b.novelty.model_offset);
  EXPECT_EQ(a.novelty.log_rate, b.novelty.log_rate);
  EXPECT_EQ(a.novelty.empty(), a.recall_with_novelty == a.recall_dot_product);
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
}

}  // namespace
}  // namespace ipinsights
