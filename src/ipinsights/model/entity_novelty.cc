#include "ipinsights/model/entity_novelty.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <limits>

#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"

namespace ipinsights {

std::string EntityNoveltyJson(const EntityNovelty& novelty) {
  // fmt's shortest round-trip form: the numbers read back bit for bit.
  std::string out = fmt::format("{{\"model_weight\": {}, \"model_offset\": {}, ",
                                novelty.model_weight, novelty.model_offset);
  // Only a model of the release before the network term has a fade (JSON has no infinity).
  if (std::isfinite(novelty.fade_below)) {
    out += fmt::format("\"fade_below\": {}, ", novelty.fade_below);
  }
  if (!novelty.log_network_share.empty()) {
    out += fmt::format(
        "\"network_weight\": {}, \"mean_network_entities\": {}, \"network_slots\": {}, ",
        novelty.network_weight, novelty.mean_network_entities, novelty.log_network_share.size());
  }
  if (novelty.rate_slots != 0) out += fmt::format("\"rate_slots\": {}, ", novelty.rate_slots);
  out += fmt::format("\"mean_rate\": {}, \"prior_strength\": {}, \"source\": ", novelty.mean_rate,
                     kNoveltyPriorStrength);
  AppendJsonString(&out, novelty.source);
  return out + "}";
}

EntityNovelty ParseEntityNoveltyJson(std::string_view json, const std::string& where) {
  EntityNovelty novelty;
  bool have_weight = false, have_offset = false, have_fade = false;
  try {
    simdjson::padded_string padded(json);
    simdjson::ondemand::parser parser;
    simdjson::ondemand::document doc = parser.iterate(padded);
    for (auto field : doc.get_object()) {
      const std::string_view key = field.unescaped_key();
      simdjson::ondemand::value value = field.value();
      if (key == "model_weight") {
        novelty.model_weight = static_cast<float>(value.get_double());
        have_weight = true;
      } else if (key == "model_offset") {
        novelty.model_offset = static_cast<float>(value.get_double());
        have_offset = true;
      } else if (key == "fade_below") {
        novelty.fade_below = static_cast<float>(value.get_double());
        have_fade = true;
      } else if (key == "network_weight") {
        novelty.network_weight = static_cast<float>(value.get_double());
      } else if (key == "mean_network_entities") {
        novelty.mean_network_entities = value.get_double();
      } else if (key == "rate_slots") {
        novelty.rate_slots = value.get_uint64();
      } else if (key == "network_slots") {
        novelty.network_slots = value.get_uint64();
      } else if (key == "mean_rate") {
        novelty.mean_rate = value.get_double();
      } else if (key == "source") {
        novelty.source = std::string(std::string_view(value.get_string()));
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    throw Error(fmt::format("{}: entity_novelty is not valid JSON ({})", where, e.what()));
  }
  if (!have_weight || !have_offset) {
    throw Error(fmt::format("{}: entity_novelty lacks model_weight or model_offset", where));
  }
  // Absent: no fade (-infinity); present, a finite number.
  if (have_fade && !std::isfinite(novelty.fade_below)) {
    throw Error(
        fmt::format("{}: entity_novelty fade_below {} is not finite", where, novelty.fade_below));
  }
  if (novelty.network_slots != 0 && novelty.network_slots != kNetworkSlots) {
    throw Error(fmt::format("{}: entity_novelty network_slots {} (this version counts {})", where,
                            novelty.network_slots, kNetworkSlots));
  }
  // A share's exponent past a few would let one network's popularity outweigh any rate.
  if (!(novelty.network_weight >= 0 && novelty.network_weight <= 4) ||
      !(novelty.mean_network_entities >= 0) || !std::isfinite(novelty.mean_network_entities)) {
    throw Error(
        fmt::format("{}: entity_novelty network_weight {} / mean_network_entities {} out "
                    "of range",
                    where, novelty.network_weight, novelty.mean_network_entities));
  }
  if (novelty.rate_slots != 0 && ((novelty.rate_slots & (novelty.rate_slots - 1)) != 0 ||
                                  novelty.rate_slots > (uint64_t{1} << 24))) {
    throw Error(fmt::format("{}: entity_novelty rate_slots {} is not a power of two up to 2^24",
                            where, novelty.rate_slots));
  }
  if (!(novelty.mean_rate >= 0 && novelty.mean_rate <= 1)) {
    throw Error(
        fmt::format("{}: entity_novelty mean_rate {} is not a rate", where, novelty.mean_rate));
  }
  if (!(novelty.model_weight > 0) || !std::isfinite(novelty.model_weight) ||
      !std::isfinite(novelty.model_offset)) {
    throw Error(fmt::format("{}: entity_novelty model_weight {} / model_offset {} out of range",
                            where, novelty.model_weight, novelty.model_offset));
  }
  return novelty;
}

}  // namespace ipinsights
