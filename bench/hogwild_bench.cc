// hogwild_bench: issue 3's "measure Hogwild-style against data-parallel". Trains the same
// model (the tutorial's hyperparameters) on the same rows twice, in one run:
//   data-parallel: the product's Trainer, every thread on each mini-batch, synchronous steps
//                  (deterministic, bit for bit whatever the thread count);
//   Hogwild-style: one single-threaded Trainer per thread, each on its own share of every
//                  epoch, all writing the same weights without locks (each keeps its own Adam
//                  moments, as Hogwild implementations of Adam do).
// and prints records/s and the test AUC of each on labelled pairs (simulate's labels.csv).
//
// The Hogwild run races on the weights by design: formally undefined behaviour in C++, so
// it lives here, as a measurement, and never in the product (which must also be
// deterministic, which Hogwild cannot be).
//
//   build/release/hogwild_bench train.csv labels.csv [threads]
//   (bench/train_bench.sh's work folder has both: train.csv and sim/labels.csv)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <utility>
#include <vector>

#include "ipinsights/base/error.h"
#include "ipinsights/base/hash.h"
#include "ipinsights/dataset/labels_reader.h"
#include "ipinsights/eval/labeled_scores.h"
#include "ipinsights/model/model.h"
#include "ipinsights/train/trainer.h"
#include "ipinsights/train/training_set.h"

namespace ipinsights {
namespace {

Hyperparameters TutorialHyperparameters() {
  Hyperparameters hp;
  hp.num_entity_vectors = 20000;
  hp.vector_dim = 128;
  hp.random_negative_sampling_rate = 5;
  hp.shuffled_negative_sampling_rate = 1;
  hp.mini_batch_size = 1000;
  hp.epochs = 5;
  hp.learning_rate = 0.01;
  return hp;
}

double TestAuc(const Model& model, const LabeledPairs& labels) {
  std::vector<float> scores(labels.size());
  model.ScoreBatch(labels.entities.data(), labels.ips.data(), labels.size(), scores.data());
  std::vector<float> normal, attack;
  for (size_t i = 0; i < labels.size(); ++i)
    (labels.labels[i] ? attack : normal).push_back(scores[i]);
  return LabeledScores(std::move(normal), std::move(attack)).Auc();
}

struct RunResult {
  double records_per_second;
  double auc;
};

RunResult DataParallel(const Hyperparameters& hp, std::vector<TrainingRow> rows, size_t threads,
                       const LabeledPairs& labels) {
  std::shared_ptr<Model> model = Model::Create(hp, 1);
  Trainer trainer(&model->impl(), TrainerOptions{threads, 1, static_cast<int>(hp.epochs)});
  uint64_t records = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int epoch = 0; epoch < hp.epochs; ++epoch)
    records += trainer.TrainEpoch(&rows, epoch, nullptr).records;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {records / seconds, TestAuc(*model, labels)};
}

RunResult Hogwild(const Hyperparameters& hp, const std::vector<TrainingRow>& rows, size_t threads,
                  const LabeledPairs& labels) {
  std::shared_ptr<Model> model = Model::Create(hp, 1);
  std::vector<std::unique_ptr<Trainer>> trainers;
  for (size_t t = 0; t < threads; ++t) {
    trainers.push_back(std::make_unique<Trainer>(
        &model->impl(), TrainerOptions{1, 1 + t, static_cast<int>(hp.epochs)}));
    trainers.back()->SetNegativeNetworks(rows);
  }
  // Each thread gets an interleaved share (every threads-th row); TrainEpoch shuffles it.
  std::vector<std::vector<TrainingRow>> shares(threads);
  for (size_t i = 0; i < rows.size(); ++i) shares[i % threads].push_back(rows[i]);
  std::vector<uint64_t> records(threads, 0);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int epoch = 0; epoch < hp.epochs; ++epoch) {
        records[t] += trainers[t]->TrainEpoch(&shares[t], epoch, nullptr).records;
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  uint64_t total = 0;
  for (uint64_t r : records) total += r;
  return {total / seconds, TestAuc(*model, labels)};
}

}  // namespace
}  // namespace ipinsights

int main(int argc, char** argv) {
  using namespace ipinsights;
  if (argc < 3) {
    std::fprintf(stderr, "usage: hogwild_bench TRAIN.csv LABELS.csv [THREADS]\n");
    return 2;
  }
  try {
    const size_t threads = argc > 3 ? static_cast<size_t>(std::atoi(argv[3])) : 2;
    const Hyperparameters hp = TutorialHyperparameters();
    const uint64_t hash_seed = Model::Create(hp, 1)->hash_seed();
    const TrainingSet train = LoadTrainingSet(argv[1], hash_seed, nullptr);
    const LabeledPairs labels = ReadLabels(argv[2]);
    std::printf(
        "hogwild_bench: %zu training rows, %zu labelled pairs, %zu threads, tutorial "
        "hyperparameters\n",
        train.rows.size(), labels.size(), threads);
    const RunResult dp = DataParallel(hp, train.rows, threads, labels);
    std::printf("  data-parallel (the product)  %10.0f records/s  test AUC %.4f\n",
                dp.records_per_second, dp.auc);
    const RunResult hw = Hogwild(hp, train.rows, threads, labels);
    std::printf("  Hogwild-style                %10.0f records/s  test AUC %.4f\n",
                hw.records_per_second, hw.auc);
    std::printf("  data-parallel / Hogwild: %.2fx the speed, AUC %+.4f\n",
                dp.records_per_second / hw.records_per_second, dp.auc - hw.auc);
  } catch (const Error& e) {
    std::fprintf(stderr, "hogwild_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
