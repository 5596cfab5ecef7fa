#include "ipinsights/pipeline/run_record.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

std::optional<simdjson::dom::element> FigureField(simdjson::dom::parser& parser,
                                                  const std::string& json, std::string_view key) {
  simdjson::dom::element root;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::element value;
  if (root.at_key(key).get(value) != simdjson::SUCCESS || value.is_null()) return std::nullopt;
  return value;
}

}  // namespace

const StepRecord* RunRecord::Find(std::string_view step) const {
  for (const StepRecord& record : steps) {
    if (record.step == step) return &record;
  }
  return nullptr;
}

void RunRecord::Add(StepRecord step) {
  for (StepRecord& record : steps) {
    if (record.step == step.step) {
      record = std::move(step);
      return;
    }
  }
  steps.push_back(std::move(step));
}

RunRecord ReadRunRecord(const std::string& location) {
  RunRecord record;
  Storage& storage = OpenStorage(location);
  if (!storage.Exists(location)) return record;
  std::string text;
  storage.ReadAll(location, &text);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::array steps;
  if (parser.parse(text).get(root) != simdjson::SUCCESS ||
      root["steps"].get_array().get(steps) != simdjson::SUCCESS) {
    throw Error(
        fmt::format("{}: not a pipeline run record (expected {{\"steps\": [...]}}); "
                    "delete it to start the run over",
                    location));
  }
  simdjson::dom::object config;
  if (root["config"].get_object().get(config) == simdjson::SUCCESS) {
    for (auto [key, value] : config) {
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) {
        throw Error(fmt::format("{}: config.{} is not a string", location, key));
      }
      record.config.emplace_back(std::string(key), std::string(text));
    }
  }
  for (simdjson::dom::element entry : steps) {
    std::string_view step;
    std::string_view finished;
    double seconds = 0;
    simdjson::dom::element figures;
    if (entry["step"].get_string().get(step) != simdjson::SUCCESS ||
        entry["finished"].get_string().get(finished) != simdjson::SUCCESS ||
        entry["seconds"].get_double().get(seconds) != simdjson::SUCCESS ||
        entry["figures"].get(figures) != simdjson::SUCCESS) {
      throw Error(
          fmt::format("{}: a step entry lacks step, finished, seconds or figures", location));
    }
    record.Add({std::string(step), std::string(finished), seconds, simdjson::minify(figures)});
  }
  return record;
}

void WriteRunRecord(const std::string& location, const std::string& job, const RunRecord& record) {
  std::string out = "{\"job\": ";
  AppendJsonString(&out, job);
  out += ", \"config\": {";
  for (size_t i = 0; i < record.config.size(); ++i) {
    out += i == 0 ? "" : ", ";
    AppendJsonString(&out, record.config[i].first);
    out += ": ";
    AppendJsonString(&out, record.config[i].second);
  }
  out += "}, \"steps\": [";
  for (size_t i = 0; i < record.steps.size(); ++i) {
    const StepRecord& step = record.steps[i];
    out += i == 0 ? "\n  " : ",\n  ";
    out += "{\"step\": ";
    AppendJsonString(&out, step.step);
    out += ", \"finished\": ";
    AppendJsonString(&out, step.finished);
    out += ", \"seconds\": ";
    AppendJsonNumber(&out, step.seconds);
    out += ", \"figures\": ";
    out += step.figures_json.empty() ? "{}" : step.figures_json;
    out += "}";
  }
  out += "\n]}\n";
  WriteWholeObject(location, out);
}

std::optional<double> FigureNumber(const std::string& figures_json, std::string_view key) {
  simdjson::dom::parser parser;
  std::optional<simdjson::dom::element> value = FigureField(parser, figures_json, key);
  double number = 0;
  if (!value || value->get_double().get(number) != simdjson::SUCCESS) {
    int64_t integer = 0;
    if (!value || value->get_int64().get(integer) != simdjson::SUCCESS) return std::nullopt;
    return static_cast<double>(integer);
  }
  return number;
}

std::optional<std::string> FigureText(const std::string& figures_json, std::string_view key) {
  simdjson::dom::parser parser;
  std::optional<simdjson::dom::element> value = FigureField(parser, figures_json, key);
  std::string_view text;
  if (!value || value->get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
  return std::string(text);
}

std::optional<bool> FigureBool(const std::string& figures_json, std::string_view key) {
  simdjson::dom::parser parser;
  std::optional<simdjson::dom::element> value = FigureField(parser, figures_json, key);
  bool flag = false;
  if (!value || value->get_bool().get(flag) != simdjson::SUCCESS) return std::nullopt;
  return flag;
}

}  // namespace ipinsights
