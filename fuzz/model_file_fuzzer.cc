// Fuzzes the model file loader (model/model_file.h, ParseModelFile: what Model::Load runs on
// a file's bytes). Truncated, corrupted or foreign bytes must be an Error, never a crash and
// never an allocation the file's size cannot back.
//
// Almost every mutation breaks the trailing XXH3 checksum, which the loader checks first,
// so each input is also parsed with its checksum recomputed: that drives the header JSON,
// shape checks and weight layout with arbitrary bytes. A model that loads must score.
#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz/fuzz_util.h"
#include "ipinsights/base/error.h"
#include "ipinsights/model/model.h"
#include "ipinsights/model/model_file.h"

using namespace ipinsights;

namespace {

void LoadAndUse(std::string_view bytes) {
  std::unique_ptr<Model::Impl> impl;
  try {
    impl = ParseModelFile(bytes, "fuzz.ipinsights");
  } catch (const Error&) {
    return;  // a clean rejection
  }
  Model model(std::move(impl));
  FUZZ_CHECK(model.vector_dim() >= 1, "a loaded model has a dimension");
  std::string_view entities[3] = {"AIDAEXAMPLE", "", "user-2"};
  IpAddress ips[3] = {*IpAddress::Parse("203.0.113.7"), *IpAddress::Parse("2001:db8::1"),
                      *IpAddress::Parse("10.0.0.1")};
  float scores[3];
  model.ScoreBatch(entities, ips, 3, scores);
  float single = model.Score(entities[0], ips[0]);
  FUZZ_CHECK(std::memcmp(&single, &scores[0], sizeof single) == 0 || single != single,
             "Score equals ScoreBatch bit for bit");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = fuzz::AsText(data, size);
  LoadAndUse(bytes);
  if (size >= 8) {
    std::string fixed(bytes);
    uint64_t checksum = XXH3_64bits(fixed.data(), fixed.size() - 8);
    for (int i = 0; i < 8; ++i)
      fixed[fixed.size() - 8 + i] = static_cast<char>(checksum >> (8 * i));
    LoadAndUse(fixed);
  }
  return 0;
}
