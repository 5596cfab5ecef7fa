// Fuzzes the history file reader (history/entity_history.h, ParseHistoryFile: what `train`
// and `score` run on a DEST.history or history.ipinsights file). Truncated, corrupted or
// foreign bytes must be an Error, never a crash and never an allocation the file's size
// cannot back.
//
// Almost every mutation breaks the length field or the trailing XXH3 checksum, which the
// reader checks first, so each input is also parsed with both recomputed: that drives the
// record checks with arbitrary bytes. A history that loads must find each of its entities
// and write itself back byte for byte (the format has one spelling of a history).
#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "fuzz/fuzz_util.h"
#include "ipinsights/base/error.h"
#include "ipinsights/history/entity_history.h"

using namespace ipinsights;

namespace {

void LoadAndUse(std::string_view bytes) {
  EntityHistory history;
  try {
    history = ParseHistoryFile(bytes, "fuzz.history");
  } catch (const Error&) {
    return;  // a clean rejection
  }
  for (const EntityRecord& record : history.records()) {
    FUZZ_CHECK(history.Find(record.entity) == &record, "Find returns the entity's record");
    for (const NetworkUse& use : record.fine) {
      FUZZ_CHECK(
          history.EntitiesOnNetwork(use.network.base, NetworkLevel::kFine) <= history.entities(),
          "at most every entity on a network");
    }
  }
  const std::string& path = fuzz::WriteFuzzTempFile(nullptr, 0, ".history");
  WriteHistoryFile(history, path);
  FUZZ_CHECK(ReadWholeObject(path) == bytes, "a history writes back byte for byte");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = fuzz::AsText(data, size);
  LoadAndUse(bytes);
  if (size >= 24) {
    std::string fixed(bytes);
    const uint64_t length = fixed.size();
    std::memcpy(fixed.data() + 16, &length, sizeof(length));
    const uint64_t checksum = XXH3_64bits(fixed.data(), fixed.size() - 8);
    std::memcpy(fixed.data() + fixed.size() - 8, &checksum, sizeof(checksum));
    LoadAndUse(fixed);
  }
  return 0;
}
