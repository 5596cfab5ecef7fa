#include "ipinsights/model/hyperparameters.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "ipinsights/base/error.h"

namespace ipinsights {
namespace {

using ::testing::HasSubstr;

std::string SetError(const std::string& name, const std::string& value) {
  Hyperparameters hp;
  try {
    hp.Set(name, value);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(Hyperparameters, DefaultsAreSageMakers) {
  Hyperparameters hp;
  EXPECT_EQ(hp.num_entity_vectors, 100000);
  EXPECT_EQ(hp.vector_dim, 128);
  EXPECT_EQ(hp.epochs, 10);
  EXPECT_DOUBLE_EQ(hp.learning_rate, 0.001);
  EXPECT_EQ(hp.mini_batch_size, 5000);
  EXPECT_EQ(hp.num_ip_encoder_layers, 1);
  EXPECT_EQ(hp.random_negative_sampling_rate, 1);
  EXPECT_EQ(hp.shuffled_negative_sampling_rate, 1);
  EXPECT_DOUBLE_EQ(hp.weight_decay, 0.00001);
  EXPECT_EQ(hp.batch_metrics_publish_interval, 1000);
  EXPECT_NO_THROW(hp.Validate());
}

struct Bound {
  const char* name;
  const char* lowest;
  const char* below;  // nullptr: no lower violation to test
  const char* highest;
  const char* above;  // nullptr: unbounded
  const char* range;
};

TEST(Hyperparameters, AcceptsEachBoundAndRejectsBeyondIt) {
  const Bound bounds[] = {
      {"num_entity_vectors", "1", "0", "250000000", "250000001", "1..250000000"},
      {"vector_dim", "4", "3", "4096", "4097", "4..4096"},
      {"epochs", "1", "0", "1000000", nullptr, ">= 1"},
      {"learning_rate", "1e-6", "9e-7", "10.0", "10.5", "1e-06..10"},
      {"mini_batch_size", "1", "0", "500000", "500001", "1..500000"},
      {"num_ip_encoder_layers", "0", "-1", "100", "101", "0..100"},
      {"random_negative_sampling_rate", "0", "-1", "500", "501", "0..500"},
      {"shuffled_negative_sampling_rate", "0", "-1", "500", "501", "0..500"},
      {"weight_decay", "0.0", "-0.1", "10.0", "10.01", "0..10"},
      {"batch_metrics_publish_interval", "1", "0", "99999999", nullptr, ">= 1"},
  };
  for (const Bound& b : bounds) {
    SCOPED_TRACE(b.name);
    EXPECT_EQ(SetError(b.name, b.lowest), "");
    EXPECT_EQ(SetError(b.name, b.highest), "");
    const std::string low = SetError(b.name, b.below);
    EXPECT_THAT(low, HasSubstr(b.name));
    EXPECT_THAT(low, HasSubstr("out of range"));
    EXPECT_THAT(low, HasSubstr(std::string("range ") + b.range));
    if (b.above != nullptr) {
      const std::string high = SetError(b.name, b.above);
      EXPECT_THAT(high, HasSubstr(b.name));
      EXPECT_THAT(high, HasSubstr(std::string("range ") + b.range));
    }
  }
}

TEST(Hyperparameters, RejectsEachBadString) {
  for (const char* bad : {"", "abc", "1.5", "10x", "0x10", " ", "1,000", "1e3"}) {
    SCOPED_TRACE(bad);
    const std::string message = SetError("vector_dim", bad);
    EXPECT_THAT(message, HasSubstr("vector_dim"));
    EXPECT_THAT(message, HasSubstr("is not an integer"));
    EXPECT_THAT(message, HasSubstr("range 4..4096"));
  }
  for (const char* bad : {"", "abc", "nan", "inf", "0.01.", "1e", "--1"}) {
    SCOPED_TRACE(bad);
    const std::string message = SetError("learning_rate", bad);
    EXPECT_THAT(message, HasSubstr("learning_rate"));
    EXPECT_THAT(message, HasSubstr("is not a number"));
  }
}

TEST(Hyperparameters, AcceptsDashedNamesAndSurroundingSpaces) {
  Hyperparameters hp;
  hp.Set("vector-dim", " 64 ");
  hp.Set("learning-rate", "0.01");
  EXPECT_EQ(hp.vector_dim, 64);
  EXPECT_DOUBLE_EQ(hp.learning_rate, 0.01);
}

TEST(Hyperparameters, RejectsUnknownName) {
  EXPECT_THAT(SetError("vector_dimension", "4"), HasSubstr("unknown hyperparameter"));
}

TEST(Hyperparameters, NegativeSamplingRatesMustSumToOneThroughFiveHundred) {
  Hyperparameters hp;
  hp.random_negative_sampling_rate = 0;
  hp.shuffled_negative_sampling_rate = 0;
  try {
    hp.Validate();
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("random_negative_sampling_rate + shuffled_negative_sampling_rate"));
    EXPECT_THAT(e.what(), HasSubstr("range 1..500"));
  }
  hp.random_negative_sampling_rate = 250;
  hp.shuffled_negative_sampling_rate = 251;
  EXPECT_THROW(hp.Validate(), UsageError);
  hp.shuffled_negative_sampling_rate = 250;
  EXPECT_NO_THROW(hp.Validate());
  hp.random_negative_sampling_rate = 0;
  hp.shuffled_negative_sampling_rate = 1;
  EXPECT_NO_THROW(hp.Validate());
}

TEST(Hyperparameters, ReadsSageMakerJsonOfStringsAndNumbers) {
  const Hyperparameters hp = Hyperparameters::FromJson(
      R"({"num_entity_vectors": "20000", "vector_dim": "128", "epochs": 5,
          "learning_rate": "0.01", "mini_batch_size": "1000",
          "random_negative_sampling_rate": "5", "shuffled_negative_sampling_rate": "1",
          "_tuning_objective_metric": "validation:discriminator_auc"})",
      "hp.json");
  EXPECT_EQ(hp.num_entity_vectors, 20000);
  EXPECT_EQ(hp.epochs, 5);
  EXPECT_DOUBLE_EQ(hp.learning_rate, 0.01);
  EXPECT_EQ(hp.mini_batch_size, 1000);
  EXPECT_EQ(hp.random_negative_sampling_rate, 5);
}

TEST(Hyperparameters, JsonErrorsNameTheFileAndParameter) {
  try {
    Hyperparameters::FromJson(R"({"vector_dim": "2"})", "hp.json");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("hp.json: vector_dim: 2 is out of range (range 4..4096)"));
  }
  try {
    Hyperparameters::FromJson(R"({"vector_dim": true})", "hp.json");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("hp.json"));
    EXPECT_THAT(e.what(), HasSubstr("vector_dim"));
  }
  EXPECT_THROW(Hyperparameters::FromJson("[1, 2]", "hp.json"), UsageError);
  EXPECT_THROW(Hyperparameters::FromJson("{\"epochs\": ", "hp.json"), UsageError);
  EXPECT_THROW(Hyperparameters::FromJson(R"({"nonsense": "1"})", "hp.json"), UsageError);
}

TEST(Hyperparameters, JsonRoundTrip) {
  Hyperparameters hp;
  hp.vector_dim = 72;
  hp.learning_rate = 0.0123;
  hp.weight_decay = 0;
  hp.ip_hash_buckets = 4096;
  EXPECT_EQ(Hyperparameters::FromJson(hp.ToJson(), "x"), hp);
}

TEST(Hyperparameters, DerivedIpHashBucketsArePowersOfTwoInRange) {
  Hyperparameters hp;
  hp.num_entity_vectors = 10;
  EXPECT_EQ(hp.EffectiveIpHashBuckets(), 1 << 16);
  hp.num_entity_vectors = 20000;
  EXPECT_EQ(hp.EffectiveIpHashBuckets(), 1 << 18);
  hp.num_entity_vectors = 100000000;
  EXPECT_EQ(hp.EffectiveIpHashBuckets(), 1 << 18);
  hp.ip_hash_buckets = 5000;
  EXPECT_EQ(hp.EffectiveIpHashBuckets(), 5000);
}

}  // namespace
}  // namespace ipinsights
