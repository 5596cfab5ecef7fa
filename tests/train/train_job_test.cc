// RunTrainJob's guards on what it writes.
#include "ipinsights/train/train_job.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "ipinsights/base/error.h"
#include "ipinsights/model/model.h"

namespace ipinsights {
namespace {

using ::testing::HasSubstr;

std::string CheckError(const Model::Impl& model, double loss) {
  try {
    CheckTrainedModel(model, loss);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A diverged run must not produce a model that scores every pair NaN (and flags none).
TEST(TrainJob, RefusesToWriteANonFiniteModelOrLoss) {
  Hyperparameters hp;
  hp.num_entity_vectors = 50;
  hp.vector_dim = 8;
  hp.num_ip_encoder_layers = 1;
  hp.ip_hash_buckets = 1024;
  std::shared_ptr<Model> model = Model::Create(hp, 3);
  EXPECT_EQ(CheckError(model->impl(), 0.69), "");
  EXPECT_THAT(CheckError(model->impl(), std::numeric_limits<double>::quiet_NaN()),
              HasSubstr("final loss nan"));
  EXPECT_THAT(CheckError(model->impl(), std::numeric_limits<double>::infinity()),
              HasSubstr("final loss inf"));
  model->impl().layers[0].bias[2] = std::numeric_limits<float>::infinity();
  EXPECT_THAT(CheckError(model->impl(), 0.69), HasSubstr("non-finite weight at layer 0 bias[2]"));
}

}  // namespace
}  // namespace ipinsights
