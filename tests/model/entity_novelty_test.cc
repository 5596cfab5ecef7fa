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

TEST(EntityNovelty, EmptyLeavesTheDotProduct) {
  const EntityNovelty empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.Adjust(3.25f, 0), 3.25f);
  EXPECT_EQ(empty.Adjust(-40.0f, 7), -40.0f);
}

TEST(EntityNovelty, AdjustIsTheLogOfTheMixtureWithoutOverflow) {
  const EntityNovelty novelty = Novelty(7);
  for (float dot : {-200.0f, -10.0f, 0.0f, 3.0f, 200.0f}) {
    for (uint64_t row : {0u, 1u, 2u}) {
      const double x = 0.5 * dot - 2.0;
      const double expected =
          std::log(std::exp(x) + std::exp(double(novelty.log_rate[row]) + std::min(0.0, x + 20)));
      EXPECT_NEAR(novelty.Adjust(dot, row), expected, 1e-5 * std::max(1.0, std::fabs(expected)))
          << dot << " " << row;
    }
  }
  // A pair the model finds mildly anomalous scores about its entity's novelty rate...
  EXPECT_NEAR(novelty.Adjust(-20.0f, 2), novelty.log_rate[2], 0.001);
  // ...and one it is sure of, past fade_below, falls under it whatever the rate.
  EXPECT_LT(novelty.Adjust(-80.0f, 6), novelty.log_rate[6] - 10);
  // Monotone in the dot product.
  EXPECT_LT(novelty.Adjust(1.0f, 1), novelty.Adjust(1.5f, 1));
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
  for (const char* bad :
       {"{}", "{\"model_weight\": 1}",
        "{\"model_weight\": 0, \"model_offset\": 1, \"fade_below\": 0}",
        "{\"model_weight\": -1, \"model_offset\": 1, \"fade_below\": 0}",
        "{\"model_weight\": 1, \"model_offset\": 1}",
        "{\"model_weight\": 1, \"model_offset\": 1, \"fade_below\": 0, \"mean_rate\": 2}", "[1]",
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
  EXPECT_EQ(loaded->Score("alice", ip), loaded->impl().novelty.Adjust(dot, row));
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

TEST_F(EntityNoveltyModelTest, MissingOrNonFiniteRatesAreRejected) {
  std::shared_ptr<Model> model = Model::Create(hp_, 5);
  model->impl().novelty = Novelty(50);
  model->impl().novelty.log_rate[9] = std::numeric_limits<float>::quiet_NaN();
  model->Save(path_);
  try {
    Model::Load(path_);
    ADD_FAILURE() << "accepted a NaN rate";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("entity novelty rate[9]"));
  }
  // The header names the rates, so a file without them is short.
  model->impl().novelty.log_rate[9] = 0;
  model->Save(path_);
  const std::string bytes = ReadWholeObject(path_);
  WriteWholeObject(path_,
                   bytes.substr(0, bytes.size() - 8 - 4 * 50) + bytes.substr(bytes.size() - 8));
  try {
    Model::Load(path_);
    ADD_FAILURE() << "accepted a file without its rates";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("truncated model file"));
  }
}

}  // namespace
}  // namespace ipinsights
