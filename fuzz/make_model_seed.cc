// Writes the model_file fuzzer's seeds: small real model files (Model::Create with tiny
// hyperparameters, as tests do), with and without IP encoder layers.
//
//   build/release/fuzz/make_model_seed fuzz/corpus/model_file
#include <cstdio>
#include <string>

#include "ipinsights/base/error.h"
#include "ipinsights/model/hyperparameters.h"
#include "ipinsights/model/model.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  try {
    const std::string dir = argv[1];
    for (int layers : {0, 1, 2}) {
      ipinsights::Hyperparameters hp;
      hp.num_entity_vectors = 8;
      hp.vector_dim = 4;
      hp.ip_hash_buckets = 1024;
      hp.num_ip_encoder_layers = layers;
      ipinsights::Model::Create(hp, 7 + layers)
          ->Save(dir + "/tiny-" + std::to_string(layers) + "-layers.ipinsights");
    }
  } catch (const ipinsights::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
