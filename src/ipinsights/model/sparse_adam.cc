#include "ipinsights/model/sparse_adam.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ipinsights {
namespace {

constexpr size_t kRowsPerTask = 32;  // touched embedding rows per step task
// Rows whose own step count t is at least this use bias correction 1 (it is within 1e-8).
constexpr size_t kBiasCorrectionSteps = 20000;

size_t Tasks(size_t rows) { return (rows + kRowsPerTask - 1) / kRowsPerTask; }

}  // namespace

SparseGradient::SparseGradient(uint64_t table_rows, int64_t dim)
    : dim_(dim), row_marks_(table_rows) {}

void SparseGradient::Reset(const float* gradients, size_t stride, size_t contributions) {
  gradients_ = gradients;
  stride_ = stride;
  if (next_.size() < contributions) next_.resize(contributions);
  rows_.clear();
  head_.clear();
  ++stamp_;
  if (stamp_ == 0) {  // wrapped: forget old stamps
    std::fill(row_marks_.begin(), row_marks_.end(), RowMark{});
    stamp_ = 1;
  }
}

void SparseGradient::Add(uint64_t row, uint32_t contribution) {
  RowMark& mark = row_marks_[row];
  if (mark.stamp != stamp_) {
    mark.stamp = stamp_;
    mark.slot = static_cast<uint32_t>(rows_.size());
    rows_.push_back(row);
    head_.push_back(-1);
  }
  const uint32_t slot = mark.slot;
  next_[contribution] = head_[slot];
  head_[slot] = static_cast<int32_t>(contribution);
}

// No zeroing and no copy for a single contribution: measured, zeroing the scratch and adding
// the one vector into it took 12% of training time (most prefix rows have one contribution).
// 0 + x == x (but for the sign of a zero), so the sums are those of adding every
// contribution to zeros.
const float* SparseGradient::Sum(size_t slot, float* scratch) const {
  int32_t c = head_[slot];
  const float* first = Contribution(c);
  c = next_[c];
  if (c < 0) return first;
  std::memcpy(scratch, first, dim_ * sizeof(float));
  for (; c >= 0; c = next_[c]) kernels::Axpy(1.0f, Contribution(c), scratch, dim_);
  return scratch;
}

std::vector<float> SparseGradient::RowGradient(uint64_t row) const {
  std::vector<float> g(dim_, 0.0f);
  if (stamp_ != 0 && row_marks_[row].stamp == stamp_) {
    const float* sum = Sum(row_marks_[row].slot, g.data());
    if (sum != g.data()) std::memcpy(g.data(), sum, dim_ * sizeof(float));
  }
  return g;
}

ModelGradient::ModelGradient(const Model::Impl& model)
    : layer_weights(model.layers.size()),
      layer_biases(model.layers.size()),
      entities(static_cast<uint64_t>(model.entity_rows()), model.dim),
      prefixes(static_cast<uint64_t>(model.prefix_rows()), model.dim) {
  for (size_t l = 0; l < model.layers.size(); ++l) {
    layer_weights[l].assign(model.layers[l].weight.size(), 0.0f);
    layer_biases[l].assign(model.layers[l].bias.size(), 0.0f);
  }
}

SparseAdam::SparseAdam(Model::Impl* model)
    : model_(model),
      dim_(model->dim),
      layers_(static_cast<int64_t>(model->layers.size())),
      weight_m_(layers_),
      weight_v_(layers_),
      bias_m_(layers_),
      bias_v_(layers_),
      entity_updates_(static_cast<uint64_t>(model->entity_rows()), 0),
      prefix_updates_(static_cast<uint64_t>(model->prefix_rows()), 0),
      bias_correction_(kBiasCorrectionSteps, 0.0f),
      rms_bias_correction_(kBiasCorrectionSteps, 0.0f) {
  for (int64_t l = 0; l < layers_; ++l) {
    weight_m_[l].assign(dim_ * dim_, 0.0f);
    weight_v_[l].assign(dim_ * dim_, 0.0f);
    bias_m_[l].assign(dim_, 0.0f);
    bias_v_[l].assign(dim_, 0.0f);
  }
  entity_moments_.assign(2 * model->entity_table.size(), 0.0f);
  prefix_second_moments_.assign(model->prefix_table.size(), 0.0f);
  for (size_t t = 1; t < bias_correction_.size(); ++t) {
    bias_correction_[t] = static_cast<float>(std::sqrt(1.0 - std::pow(0.999, double(t))) /
                                             (1.0 - std::pow(0.9, double(t))));
    rms_bias_correction_[t] = static_cast<float>(std::sqrt(1.0 - std::pow(0.999, double(t))));
  }
}

// Adam (kernels::AdamUpdate), for a parameter w with gradient g at step t:
//   g' = g + weight_decay * w
//   m = 0.9 m + 0.1 g'        v = 0.999 v + 0.001 g'^2
//   w -= lr_t * m / (sqrt(v) + 1e-8),   lr_t = lr * sqrt(1 - 0.999^t) / (1 - 0.9^t)
// with lr = learning_rate * learning_rate_scale. Dense layers: t counts the steps.
size_t SparseAdam::BeginStep(const ModelGradient& gradient, double learning_rate_scale) {
  gradient_ = &gradient;
  ++step_;
  const double lr = model_->hyperparameters.learning_rate;
  dense_step_.learning_rate = static_cast<float>(lr * learning_rate_scale *
                                                 std::sqrt(1.0 - std::pow(0.999, double(step_))) /
                                                 (1.0 - std::pow(0.9, double(step_))));
  dense_step_.weight_decay = static_cast<float>(model_->hyperparameters.weight_decay);
  scaled_learning_rate_ = lr * learning_rate_scale;
  dense_tasks_ = static_cast<size_t>(layers_ * (dim_ + 1));
  entity_tasks_ = Tasks(gradient.entities.touched_rows());
  prefix_tasks_ = Tasks(gradient.prefixes.touched_rows());
  return dense_tasks_ + entity_tasks_ + prefix_tasks_;
}

// Embedding rows: t counts that row's own updates, not the global step. With the global
// count, a row's first updates (rare entities, the /24 of a one-off trip) came out several
// times larger than anyone else's, as if its learning rate were multiplied by
// sqrt(1000 / updates). Measured: AUC +0.0002, recall at 3% FPR +0.0007 on the
// tutorial-like benchmark.
//
// Prefix rows take RMSprop steps (Adam without the first moment; bias correction
// sqrt(1 - 0.999^t)), entity rows and the dense layers Adam's. Why: the ~6,900 prefix rows a
// batch touches (of 262,144, tutorial shape) are scattered over the table, so each update
// streams its row from memory, and Adam's two moments per value made that three rows'
// worth; training was bound by it (measured: dropping the prefix moments' traffic altogether
// ran 1.19x faster). Quality on bench/quality_bench.sh's worlds, Adam -> RMSprop, test AUC
// and recall at 1% FPR:
//   networks 0.9964 0.898 -> 0.9964 0.902   networks-seed2 0.9967 0.919 -> 0.9967 0.920
//   asn      0.9927 0.706 -> 0.9930 0.722   asn-seed2      0.9924 0.671 -> 0.9923 0.672
//   ipv6     0.9956 0.871 -> 0.9962 0.889   ipv6-seed2     0.9958 0.887 -> 0.9958 0.887
//   demo     0.9950 0.852 -> 0.9947 0.859   demo-seed2     0.9964 0.908 -> 0.9964 0.903
//   demo-asn 0.9911 0.655 -> 0.9911 0.661   (the demo worlds' 1,000 attacks: +-0.01)
// Tried and not kept: one second moment per row (row-wise RMSprop, as embedding tables often
// use; 1.12x faster still): demo-asn's recall 0.655 -> 0.621 (with Adam's first moment kept
// per value: 0.628).
kernels::AdamStep SparseAdam::RowStep(bool entity, uint32_t* row_updates) const {
  kernels::AdamStep step = dense_step_;
  const uint32_t t = ++*row_updates;
  const std::vector<float>& correction = entity ? bias_correction_ : rms_bias_correction_;
  step.learning_rate =
      static_cast<float>(scaled_learning_rate_ * (t < correction.size() ? correction[t] : 1.0f));
  return step;
}

// Tasks: one per dense layer row and bias (layer-major), then the touched entity rows in
// chunks, then the touched prefix rows in chunks.
void SparseAdam::RunStepTask(size_t task, float* scratch) {
  Model::Impl& m = *model_;
  const int64_t dim = dim_;
  if (task < dense_tasks_) {
    const int64_t l = static_cast<int64_t>(task) / (dim + 1);
    const int64_t o = static_cast<int64_t>(task) % (dim + 1);
    DenseLayer& layer = m.layers[l];
    if (o < dim) {
      kernels::AdamUpdate(&layer.weight[o * dim], &weight_m_[l][o * dim], &weight_v_[l][o * dim],
                          &gradient_->layer_weights[l][o * dim], dim, dense_step_);
    } else {
      kernels::AdamUpdate(layer.bias.data(), bias_m_[l].data(), bias_v_[l].data(),
                          gradient_->layer_biases[l].data(), dim, dense_step_);
    }
    return;
  }
  const bool entity = task < dense_tasks_ + entity_tasks_;
  const size_t chunk = entity ? task - dense_tasks_ : task - dense_tasks_ - entity_tasks_;
  const SparseGradient& rows = entity ? gradient_->entities : gradient_->prefixes;
  float* table = entity ? m.entity_table.data() : m.prefix_table.data();
  // Entity rows: [m | v] per row (Adam); prefix rows: v per row (RMSprop, see RowStep).
  float* moments = entity ? entity_moments_.data() : prefix_second_moments_.data();
  const size_t moments_per_row = (entity ? 2 : 1) * static_cast<size_t>(dim);
  uint32_t* updates = entity ? entity_updates_.data() : prefix_updates_.data();
  const size_t begin = chunk * kRowsPerTask;
  const size_t end = std::min(rows.touched_rows(), begin + kRowsPerTask);
  // The rows are scattered over large tables: ask for the next ones' lines early.
  constexpr size_t kAhead = 3;
  auto prefetch = [&](size_t slot) {
    const uint64_t row = rows.row(slot);
    kernels::Prefetch(table + row * dim, dim, true);
    kernels::Prefetch(moments + row * moments_per_row, moments_per_row, true);
  };
  for (size_t slot = begin; slot < std::min(end, begin + kAhead); ++slot) prefetch(slot);
  for (size_t slot = begin; slot < end; ++slot) {
    if (slot + kAhead < end) prefetch(slot + kAhead);
    const float* gradient = rows.Sum(slot, scratch);
    const uint64_t row = rows.row(slot);
    float* row_moments = moments + row * moments_per_row;
    const kernels::AdamStep step = RowStep(entity, &updates[row]);
    if (entity) {
      kernels::AdamUpdate(table + row * dim, row_moments, row_moments + dim, gradient, dim, step);
    } else {
      kernels::RmsPropUpdate(table + row * dim, row_moments, gradient, dim, step);
    }
  }
}

}  // namespace ipinsights
