// Fuzzes the inference request decoders (serve/request_codec.h): every input is decoded as
// text/csv, application/json and application/jsonlines. A malformed body must come back as
// an error message, never a crash. Invariants on success: one entity per address, every
// entity view readable (ASan catches a view into freed memory), and decoding appends (a
// second decode into the same batch doubles it with equal pairs).
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz/fuzz_util.h"
#include "ipinsights/base/error.h"
#include "ipinsights/serve/request_codec.h"

using namespace ipinsights;

namespace {

void DecodeAs(RequestFormat format, std::string_view body) {
  PairBatch batch;
  std::optional<std::string> error = DecodeRequest(format, body, &batch);
  FUZZ_CHECK(batch.entities.size() == batch.ips.size(), "one entity per address");
  if (error) {
    FUZZ_CHECK(!error->empty(), "an error says what is wrong");
    return;
  }
  size_t checksum = 0;
  for (std::string_view entity : batch.entities) {
    for (char c : entity) checksum += static_cast<unsigned char>(c);
  }
  (void)checksum;
  // Keep the first decode's pairs as strings: a JSON batch's entities may point into the
  // thread's parser, which the next decode reuses.
  std::vector<std::string> entities(batch.entities.begin(), batch.entities.end());
  std::vector<IpAddress> ips = batch.ips;
  PairBatch twice;
  FUZZ_CHECK(!DecodeRequest(format, body, &twice), "decoding is deterministic");
  FUZZ_CHECK(!DecodeRequest(format, body, &twice), "decoding appends");
  FUZZ_CHECK(twice.size() == 2 * ips.size(), "a second decode appends as many pairs");
  for (size_t i = 0; i < ips.size(); ++i) {
    FUZZ_CHECK(twice.ips[i] == ips[i] && twice.ips[i + ips.size()] == ips[i], "same addresses");
    FUZZ_CHECK(twice.entities[i + ips.size()] == entities[i], "same entities");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = fuzz::AsText(data, size);
  for (RequestFormat format :
       {RequestFormat::kCsv, RequestFormat::kJson, RequestFormat::kJsonLines}) {
    try {
      DecodeAs(format, body);
    } catch (const Error&) {
      // A clean rejection.
    }
  }
  return 0;
}
