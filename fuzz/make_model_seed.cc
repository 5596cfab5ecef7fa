// Writes the model_file fuzzer's seeds: small real model files (Model::Create with tiny
// hyperparameters, as tests do), with and without IP encoder layers, and one with what train
// adds to the header and after the layers (a score calibration, entity novelty rates, its
// history's checksum).
//
//   build/release/fuzz/make_model_seed fuzz/corpus/model_file
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "ipinsights/base/error.h"
#include "ipinsights/model/hyperparameters.h"
#include "ipinsights/model/model.h"
#include "ipinsights/model/model_impl.h"
#include "ipinsights/model/score_calibration.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  try {
    const std::string dir = argv[1];
    auto tiny = [](int layers) {
      ipinsights::Hyperparameters hp;
      hp.num_entity_vectors = 8;
      hp.vector_dim = 4;
      hp.ip_hash_buckets = 1024;
      hp.num_ip_encoder_layers = layers;
      return hp;
    };
    for (int layers : {0, 1, 2}) {
      ipinsights::Model::Create(tiny(layers), 7 + layers)
          ->Save(dir + "/tiny-" + std::to_string(layers) + "-layers.ipinsights");
    }
    const ipinsights::Hyperparameters hp = tiny(1);
    std::shared_ptr<ipinsights::Model> model = ipinsights::Model::Create(hp, 11);
    ipinsights::Model::Impl& impl = model->impl();
    std::vector<float> normal;
    for (int i = 0; i < 200; ++i) normal.push_back(-3.0f + 0.05f * static_cast<float>(i));
    impl.calibration = ipinsights::CalibrateScores(normal, 0.01, "validation");
    impl.novelty.model_weight = 0.5f;
    impl.novelty.model_offset = -1;
    impl.novelty.fade_below = -6;
    impl.novelty.mean_rate = 0.02;
    impl.novelty.source = "validation";
    for (int row = 0; row < hp.num_entity_vectors; ++row) {
      impl.novelty.log_rate.push_back(std::log(0.005f + 0.01f * static_cast<float>(row)));
    }
    impl.history_checksum = 0x0123456789abcdefULL;
    model->Save(dir + "/tiny-novelty.ipinsights");
    // Today's fit: no fade, rates per slot of the entity's hash. (The network shares are
    // 131,072 floats, too big a seed; their header keys and array read as the rates do.)
    impl.novelty.fade_below = -std::numeric_limits<float>::infinity();
    impl.novelty.rate_slots = 1024;
    impl.novelty.log_rate.assign(1024, std::log(0.02f));
    model->Save(dir + "/tiny-novelty-slots.ipinsights");
  } catch (const ipinsights::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
