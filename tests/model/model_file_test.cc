#include "ipinsights/model/model_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstring>
#include <filesystem>
#include <fstream>
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

class ModelFileTest : public testing::ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    hp_.num_entity_vectors = 50;
    hp_.vector_dim = 8;
    hp_.num_ip_encoder_layers = 2;
    hp_.ip_hash_buckets = 2048;
    path_ = (dir_ / "model.ipinsights").string();
    Model::Create(hp_, 11)->Save(path_);
  }

  std::string Bytes() { return ReadWholeObject(path_); }
  void Write(const std::string& bytes) { WriteWholeObject(path_, bytes); }
  // Writes `bytes` with the file checksum (the last 8 bytes) made right again, so that what
  // a test changed in the header is what the reader meets.
  void WriteResealed(std::string bytes) {
    const uint64_t checksum = XXH3_64bits(bytes.data(), bytes.size() - 8);
    std::memcpy(bytes.data() + bytes.size() - 8, &checksum, 8);
    Write(bytes);
  }
  std::string LoadError() {
    try {
      Model::Load(path_);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  std::string path_;
  Hyperparameters hp_;
};

TEST_F(ModelFileTest, RoundTripKeepsEverything) {
  auto original = Model::Create(hp_, 11);
  auto loaded = Model::Load(path_);
  EXPECT_EQ(loaded->hyperparameters(), original->hyperparameters());
  EXPECT_EQ(loaded->hash_seed(), original->hash_seed());
  EXPECT_EQ(loaded->impl().entity_table, original->impl().entity_table);
  EXPECT_EQ(loaded->impl().prefix_table, original->impl().prefix_table);
  ASSERT_EQ(loaded->impl().layers.size(), 2u);
  EXPECT_EQ(loaded->impl().layers[1].weight, original->impl().layers[1].weight);
  const IpAddress ip = *IpAddress::Parse("203.0.113.9");
  EXPECT_EQ(loaded->Score("alice", ip), original->Score("alice", ip));
  // Saving again gives the same bytes.
  loaded->Save(path_ + ".again");
  EXPECT_EQ(ReadWholeObject(path_ + ".again"), Bytes());
}

TEST_F(ModelFileTest, CalibrationRoundTrips) {
  auto model = Model::Create(hp_, 11);
  EXPECT_EQ(model->calibration(), nullptr);
  std::vector<float> scores;
  for (int i = 0; i < 5000; ++i) scores.push_back(static_cast<float>(i % 977) / 100 - 3);
  model->impl().calibration = CalibrateScores(scores, 0.02, "validation");
  model->Save(path_);
  auto loaded = Model::Load(path_);
  ASSERT_NE(loaded->calibration(), nullptr);
  const ScoreCalibration& calibration = *loaded->calibration();
  EXPECT_EQ(calibration.target_fpr, 0.02);
  EXPECT_EQ(calibration.threshold, model->calibration()->threshold);
  EXPECT_EQ(calibration.source, "validation");
  EXPECT_EQ(calibration.pairs, 5000u);
  EXPECT_EQ(calibration.curve.size(), model->calibration()->curve.size());
  EXPECT_EQ(calibration.FalsePositiveRateAt(-1.5f),
            model->calibration()->FalsePositiveRateAt(-1.5f));
  loaded->Save(path_ + ".again");
  EXPECT_EQ(ReadWholeObject(path_ + ".again"), Bytes());
}

// A file written before calibration was stored (the fuzz seed is one) loads without it.
TEST_F(ModelFileTest, ModelWithoutCalibrationLoads) {
  auto loaded = Model::Load(std::string(IPINSIGHTS_SOURCE_DIR) +
                            "/fuzz/corpus/model_file/tiny-1-layers.ipinsights");
  EXPECT_EQ(loaded->calibration(), nullptr);
  EXPECT_THAT(Bytes(), ::testing::Not(HasSubstr("calibration")));
  EXPECT_EQ(Model::Load(path_)->calibration(), nullptr);
}

TEST_F(ModelFileTest, RejectsBadCalibrationNamingTheFile) {
  auto model = Model::Create(hp_, 11);
  model->impl().calibration = CalibrateScores({1, 2, 3}, 0.25, "validation");
  model->Save(path_);
  std::string bytes = Bytes();
  const size_t at = bytes.find("\"target_fpr\": 0.25");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 18, "\"target_fpr\": 2.50");
  WriteResealed(bytes);
  EXPECT_THAT(LoadError(), HasSubstr("model.ipinsights: corrupted model file: calibration "
                                     "target_fpr 2.5 is not in (0, 1)"));
}

TEST_F(ModelFileTest, HistoryChecksumRoundTripsAndABadOneIsNamed) {
  auto model = Model::Create(hp_, 11);
  model->Save(path_);
  EXPECT_FALSE(Model::Load(path_)->history_checksum().has_value());
  model->impl().history_checksum = 0x00ab'cdef'0123'4567ULL;
  model->Save(path_);
  EXPECT_THAT(Bytes(), HasSubstr("\"history_checksum\": \"00abcdef01234567\""));
  EXPECT_EQ(Model::Load(path_)->history_checksum(), 0x00ab'cdef'0123'4567ULL);
  std::string bytes = Bytes();
  const size_t at = bytes.find("00abcdef01234567");
  bytes.replace(at, 16, "00abcdef0123456g");
  WriteResealed(bytes);
  EXPECT_THAT(LoadError(), HasSubstr("model.ipinsights: corrupted model file (history_checksum "
                                     "\"00abcdef0123456g\" is not 16 hex digits)"));
}

TEST_F(ModelFileTest, LoadedModelsScoreFromPrecomputedFoldsWithTheSameBits) {
  for (int layers : {1, 2}) {
    hp_.num_ip_encoder_layers = layers;
    hp_.num_entity_vectors = 700;  // several precompute tasks, the last one partial
    auto original = Model::Create(hp_, 5);
    original->Save(path_);
    auto loaded = Model::Load(path_);
    ASSERT_TRUE(loaded->impl().has_folded());
    ASSERT_FALSE(original->impl().has_folded());
    std::vector<std::string> names;
    std::vector<IpAddress> ips;
    for (int i = 0; i < 300; ++i) {
      names.push_back("entity" + std::to_string(i % 97));
      ips.push_back(i % 3 == 0 ? *IpAddress::Parse("2001:db8::" + std::to_string(i))
                               : IpAddress::FromV4(0x0a000000u + 7919u * i));
    }
    std::vector<std::string_view> views(names.begin(), names.end());
    std::vector<float> a(names.size()), b(names.size());
    original->ScoreBatch(views.data(), ips.data(), views.size(), a.data());
    loaded->ScoreBatch(views.data(), ips.data(), views.size(), b.data());
    for (size_t i = 0; i < names.size(); ++i) {
      ASSERT_EQ(a[i], b[i]) << i;
      ASSERT_EQ(loaded->Score(views[i], ips[i]), a[i]) << i;
      ASSERT_EQ(original->Score(views[i], ips[i]), a[i]) << i;
    }
  }
}

TEST_F(ModelFileTest, RejectsTruncatedFileNamingIt) {
  const std::string bytes = Bytes();
  for (size_t keep : {size_t{10}, size_t{30}, bytes.size() / 2, bytes.size() - 1}) {
    SCOPED_TRACE(keep);
    Write(bytes.substr(0, keep));
    const std::string error = LoadError();
    EXPECT_THAT(error, HasSubstr(path_));
    EXPECT_THAT(error, HasSubstr("truncated"));
  }
}

TEST_F(ModelFileTest, RejectsBitFlipAnywhere) {
  const std::string bytes = Bytes();
  for (size_t at : {size_t{200}, bytes.size() / 2, bytes.size() - 100, bytes.size() - 3}) {
    SCOPED_TRACE(at);
    std::string flipped = bytes;
    flipped[at] ^= 0x10;
    Write(flipped);
    const std::string error = LoadError();
    EXPECT_THAT(error, HasSubstr(path_));
    EXPECT_THAT(error, HasSubstr("corrupted"));
  }
}

// The checksum only proves the file is as written; the weights must also be numbers.
TEST_F(ModelFileTest, RejectsNonFiniteWeightsNamingTheFile) {
  for (float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    SCOPED_TRACE(bad);
    for (int table = 0; table < 3; ++table) {
      std::shared_ptr<Model> model = Model::Create(hp_, 11);
      Model::Impl& impl = model->impl();
      if (table == 0) impl.entity_table[17] = bad;
      if (table == 1) impl.prefix_table[3] = bad;
      if (table == 2) impl.layers[1].weight[0] = bad;
      model->Save(path_);  // a valid checksum over bad weights
      const std::string error = LoadError();
      EXPECT_THAT(error, HasSubstr(path_));
      EXPECT_THAT(error, HasSubstr("non-finite weight"));
    }
  }
}

TEST_F(ModelFileTest, RejectsForeignFiles) {
  Write("entity,ip\nalice,1.2.3.4\n");
  EXPECT_THAT(LoadError(), HasSubstr("not an ipinsights model file"));
  Write("");
  EXPECT_THAT(LoadError(), HasSubstr("not an ipinsights model file"));
  std::string gzip("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8);
  Write(gzip + std::string(100, 'x'));
  EXPECT_THAT(LoadError(), HasSubstr(path_ + ": not an ipinsights model file"));
}

TEST_F(ModelFileTest, RejectsOtherFormatVersion) {
  std::string bytes = Bytes();
  bytes[8] = 9;
  Write(bytes);
  EXPECT_THAT(LoadError(), HasSubstr("unsupported model format version 9"));
}

TEST_F(ModelFileTest, RejectsAnotherIpEncoder) {
  std::string bytes = Bytes();
  const size_t at = bytes.find("prefix-sum");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 10, "prefix-max");
  Write(bytes);
  EXPECT_THAT(LoadError(), HasSubstr(path_ + ": unsupported IP encoder \"prefix-max"));
}

TEST_F(ModelFileTest, MissingFileIsAnError) {
  EXPECT_THROW(Model::Load((dir_ / "nope.ipinsights").string()), Error);
}

}  // namespace
}  // namespace ipinsights
