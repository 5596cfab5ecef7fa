// SparseAdam: the optimiser training uses. Adam on the dense layers and the entity table,
// RMSprop (Adam without its first moment) on the prefix table, for speed (see RowStep in
// sparse_adam.cc), with lazy ("sparse") updates of the two embedding tables: a step updates
// the dense layers and only the embedding rows the mini-batch touched; untouched rows and
// their moments stay as they are (shared/spec/ALGORITHM.md).
//
// ModelGradient holds one mini-batch's gradient of the mean loss: dense per layer, and per
// embedding table a SparseGradient, the touched rows each with a list of contributions
// (vectors in the caller's buffers, summed when the step runs, so the caller never
// scatters into a table-sized array).
//
// Thread-safety: a step is BeginStep() from one thread, then RunStepTask() for each of its
// tasks, which may run concurrently on any threads (tasks write disjoint parameters). The
// result does not depend on which thread runs which task. Everything else: one thread.
//
//   SparseAdam adam(&model);
//   ModelGradient gradient(model);
//   gradient.entities.Reset(entity_gradients, /*stride=*/1, pairs);
//   for (size_t j = 0; j < pairs; ++j) gradient.entities.Add(entity_row[j], j);
//   ... the same for gradient.prefixes, then fill gradient.layer_weights / layer_biases
//   const size_t tasks = adam.BeginStep(gradient, /*learning_rate_scale=*/1.0);
//   pool.Run(tasks, [&](size_t task, size_t worker) { adam.RunStepTask(task, scratch[worker]); });
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ipinsights/model/kernels.h"
#include "ipinsights/model/model_impl.h"

namespace ipinsights {

// The gradient of one embedding table for one mini-batch: the rows it touched, each with
// the list of its contributions. A contribution is a number c < contributions (given to
// Reset) whose gradient is the dim floats at gradients + (c / stride) * dim; a stride
// above 1 lets several contributions share one vector (an address's prefix rows all get
// the address's gradient).
class SparseGradient {
 public:
  SparseGradient(uint64_t table_rows, int64_t dim);

  // Starts a mini-batch: forgets every row. `gradients` must stay valid, and hold the
  // final values, until the step that reads it has run.
  void Reset(const float* gradients, size_t stride, size_t contributions);
  // Adds contribution c (< contributions, each added once) to `row` (< table_rows).
  void Add(uint64_t row, uint32_t contribution);

  // The touched rows, in the order of their first Add; slot < touched_rows().
  size_t touched_rows() const { return rows_.size(); }
  uint64_t row(size_t slot) const { return rows_[slot]; }
  // The sum of the slot's contributions, the last one added first (a fixed order): the
  // contribution itself when it is the only one (most prefix rows of a batch), else written
  // to `scratch` (dim floats) and returned.
  const float* Sum(size_t slot, float* scratch) const;
  // The gradient of `row`: dim zeros when the mini-batch did not touch it.
  std::vector<float> RowGradient(uint64_t row) const;

 private:
  const float* Contribution(int32_t c) const {
    return gradients_ + (static_cast<size_t>(c) / stride_) * dim_;
  }

  int64_t dim_;
  const float* gradients_ = nullptr;
  size_t stride_ = 1;
  // A row is touched in this mini-batch when row_marks_[row].stamp == stamp_; it then owns
  // slot row_marks_[row].slot (the two side by side: one cache miss per Add, not two).
  // Each slot's contributions are a linked list: head_[slot], next_[contribution], -1 at
  // the end.
  struct RowMark {
    uint32_t stamp = 0;
    uint32_t slot = 0;
  };
  uint32_t stamp_ = 0;
  std::vector<RowMark> row_marks_;
  std::vector<uint64_t> rows_;
  std::vector<int32_t> head_, next_;
};

// d(mean loss)/d(each parameter) of one mini-batch, shaped like the model.
struct ModelGradient {
  explicit ModelGradient(const Model::Impl& model);

  std::vector<std::vector<float>> layer_weights;  // per layer, shaped as DenseLayer::weight
  std::vector<std::vector<float>> layer_biases;   // per layer, shaped as DenseLayer::bias
  SparseGradient entities;                        // rows of entity_table
  SparseGradient prefixes;                        // rows of prefix_table
};

class SparseAdam {
 public:
  // Zero moments for every parameter of `model` (not owned; it must outlive this).
  explicit SparseAdam(Model::Impl* model);

  // Starts step t (1, 2, ...) from `gradient`, which must stay unchanged until the step's
  // tasks have run; the step's learning rate is the model's learning_rate times
  // `learning_rate_scale` (the caller's schedule). Returns the number of tasks.
  size_t BeginStep(const ModelGradient& gradient, double learning_rate_scale);
  // Runs task `task` (< BeginStep's count) of the current step. `scratch`: dim floats,
  // the caller's per thread.
  void RunStepTask(size_t task, float* scratch);

 private:
  // The step of an entity row (Adam) or a prefix row (RMSprop) at its next update.
  kernels::AdamStep RowStep(bool entity, uint32_t* row_updates) const;

  Model::Impl* model_;
  int64_t dim_;
  int64_t layers_;
  const ModelGradient* gradient_ = nullptr;
  uint64_t step_ = 0;
  kernels::AdamStep dense_step_{};   // this step's, for the dense layers
  double scaled_learning_rate_ = 0;  // learning_rate * learning_rate_scale of this step
  size_t dense_tasks_ = 0, entity_tasks_ = 0, prefix_tasks_ = 0;

  // Moments m (first) and v (second) of each parameter. Entity table: per row
  // [m (dim floats) | v (dim floats)], so a touched row's state is one stream; prefix table:
  // v only (RMSprop).
  std::vector<std::vector<float>> weight_m_, weight_v_, bias_m_, bias_v_;
  FloatTable entity_moments_, prefix_second_moments_;
  // Updates each embedding row has had: its own Adam step count t (see RowStep).
  std::vector<uint32_t> entity_updates_, prefix_updates_;
  // [t]: sqrt(1 - beta2^t) / (1 - beta1^t), Adam's bias correction at step t (t < size).
  std::vector<float> bias_correction_;
  std::vector<float> rms_bias_correction_;  // [t]: sqrt(1 - beta2^t), RMSprop's
};

}  // namespace ipinsights
