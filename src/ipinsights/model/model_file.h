// The model file `model.ipinsights` (specified in docs/formats/model-file.md): magic,
// format version, a JSON header (hyperparameters, hash seed, shapes), the weights as
// little-endian float32 arrays, and an XXH3-64 checksum of everything before it.
//
// Thread-safety: free functions; concurrent calls on different locations are safe.
//
//   WriteModelFile(impl, "out/model.ipinsights");      // atomic (Storage::OpenWritable)
//   std::unique_ptr<Model::Impl> impl = ReadModelFile("out/model.ipinsights");
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ipinsights/model/model_impl.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {

inline constexpr char kModelFileMagic[8] = {'\x89', 'I', 'P', 'I', 'M', 'D', 'L', '\n'};
// Version 2 adds entity_novelty's rate slots and network shares. A model with neither is
// written as version 1, byte for byte as before, so earlier readers keep reading it; one with
// them is version 2, which they refuse by its number instead of misreading its arrays.
inline constexpr uint32_t kModelFormatVersion = 2;
inline constexpr uint32_t kModelFormatVersionBeforeSlots = 1;

// Throws Error naming `location` when it cannot be written.
void WriteModelFile(const Model::Impl& model, const std::string& location);

// Appends the whole file to `file` without closing it (the caller closes it, possibly
// together with other outputs). Throws Error.
void WriteModelFile(const Model::Impl& model, WritableFile* file);

// Throws Error naming `location` and the reason: not a model file, unsupported version,
// truncated, corrupted (checksum), inconsistent header, a non-finite weight.
std::unique_ptr<Model::Impl> ReadModelFile(const std::string& location);

// The same, from bytes already in memory (`location` only names them in errors).
std::unique_ptr<Model::Impl> ParseModelFile(std::string_view bytes, const std::string& location);

// Where the first NaN or infinite weight is ("entity_table[17] = nan"), or "" when every
// weight is finite.
std::string FirstNonFiniteWeight(const Model::Impl& model);

}  // namespace ipinsights
