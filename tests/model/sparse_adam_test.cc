#include "ipinsights/model/sparse_adam.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "ipinsights/model/model_impl.h"

namespace ipinsights {
namespace {

TEST(SparseGradient, SumsEachTouchedRowsContributions) {
  const std::vector<float> gradients = {1, 2, 10, 20, 100, 200};  // three vectors, dim 2
  SparseGradient g(/*table_rows=*/5, /*dim=*/2);
  g.Reset(gradients.data(), /*stride=*/1, /*contributions=*/3);
  g.Add(3, 0);
  g.Add(1, 1);
  g.Add(3, 2);
  ASSERT_EQ(g.touched_rows(), 2u);
  EXPECT_EQ(g.row(0), 3u);
  EXPECT_EQ(g.row(1), 1u);
  EXPECT_EQ(g.RowGradient(3), (std::vector<float>{101, 202}));
  EXPECT_EQ(g.RowGradient(1), (std::vector<float>{10, 20}));
  EXPECT_EQ(g.RowGradient(0), (std::vector<float>{0, 0}));
}

TEST(SparseGradient, StrideLetsContributionsShareAVector) {
  const std::vector<float> gradients = {1, 2, 10, 20};
  SparseGradient g(5, 2);
  g.Reset(gradients.data(), /*stride=*/4, /*contributions=*/8);
  g.Add(0, 1);  // vector 0
  g.Add(0, 6);  // vector 1
  g.Add(2, 3);  // vector 0
  EXPECT_EQ(g.RowGradient(0), (std::vector<float>{11, 22}));
  EXPECT_EQ(g.RowGradient(2), (std::vector<float>{1, 2}));
}

TEST(SparseGradient, ResetForgetsThePreviousBatch) {
  const std::vector<float> gradients = {1, 2};
  SparseGradient g(5, 2);
  EXPECT_EQ(g.RowGradient(4), (std::vector<float>{0, 0}));  // before any batch
  g.Reset(gradients.data(), 1, 1);
  g.Add(4, 0);
  g.Reset(gradients.data(), 1, 1);
  EXPECT_EQ(g.touched_rows(), 0u);
  EXPECT_EQ(g.RowGradient(4), (std::vector<float>{0, 0}));
}

class SparseAdamTest : public ::testing::Test {
 protected:
  SparseAdamTest() {
    Hyperparameters hp;
    hp.num_entity_vectors = 100;
    hp.vector_dim = 8;
    hp.num_ip_encoder_layers = 1;
    hp.ip_hash_buckets = 1024;
    hp.learning_rate = 0.01;
    hp.weight_decay = 0;
    model_ = Model::Impl::CreateRandom(hp, 3);
  }

  // One step whose gradient touches the entity rows `rows`, each with gradient_ (a vector
  // of +-1: the stride maps every contribution to it), and no dense gradient; the tasks run
  // forward or in reverse.
  void Step(SparseAdam* adam, Model::Impl* model, const std::vector<uint64_t>& rows,
            double scale = 1.0, bool reverse = false) {
    ModelGradient gradient(*model);
    gradient.entities.Reset(gradient_.data(), /*stride=*/rows.size() + 1, rows.size());
    for (size_t i = 0; i < rows.size(); ++i) gradient.entities.Add(rows[i], i);
    gradient.prefixes.Reset(gradient_.data(), 1, 0);
    const size_t tasks = adam->BeginStep(gradient, scale);
    std::vector<float> scratch(model->dim);
    for (size_t t = 0; t < tasks; ++t)
      adam->RunStepTask(reverse ? tasks - 1 - t : t, scratch.data());
  }

  // One step whose gradient touches the prefix rows `rows`, each with `gradient`.
  void StepPrefixes(SparseAdam* adam, const std::vector<uint64_t>& rows,
                    const std::vector<float>& gradient) {
    ModelGradient step(*model_);
    step.entities.Reset(gradient.data(), 1, 0);
    step.prefixes.Reset(gradient.data(), /*stride=*/rows.size() + 1, rows.size());
    for (size_t i = 0; i < rows.size(); ++i) step.prefixes.Add(rows[i], i);
    const size_t tasks = adam->BeginStep(step, 1.0);
    std::vector<float> scratch(model_->dim);
    for (size_t t = 0; t < tasks; ++t) adam->RunStepTask(t, scratch.data());
  }

  std::unique_ptr<Model::Impl> model_;
  std::vector<float> gradient_ = {1, -1, 1, -1, 1, -1, 1, -1};
};

// Prefix rows take RMSprop steps (Adam without the first moment), bias-corrected with the
// row's own count t: recomputed here in double over steps of unequal gradients, with weight
// decay, for a row first touched at step 3 (t still starts at 1).
TEST_F(SparseAdamTest, PrefixRowsTakeRmsPropSteps) {
  model_->hyperparameters.weight_decay = 0.01;
  SparseAdam adam(model_.get());
  const uint64_t row = 700;
  for (int step = 0; step < 2; ++step) StepPrefixes(&adam, {5}, gradient_);
  std::vector<double> w(model_->PrefixVector(row), model_->PrefixVector(row) + model_->dim);
  std::vector<double> v(model_->dim, 0.0);
  for (int t = 1; t <= 4; ++t) {
    std::vector<float> g(model_->dim);
    for (int64_t d = 0; d < model_->dim; ++d) g[d] = 0.3f * t * static_cast<float>(d % 3) - 0.2f;
    StepPrefixes(&adam, {row}, g);
    const double rate = 0.01 * std::sqrt(1 - std::pow(0.999, t));
    for (int64_t d = 0; d < model_->dim; ++d) {
      const double decayed = g[d] + 0.01 * w[d];
      v[d] = 0.999 * v[d] + 0.001 * decayed * decayed;
      w[d] -= rate * decayed / (std::sqrt(v[d]) + 1e-8);
      EXPECT_NEAR(model_->PrefixVector(row)[d], w[d], 1e-6) << "step " << t << " value " << d;
    }
  }
}

// Without a first moment a prefix row's second step does not carry the first one's
// direction: a gradient of zeros leaves the row where it was (Adam's momentum would move it).
TEST_F(SparseAdamTest, PrefixRowsHaveNoMomentum) {
  SparseAdam adam(model_.get());
  StepPrefixes(&adam, {9}, gradient_);
  const std::vector<float> after_first(model_->PrefixVector(9),
                                       model_->PrefixVector(9) + model_->dim);
  StepPrefixes(&adam, {9}, std::vector<float>(model_->dim, 0.0f));
  for (int64_t d = 0; d < model_->dim; ++d) EXPECT_EQ(model_->PrefixVector(9)[d], after_first[d]);
}

TEST_F(SparseAdamTest, FirstUpdateMovesEachValueByTheLearningRateAgainstItsGradient) {
  const FloatTable before = model_->entity_table;
  SparseAdam adam(model_.get());
  Step(&adam, model_.get(), {5});
  for (int64_t d = 0; d < model_->dim; ++d) {
    const float moved = model_->EntityVector(5)[d] - before[5 * model_->dim + d];
    EXPECT_NEAR(moved, -0.01f * gradient_[d], 1e-6) << d;
  }
}

TEST_F(SparseAdamTest, UntouchedRowsAndZeroGradientsStayBitForBit) {
  Model::Impl before = *model_;
  SparseAdam adam(model_.get());
  Step(&adam, model_.get(), {5});
  for (int64_t row = 0; row < model_->entity_rows(); ++row) {
    if (row == 5) continue;
    for (int64_t d = 0; d < model_->dim; ++d) {
      EXPECT_EQ(model_->EntityVector(row)[d], before.EntityVector(row)[d]);
    }
  }
  EXPECT_EQ(model_->prefix_table, before.prefix_table);
  EXPECT_EQ(model_->layers[0].weight, before.layers[0].weight);  // gradient 0, no decay
  EXPECT_EQ(model_->layers[0].bias, before.layers[0].bias);
}

// Bias correction counts a row's own updates: a row first touched at step 6 moves as far as
// a row touched at step 1 (with the global count it would move about half as far).
TEST_F(SparseAdamTest, RowFirstTouchedLateTakesAFullFirstStep) {
  SparseAdam adam(model_.get());
  for (int step = 0; step < 5; ++step) Step(&adam, model_.get(), {1});
  const float before = model_->EntityVector(9)[0];
  Step(&adam, model_.get(), {9});
  EXPECT_NEAR(model_->EntityVector(9)[0] - before, -0.01f, 1e-6);
}

TEST_F(SparseAdamTest, LearningRateScaleScalesTheStep) {
  const float before = model_->EntityVector(2)[0];
  SparseAdam adam(model_.get());
  Step(&adam, model_.get(), {2}, /*scale=*/0.25);
  EXPECT_NEAR(model_->EntityVector(2)[0] - before, -0.0025f, 1e-6);
}

TEST_F(SparseAdamTest, TasksMayRunInAnyOrder) {
  Model::Impl other = *model_;
  SparseAdam forward(model_.get()), backward(&other);
  std::vector<uint64_t> rows;
  for (uint64_t row = 0; row < 100; ++row) rows.push_back(row);  // several tasks of rows
  for (int step = 0; step < 3; ++step) {
    Step(&forward, model_.get(), rows);
    Step(&backward, &other, rows, 1.0, /*reverse=*/true);
  }
  EXPECT_EQ(model_->entity_table, other.entity_table);
}

}  // namespace
}  // namespace ipinsights
