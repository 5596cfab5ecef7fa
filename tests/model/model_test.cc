#include "ipinsights/model/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ipinsights/model/ip_encoder.h"
#include "ipinsights/model/kernels.h"
#include "ipinsights/model/model_impl.h"

namespace ipinsights {
namespace {

Hyperparameters Small(int layers) {
  Hyperparameters hp;
  hp.num_entity_vectors = 1000;
  hp.vector_dim = 32;
  hp.num_ip_encoder_layers = layers;
  return hp;
}

TEST(Model, ScoreIsTheDotProductOfTheEmbeddings) {
  for (int layers : {0, 1, 3}) {
    auto model = Model::Create(Small(layers), 3);
    for (const char* text : {"198.51.100.7", "2001:db8:1:2::17"}) {
      const IpAddress ip = *IpAddress::Parse(text);
      std::vector<float> u(32), v(32);
      model->EntityEmbedding("AIDAEXAMPLE", u.data());
      model->IpEmbedding(ip, v.data());
      const float dot = kernels::Dot(u.data(), v.data(), 32);
      if (layers == 0) {
        EXPECT_EQ(model->Score("AIDAEXAMPLE", ip), dot);
      } else {
        // The last layer is folded into the entity side: equal up to float rounding
        // (score_batch_test.cc has the bound).
        EXPECT_NEAR(model->Score("AIDAEXAMPLE", ip), dot, 1e-5f);
      }
    }
  }
}

TEST(Model, InitialScoresAreNearZero) {
  auto model = Model::Create(Small(1), 5);
  double sum_squares = 0;
  for (uint32_t i = 0; i < 1000; ++i) {
    const float s = model->Score("user" + std::to_string(i), IpAddress::FromV4(i * 2654435761u));
    sum_squares += double(s) * s;
  }
  const double rms = std::sqrt(sum_squares / 1000);
  EXPECT_GT(rms, 0.005);
  EXPECT_LT(rms, 0.2);  // first loss about ln 2
}

TEST(Model, ScoreBatchMatchesScore) {
  auto model = Model::Create(Small(2), 9);
  std::vector<std::string> names = {"a", "b", "c"};
  std::vector<std::string_view> entities(names.begin(), names.end());
  std::vector<IpAddress> ips = {IpAddress::FromV4(1), IpAddress::FromV4(0x0a000001),
                                *IpAddress::Parse("::1")};
  std::vector<float> scores(3);
  model->ScoreBatch(entities.data(), ips.data(), 3, scores.data());
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(scores[i], model->Score(entities[i], ips[i]));
}

TEST(Model, SameSeedSameModel) {
  auto a = Model::Create(Small(1), 42), b = Model::Create(Small(1), 42),
       c = Model::Create(Small(1), 43);
  EXPECT_EQ(a->impl().entity_table, b->impl().entity_table);
  EXPECT_EQ(a->hash_seed(), b->hash_seed());
  EXPECT_NE(a->impl().entity_table, c->impl().entity_table);
}

TEST(IpEncoder, NeighboursShareNetworkPrefixRows) {
  uint32_t a[kMaxIpPrefixes], b[kMaxIpPrefixes], c[kMaxIpPrefixes];
  ASSERT_EQ(IpPrefixRows(*IpAddress::Parse("10.1.2.3"), 77, 1 << 20, a), 3);
  ASSERT_EQ(IpPrefixRows(*IpAddress::Parse("10.1.2.200"), 77, 1 << 20, b), 3);
  ASSERT_EQ(IpPrefixRows(*IpAddress::Parse("10.1.9.3"), 77, 1 << 20, c), 3);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(a[k], b[k]);
  EXPECT_EQ(a[1], c[1]);
  EXPECT_NE(a[2], c[2]);
  uint32_t v6a[kMaxIpPrefixes], v6b[kMaxIpPrefixes], v6c[kMaxIpPrefixes];
  ASSERT_EQ(IpPrefixRows(*IpAddress::Parse("2001:db8:aa:1::5"), 77, 1 << 20, v6a), 4);
  ASSERT_EQ(IpPrefixRows(*IpAddress::Parse("2001:db8:aa:1::6"), 77, 1 << 20, v6b), 4);
  ASSERT_EQ(IpPrefixRows(*IpAddress::Parse("2001:db8:aa:2::5"), 77, 1 << 20, v6c), 4);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(v6a[k], v6b[k]);
  EXPECT_EQ(v6a[2], v6c[2]);
  EXPECT_NE(v6a[3], v6c[3]);
}

TEST(IpEncoder, LargeTablesGiveIpv4Slash8AndSlash16RowsOfTheirOwn) {
  uint32_t rows[kMaxIpPrefixes];
  ASSERT_EQ(IpPrefixRows(*IpAddress::Parse("10.1.2.3"), 77, 1 << 18, rows), 3);
  EXPECT_EQ(rows[0], 10u);
  EXPECT_EQ(rows[1], 256u + (10u << 8) + 1u);
  EXPECT_GE(rows[2], kDirectRows);
  EXPECT_LT(rows[2], 1u << 18);
  // IPv6 prefixes always hash past the direct rows.
  ASSERT_EQ(IpPrefixRows(*IpAddress::Parse("2001:db8::1"), 77, 1 << 18, rows), 4);
  for (int k = 0; k < 4; ++k) EXPECT_GE(rows[k], kDirectRows);
  // Small tables hash everything.
  ASSERT_EQ(IpPrefixRows(*IpAddress::Parse("10.1.2.3"), 77, 4096, rows), 3);
  for (int k = 0; k < 3; ++k) EXPECT_LT(rows[k], 4096u);
}

TEST(IpEncoder, RowsDependOnTheHashSeed) {
  uint32_t a[kMaxIpPrefixes], b[kMaxIpPrefixes];
  IpPrefixRows(*IpAddress::Parse("10.1.2.3"), 1, 1 << 20, a);
  IpPrefixRows(*IpAddress::Parse("10.1.2.3"), 2, 1 << 20, b);
  EXPECT_NE(a[2], b[2]);
}

}  // namespace
}  // namespace ipinsights
