#include "ipinsights/model/model_file.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>

#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the model file stores little-endian floats; add byte swapping for this CPU");

// Names the prefix scheme of IpPrefixRows; a model trained with another scheme is refused.
constexpr const char* kIpEncoderName =
    "prefix-sum v4:/8,/16(direct when >= 131584 rows),/24 v6:/16,/32,/48,/64";

constexpr size_t kFixedHeaderBytes = 24;  // magic, version, reserved, header length
constexpr size_t kChecksumBytes = 8;
constexpr size_t kAlignment = 64;  // weights start on a 64-byte boundary

size_t PaddedHeaderEnd(uint64_t header_bytes) {
  const size_t end = kFixedHeaderBytes + header_bytes;
  return (end + kAlignment - 1) / kAlignment * kAlignment;
}

template <typename T>
void PutLittle(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <typename T>
T GetLittle(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

// A JSON string literal for `text`.
std::string JsonString(std::string_view text) {
  std::string out;
  AppendJsonString(&out, text);
  return out;
}

std::string HeaderJson(const Model::Impl& model) {
  std::string layers = "[";
  for (size_t l = 0; l < model.layers.size(); ++l) {
    if (l > 0) layers += ", ";
    layers += fmt::format(R"({{"inputs": {}, "outputs": {}, "activation": "{}"}})",
                          model.layers[l].inputs, model.layers[l].outputs,
                          l + 1 == model.layers.size() ? "linear" : "relu");
  }
  layers += "]";
  // "calibration" only when there is one: older readers ignore the key, and a model
  // without it reads back as one without calibration.
  const std::string calibration =
      model.calibration ? ", \"calibration\": " + CalibrationJson(*model.calibration) : "";
  // "entity_novelty" likewise; its rates (and per-network shares, when it has the network
  // term) are the last weight arrays.
  const std::string novelty =
      model.novelty.empty() ? "" : ", \"entity_novelty\": " + EntityNoveltyJson(model.novelty);
  // 16 hex digits: a JSON number would not carry 64 bits through every reader.
  const std::string history =
      model.history_checksum
          ? fmt::format(", \"history_checksum\": \"{:016x}\"", *model.history_checksum)
          : "";
  return fmt::format(R"({{"format": "ipinsights-model", "hyperparameters": {}, "hash_seed": "{}", )"
                     R"("vector_dim": {}, "entity_rows": {}, "prefix_rows": {}, )"
                     R"("ip_encoder": "{}", )"
                     R"("layers": {}, "training": {}{}{}{}}})",
                     model.hyperparameters.ToJson(), model.hash_seed, model.dim,
                     model.entity_rows(), model.prefix_rows(), kIpEncoderName, layers,
                     JsonString(model.training_info), calibration, novelty, history);
}

// Every weight array, in file order.
template <typename ImplT, typename Fn>
void ForEachArray(ImplT& model, Fn&& fn) {
  fn(model.entity_table);
  fn(model.prefix_table);
  for (auto& layer : model.layers) {
    fn(layer.weight);
    fn(layer.bias);
  }
  if (!model.novelty.log_rate.empty()) fn(model.novelty.log_rate);
  if (!model.novelty.log_network_share.empty()) fn(model.novelty.log_network_share);
}

}  // namespace

void WriteModelFile(const Model::Impl& model, const std::string& location) {
  std::unique_ptr<WritableFile> file = OpenStorage(location).OpenWritable(location);
  WriteModelFile(model, file.get());
  file->Close();
}

void WriteModelFile(const Model::Impl& model, WritableFile* file) {
  // The arrays must be what the header will say they are, or the file would not read back.
  const EntityNovelty& novelty = model.novelty;
  const uint64_t rates =
      novelty.rate_slots != 0 ? novelty.rate_slots : static_cast<uint64_t>(model.entity_rows());
  if (!novelty.empty() &&
      (novelty.log_rate.size() != rates ||
       (!novelty.log_network_share.empty() && novelty.log_network_share.size() != kNetworkSlots))) {
    throw Error(fmt::format(
        "entity novelty of {} rates and {} network shares does not match "
        "its {} rate slots and {} network slots",
        novelty.log_rate.size(), novelty.log_network_share.size(), rates, kNetworkSlots));
  }
  if (novelty.empty() && !novelty.log_network_share.empty()) {
    throw Error("entity novelty has network shares but no rates");
  }
  const bool slots = novelty.rate_slots != 0 || !novelty.log_network_share.empty();
  const std::string header = HeaderJson(model);
  std::string prefix(kModelFileMagic, sizeof(kModelFileMagic));
  PutLittle<uint32_t>(prefix, slots ? kModelFormatVersion : kModelFormatVersionBeforeSlots);
  PutLittle<uint32_t>(prefix, 0);
  PutLittle<uint64_t>(prefix, header.size());
  prefix += header;
  prefix.resize(PaddedHeaderEnd(header.size()), '\0');

  XXH3_state_t* state = XXH3_createState();
  if (state == nullptr) throw Error("out of memory");
  XXH3_64bits_reset(state);
  try {
    auto append = [&](std::string_view bytes) {
      XXH3_64bits_update(state, bytes.data(), bytes.size());
      file->Append(bytes);
    };
    append(prefix);
    ForEachArray(model, [&](const auto& values) {
      // Large tables go out in 16 MB pieces so a remote writer can stream them.
      const char* data = reinterpret_cast<const char*>(values.data());
      const size_t bytes = values.size() * sizeof(float);
      for (size_t offset = 0; offset < bytes; offset += (16u << 20)) {
        append(std::string_view(data + offset, std::min<size_t>(16u << 20, bytes - offset)));
      }
    });
    std::string checksum;
    PutLittle<uint64_t>(checksum, XXH3_64bits_digest(state));
    file->Append(checksum);
  } catch (...) {
    XXH3_freeState(state);
    throw;
  }
  XXH3_freeState(state);
}

namespace {

// Index of the first NaN or infinity in `values`, or values.size(). Tests the exponent bits
// (all ones) rather than std::isfinite, so it holds under any floating-point flags. Adding
// one exponent step carries into bit 31 only for an all-ones exponent; that add-and-OR
// vectorises, so the pass costs about what the XXH3 checksum does (256 MB: 54 vs 49 ms).
template <typename Values>
size_t FirstNonFinite(const Values& values) {
  constexpr size_t kBlock = 4096;
  for (size_t start = 0; start < values.size(); start += kBlock) {
    const size_t end = std::min(values.size(), start + kBlock);
    uint32_t bad = 0;
    for (size_t i = start; i < end; ++i) {
      bad |= (std::bit_cast<uint32_t>(values[i]) & 0x7f800000u) + 0x00800000u;
    }
    if (!(bad & 0x80000000u)) continue;
    for (size_t i = start; i < end; ++i) {
      if ((std::bit_cast<uint32_t>(values[i]) & 0x7f800000u) == 0x7f800000u) return i;
    }
  }
  return values.size();
}

}  // namespace

std::string FirstNonFiniteWeight(const Model::Impl& model) {
  auto check = [](const auto& values, const std::string& name) -> std::string {
    size_t i = FirstNonFinite(values);
    return i < values.size() ? fmt::format("{}[{}] = {}", name, i, values[i]) : "";
  };
  std::string where = check(model.entity_table, "entity_table");
  if (where.empty()) where = check(model.prefix_table, "prefix_table");
  for (size_t l = 0; l < model.layers.size() && where.empty(); ++l) {
    where = check(model.layers[l].weight, fmt::format("layer {} weight", l));
    if (where.empty()) where = check(model.layers[l].bias, fmt::format("layer {} bias", l));
  }
  if (where.empty()) where = check(model.novelty.log_rate, "entity novelty rate");
  if (where.empty()) where = check(model.novelty.log_network_share, "network share");
  return where;
}

std::unique_ptr<Model::Impl> ReadModelFile(const std::string& location) {
  std::string bytes;
  OpenStorage(location).ReadAll(location, &bytes);
  return ParseModelFile(bytes, location);
}

std::unique_ptr<Model::Impl> ParseModelFile(std::string_view bytes, const std::string& location) {
  if (bytes.size() < sizeof(kModelFileMagic) ||
      std::memcmp(bytes.data(), kModelFileMagic, sizeof(kModelFileMagic)) != 0) {
    throw Error(fmt::format("{}: not an ipinsights model file (bad magic bytes)", location));
  }
  if (bytes.size() < kFixedHeaderBytes + kChecksumBytes) {
    throw Error(fmt::format("{}: truncated model file ({} bytes)", location, bytes.size()));
  }
  const uint32_t version = GetLittle<uint32_t>(bytes.data() + 8);
  if (version != kModelFormatVersion && version != kModelFormatVersionBeforeSlots) {
    throw Error(fmt::format("{}: unsupported model format version {} (this build reads {} and {})",
                            location, version, kModelFormatVersionBeforeSlots,
                            kModelFormatVersion));
  }
  const uint64_t header_bytes = GetLittle<uint64_t>(bytes.data() + 16);
  if (header_bytes > bytes.size() - kFixedHeaderBytes - kChecksumBytes) {
    throw Error(
        fmt::format("{}: truncated or corrupted model file (header of {} bytes in a "
                    "file of {} bytes)",
                    location, header_bytes, bytes.size()));
  }
  const std::string_view header = bytes.substr(kFixedHeaderBytes, header_bytes);

  auto model = std::make_unique<Model::Impl>();
  int64_t entity_rows = -1, prefix_rows = -1, dim = -1;
  std::vector<std::pair<int64_t, int64_t>> layer_shapes;
  bool have_seed = false;
  bool have_encoder = false;
  bool have_novelty = false;
  try {
    simdjson::padded_string padded(header);
    simdjson::ondemand::parser parser;
    simdjson::ondemand::document doc = parser.iterate(padded);
    simdjson::ondemand::object object = doc.get_object();
    for (auto field : object) {
      const std::string key(std::string_view(field.unescaped_key()));
      simdjson::ondemand::value value = field.value();
      if (key == "format") {
        if (std::string_view(value.get_string()) != "ipinsights-model") {
          throw Error(fmt::format("{}: not an ipinsights model file (format field)", location));
        }
      } else if (key == "hyperparameters") {
        for (auto hp_field : value.get_object()) {
          const std::string name(std::string_view(hp_field.unescaped_key()));
          const std::string text(std::string_view(hp_field.value().get_string()));
          model->hyperparameters.Set(name, text);
        }
      } else if (key == "hash_seed") {
        const std::string text(std::string_view(value.get_string()));
        model->hash_seed = std::stoull(text);
        have_seed = true;
      } else if (key == "ip_encoder") {
        const std::string_view name = value.get_string();
        if (name != kIpEncoderName) {
          throw Error(fmt::format("{}: unsupported IP encoder \"{}\" (this build has \"{}\")",
                                  location, name, kIpEncoderName));
        }
        have_encoder = true;
      } else if (key == "vector_dim") {
        dim = value.get_int64();
      } else if (key == "entity_rows") {
        entity_rows = value.get_int64();
      } else if (key == "prefix_rows") {
        prefix_rows = value.get_int64();
      } else if (key == "layers") {
        for (auto layer : value.get_array()) {
          simdjson::ondemand::object layer_object = layer.get_object();
          int64_t inputs = layer_object["inputs"].get_int64();
          int64_t outputs = layer_object["outputs"].get_int64();
          layer_shapes.emplace_back(inputs, outputs);
        }
      } else if (key == "training") {
        model->training_info = std::string(std::string_view(value.get_string()));
      } else if (key == "calibration") {
        simdjson::ondemand::object calibration = value.get_object();
        const std::string_view raw = calibration.raw_json();
        model->calibration = ParseCalibrationJson(raw, location + ": corrupted model file");
      } else if (key == "entity_novelty") {
        simdjson::ondemand::object novelty = value.get_object();
        const std::string_view raw = novelty.raw_json();
        model->novelty = ParseEntityNoveltyJson(raw, location + ": corrupted model file");
        have_novelty = true;
      } else if (key == "history_checksum") {
        const std::string_view text = value.get_string();
        uint64_t checksum = 0;
        const auto [end, error] =
            std::from_chars(text.data(), text.data() + text.size(), checksum, 16);
        if (text.size() != 16 || error != std::errc() || end != text.data() + text.size()) {
          throw Error(
              fmt::format("{}: corrupted model file (history_checksum \"{}\" is not 16 hex digits)",
                          location, text));
        }
        model->history_checksum = checksum;
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    throw Error(
        fmt::format("{}: corrupted model file (header is not valid JSON: {})", location, e.what()));
  } catch (const UsageError& e) {
    throw Error(fmt::format("{}: corrupted model file (header: {})", location, e.what()));
  } catch (const std::logic_error& e) {
    throw Error(fmt::format("{}: corrupted model file (bad hash_seed)", location));
  }
  const Hyperparameters& hp = model->hyperparameters;
  if (!have_seed || !have_encoder || dim != hp.vector_dim || entity_rows != hp.num_entity_vectors ||
      prefix_rows != hp.ip_hash_buckets || prefix_rows <= 0 ||
      static_cast<int64_t>(layer_shapes.size()) != hp.num_ip_encoder_layers) {
    throw Error(fmt::format("{}: corrupted model file (header shapes disagree)", location));
  }
  for (auto [inputs, outputs] : layer_shapes) {
    if (inputs != dim || outputs != dim) {
      throw Error(
          fmt::format("{}: corrupted model file (layer shape {}x{})", location, outputs, inputs));
    }
  }
  model->dim = dim;
  model->layers.resize(layer_shapes.size());
  uint64_t floats = static_cast<uint64_t>(entity_rows + prefix_rows) * dim;
  for (DenseLayer& layer : model->layers) {
    layer.inputs = dim;
    layer.outputs = dim;
    floats += static_cast<uint64_t>(dim * dim + dim);
  }
  // The rates: one per slot, or one per entity row in a model of the release before.
  const uint64_t rates = model->novelty.rate_slots != 0 ? model->novelty.rate_slots
                                                        : static_cast<uint64_t>(entity_rows);
  if (have_novelty) floats += rates + model->novelty.network_slots;
  // Version 1 files have neither: a version 1 header that names them is not one.
  if (version == kModelFormatVersionBeforeSlots &&
      (model->novelty.rate_slots != 0 || model->novelty.network_slots != 0)) {
    throw Error(fmt::format(
        "{}: corrupted model file (format version 1 with entity_novelty rate or network slots)",
        location));
  }
  const uint64_t weights_start = PaddedHeaderEnd(header_bytes);
  const uint64_t expected = weights_start + floats * sizeof(float) + kChecksumBytes;
  if (bytes.size() < expected) {
    throw Error(fmt::format("{}: truncated model file ({} bytes, expected {})", location,
                            bytes.size(), expected));
  }
  if (bytes.size() > expected) {
    throw Error(fmt::format("{}: corrupted model file ({} bytes, expected {})", location,
                            bytes.size(), expected));
  }
  const uint64_t stored = GetLittle<uint64_t>(bytes.data() + bytes.size() - kChecksumBytes);
  if (XXH3_64bits(bytes.data(), bytes.size() - kChecksumBytes) != stored) {
    throw Error(fmt::format("{}: corrupted model file (checksum mismatch)", location));
  }
  model->entity_table.resize(static_cast<size_t>(entity_rows * dim));
  model->prefix_table.resize(static_cast<size_t>(prefix_rows * dim));
  for (DenseLayer& layer : model->layers) {
    layer.weight.resize(static_cast<size_t>(dim * dim));
    layer.bias.resize(static_cast<size_t>(dim));
  }
  if (have_novelty) {
    model->novelty.log_rate.resize(static_cast<size_t>(rates));
    model->novelty.log_network_share.resize(model->novelty.network_slots);
  }
  const char* cursor = bytes.data() + weights_start;
  ForEachArray(*model, [&](auto& values) {
    std::memcpy(values.data(), cursor, values.size() * sizeof(float));
    cursor += values.size() * sizeof(float);
  });
  // The checksum proves the file is as written, not that its numbers are: a NaN weight
  // makes every score NaN, and NaN < threshold is false, so nothing would be flagged.
  if (std::string where = FirstNonFiniteWeight(*model); !where.empty()) {
    throw Error(fmt::format("{}: unusable model file (non-finite weight at {})", location, where));
  }
  // Rates are probabilities: a larger one would make its entity impossible to flag.
  const std::vector<float>& log_rate = model->novelty.log_rate;
  for (size_t row = 0; row < log_rate.size(); ++row) {
    if (log_rate[row] > 0) {
      throw Error(fmt::format("{}: corrupted model file (entity novelty rate[{}] = exp({}) > 1)",
                              location, row, log_rate[row]));
    }
  }
  return model;
}

}  // namespace ipinsights
