#include "ipinsights/model/entity_novelty.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"

namespace ipinsights {

std::string EntityNoveltyJson(const EntityNovelty& novelty) {
  // fmt's shortest round-trip form: the numbers read back bit for bit.
  std::string out = fmt::format(
      "{{\"model_weight\": {}, \"model_offset\": {}, \"fade_below\": {}, \"mean_rate\": {}, "
      "\"prior_strength\": {}, \"source\": ",
      novelty.model_weight, novelty.model_offset, novelty.fade_below, novelty.mean_rate,
      kNoveltyPriorStrength);
  AppendJsonString(&out, novelty.source);
  return out + "}";
}

EntityNovelty ParseEntityNoveltyJson(std::string_view json, const std::string& where) {
  EntityNovelty novelty;
  bool have_weight = false, have_offset = false;
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
  if (!std::isfinite(novelty.fade_below)) {
    throw Error(fmt::format("{}: entity_novelty lacks a finite fade_below", where));
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
