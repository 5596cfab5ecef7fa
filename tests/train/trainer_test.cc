#include "ipinsights/train/trainer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <utility>

#include "../testing/scratch_test.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/hash.h"
#include "ipinsights/eval/labeled_scores.h"
#include "ipinsights/model/ip_encoder.h"
#include "ipinsights/model/model.h"
#include "ipinsights/model/model_file.h"
#include "ipinsights/storage/storage.h"
#include "ipinsights/train/train_job.h"
#include "synthetic_pairs.h"

namespace ipinsights {
namespace {

using ::testing::HasSubstr;

Hyperparameters TestHyperparameters() {
  Hyperparameters hp;
  hp.num_entity_vectors = 800;
  hp.vector_dim = 32;
  hp.epochs = 4;
  hp.learning_rate = 0.01;
  hp.mini_batch_size = 200;
  hp.random_negative_sampling_rate = 4;
  hp.shuffled_negative_sampling_rate = 1;
  hp.ip_hash_buckets = 1 << 14;
  return hp;
}

std::vector<TrainingRow> Rows(const std::vector<testing::SyntheticPair>& pairs, uint64_t seed) {
  std::vector<TrainingRow> rows;
  for (const auto& p : pairs) rows.push_back({Hash64(p.entity, seed), p.ip});
  return rows;
}

double TestAuc(const Model& model, const testing::SyntheticPopulation& population) {
  std::vector<float> normal, attack;
  for (const auto& p : population.test_normal) normal.push_back(model.Score(p.entity, p.ip));
  for (const auto& p : population.test_attack) attack.push_back(model.Score(p.entity, p.ip));
  return LabeledScores(std::move(normal), std::move(attack)).Auc();
}

std::shared_ptr<Model> Train(const Hyperparameters& hp,
                             const testing::SyntheticPopulation& population, size_t threads,
                             uint64_t seed, std::vector<EpochMetrics>* metrics = nullptr) {
  auto model = Model::Create(hp, seed);
  std::vector<TrainingRow> rows = Rows(population.train, model->hash_seed());
  Trainer trainer(&model->impl(), TrainerOptions{threads, seed});
  for (int e = 0; e < hp.epochs; ++e) {
    EpochMetrics m = trainer.TrainEpoch(&rows, e, nullptr);
    if (metrics) metrics->push_back(m);
  }
  return model;
}

TEST(Trainer, LearnsHomeNetworksWellAboveChance) {
  const auto population = testing::MakePopulation(400, 30, 17);
  std::vector<EpochMetrics> metrics;
  auto model = Train(TestHyperparameters(), population, 2, 7, &metrics);
  ASSERT_EQ(metrics.size(), 4u);
  EXPECT_LT(metrics.back().loss, metrics.front().loss);
  EXPECT_GT(metrics.back().accuracy, 0.9);
  EXPECT_EQ(metrics.front().records, population.train.size() * 6);
  EXPECT_GT(TestAuc(*model, population), 0.95);
}

TEST(Trainer, LearnsIpv6UsersToo) {
  const auto population = testing::MakePopulation(300, 30, 23, /*with_ipv6=*/true);
  auto model = Train(TestHyperparameters(), population, 2, 7);
  EXPECT_GT(TestAuc(*model, population), 0.93);
}

TEST(Trainer, FirstBatchLossIsNearLn2) {
  const auto population = testing::MakePopulation(100, 10, 5);
  auto model = Model::Create(TestHyperparameters(), 1);
  std::vector<TrainingRow> rows = Rows(population.train, model->hash_seed());
  Trainer trainer(&model->impl(), TrainerOptions{1, 1});
  const double loss = trainer.ComputeGradients(rows.data(), 200, 3);
  EXPECT_NEAR(loss, std::log(2.0), 0.02);
}

TEST(Trainer, SameSeedAndDataGiveTheSameModelBitForBit) {
  const auto population = testing::MakePopulation(150, 12, 9);
  Hyperparameters hp = TestHyperparameters();
  hp.epochs = 2;
  hp.num_ip_encoder_layers = 2;
  auto a = Train(hp, population, 2, 5);
  auto b = Train(hp, population, 2, 5);
  EXPECT_EQ(a->impl().entity_table, b->impl().entity_table);
  EXPECT_EQ(a->impl().prefix_table, b->impl().prefix_table);
  EXPECT_EQ(a->impl().layers[0].weight, b->impl().layers[0].weight);
  EXPECT_EQ(a->impl().layers[1].weight, b->impl().layers[1].weight);
  // Our scheduling also makes it independent of the thread count.
  auto c = Train(hp, population, 1, 5);
  EXPECT_EQ(a->impl().prefix_table, c->impl().prefix_table);
  EXPECT_EQ(a->impl().layers[1].weight, c->impl().layers[1].weight);
  // And a different seed gives a different model.
  auto d = Train(hp, population, 2, 6);
  EXPECT_NE(a->impl().entity_table, d->impl().entity_table);
}

TEST(Trainer, ShuffledNegativesNeverRedrawTheTruePair) {
  // Every row is the same pair: no shuffled negative can differ from it, so none is used,
  // and the loss is over the observed pairs only (R = 0): between the pair's loss with
  // every prefix and with the /8 and /16 alone (prefix dropout may leave out the /24).
  Hyperparameters hp = TestHyperparameters();
  hp.random_negative_sampling_rate = 0;
  hp.shuffled_negative_sampling_rate = 1;
  auto model = Model::Create(hp, 1);
  const IpAddress ip = *IpAddress::Parse("10.1.2.3");
  std::vector<TrainingRow> rows(10, TrainingRow{Hash64("alice", model->hash_seed()), ip});
  Trainer trainer(&model->impl(), TrainerOptions{1, 1});
  const double loss = trainer.ComputeGradients(rows.data(), rows.size(), 3);
  const Model::Impl& impl = model->impl();
  uint32_t prefix[kMaxIpPrefixes];
  ASSERT_EQ(IpPrefixRows(ip, impl.hash_seed, impl.prefix_rows(), prefix), 3);
  std::vector<float> coarse(impl.dim), embedding(impl.dim), u(impl.dim);
  for (int64_t d = 0; d < impl.dim; ++d) {
    coarse[d] = impl.PrefixVector(prefix[0])[d] + impl.PrefixVector(prefix[1])[d];
  }
  impl.ApplyLayer(0, coarse.data(), embedding.data());
  model->EntityEmbedding("alice", u.data());
  double coarse_score = 0;
  for (int64_t d = 0; d < impl.dim; ++d) coarse_score += double(u[d]) * embedding[d];
  const double full_loss = std::log1p(std::exp(-model->Score("alice", ip)));
  const double coarse_loss = std::log1p(std::exp(-coarse_score));
  EXPECT_GE(loss, std::min(full_loss, coarse_loss) - 1e-5);
  EXPECT_LE(loss, std::max(full_loss, coarse_loss) + 1e-5);
  // With one other pair in the batch, every shuffled negative is a distinct pair.
  rows[0] = TrainingRow{Hash64("bob", model->hash_seed()), *IpAddress::Parse("10.9.9.9")};
  const double mixed = trainer.ComputeGradients(rows.data(), rows.size(), 3);
  EXPECT_NE(mixed, loss);
}

class TrainJobTest : public testing::ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    population_ = testing::MakePopulation(300, 20, 31);
    WriteWholeObject(Path("train.csv"), testing::ToCsv(population_.train));
    WriteWholeObject(Path("validation.csv"), testing::ToCsv(population_.test_normal));
  }

  TrainJobOptions Options() {
    TrainJobOptions options;
    options.train = Path("train.csv");
    options.validation = Path("validation.csv");
    options.model_dir = Path("out");
    options.hyperparameters = TestHyperparameters();
    options.hyperparameters.epochs = 2;
    options.threads = 2;
    options.quiet = true;
    return options;
  }

  testing::SyntheticPopulation population_;
};

TEST_F(TrainJobTest, WritesModelAndMetrics) {
  std::vector<std::string> lines;
  TrainJobOptions options = Options();
  options.log = [&](const std::string& line) { lines.push_back(line); };
  options.metrics_log = options.log;
  const TrainJobResult result = RunTrainJob(options);
  EXPECT_EQ(result.training_rows, population_.train.size());
  ASSERT_EQ(result.epochs.size(), 2u);
  ASSERT_TRUE(result.epochs[1].validation_auc.has_value());
  EXPECT_GT(*result.epochs[1].validation_auc, 0.9);
  auto model = Model::Load(Path("out/model.ipinsights"));
  EXPECT_EQ(model->vector_dim(), 32);
  const std::string metrics = ReadWholeObject(Path("out/metrics.json"));
  EXPECT_THAT(metrics, HasSubstr("\"epochs\": [\n    {\"epoch\": 1, \"loss\": "));
  EXPECT_THAT(metrics, HasSubstr("\"validation_auc\": 0.9"));
  EXPECT_THAT(metrics, HasSubstr("\"records_per_second\": "));
  EXPECT_THAT(metrics, HasSubstr("\"hyperparameters\": {\"num_entity_vectors\": \"800\""));
  bool accuracy_line = false, auc_line = false, loss_line = false;
  for (const std::string& line : lines) {
    accuracy_line |= line.rfind("Epoch[1] Train-binary_classification_accuracy=", 0) == 0;
    auc_line |=
        line.rfind("#quality_metric: host=algo-1, epoch=1, validation discriminator_auc <score>=",
                   0) == 0;
    loss_line |= line.rfind(
                     "#quality_metric: host=algo-1, epoch=0, train "
                     "binary_classification_cross_entropy <loss>=",
                     0) == 0;
  }
  EXPECT_TRUE(accuracy_line);
  EXPECT_TRUE(auc_line);
  EXPECT_TRUE(loss_line);
}

TEST_F(TrainJobTest, WarmStartContinuesFromTheModel) {
  TrainJobOptions first = Options();
  first.hyperparameters.epochs = 1;
  first.validation.clear();
  RunTrainJob(first);
  auto before = Model::Load(Path("out/model.ipinsights"));

  TrainJobOptions second = Options();
  second.model_dir = Path("out2");
  second.init_model = Path("out/model.ipinsights");
  second.hyperparameters = Hyperparameters();  // shapes come from the model
  second.hyperparameters.epochs = 1;
  second.hyperparameters.learning_rate = 0.01;
  second.hyperparameters.mini_batch_size = 200;
  second.seed = 99;  // the hash seed still comes from the model
  const TrainJobResult result = RunTrainJob(second);
  auto after = Model::Load(Path("out2/model.ipinsights"));
  EXPECT_EQ(after->hash_seed(), before->hash_seed());
  EXPECT_EQ(after->hyperparameters().num_entity_vectors, 800);
  EXPECT_NE(after->impl().entity_table, before->impl().entity_table);
  // A warm start begins where the first run ended: its first epoch's loss is well below
  // that of the same run from a fresh model.
  TrainJobOptions cold = second;
  cold.model_dir = Path("out3");
  cold.init_model.clear();
  cold.hyperparameters = Options().hyperparameters;
  cold.hyperparameters.epochs = 1;
  cold.hyperparameters.learning_rate = 0.01;
  cold.hyperparameters.mini_batch_size = 200;
  const TrainJobResult fresh = RunTrainJob(cold);
  EXPECT_LT(result.epochs[0].metrics.loss, fresh.epochs[0].metrics.loss - 0.03)
      << "warm " << result.epochs[0].metrics.loss << " cold " << fresh.epochs[0].metrics.loss;
}

TEST_F(TrainJobTest, WarmStartWithMismatchedShapeIsAClearError) {
  TrainJobOptions first = Options();
  first.hyperparameters.epochs = 1;
  first.validation.clear();
  RunTrainJob(first);
  TrainJobOptions second = Options();
  second.init_model = Path("out/model.ipinsights");
  second.hyperparameters.vector_dim = 64;
  second.explicit_hyperparameters = {"vector_dim"};
  try {
    RunTrainJob(second);
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("shape mismatch: vector_dim is 32 in the model but 64"));
    EXPECT_THAT(e.what(), HasSubstr("model.ipinsights"));
  }
}

TEST_F(TrainJobTest, NoGoodRowsIsAnError) {
  WriteWholeObject(Path("bad.csv"), "alice,not-an-ip\nbob\n");
  TrainJobOptions options = Options();
  options.train = Path("bad.csv");
  try {
    RunTrainJob(options);
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("no valid training rows (2 bad rows"));
    EXPECT_THAT(e.what(), HasSubstr("bad.csv:1: bad IP \"not-an-ip\""));
  }
}

}  // namespace
}  // namespace ipinsights
