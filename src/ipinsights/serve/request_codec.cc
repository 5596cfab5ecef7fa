#include "ipinsights/serve/request_codec.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "ipinsights/base/strings.h"
#include "ipinsights/dataset/pair_csv.h"

namespace ipinsights {
namespace {

// ---- JSON --------------------------------------------------------------------------------
// The DOM parser validates the whole document (trailing text included), which is what a
// 400 "invalid JSON" needs; its strings live in the parser until the next parse.

// A JSON line without the blanks around it and the CR of a CRLF line end.
std::string_view TrimJsonLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  return TrimBlanks(line);
}

simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// Takes the entity and the IP out of one values array [E, IP]. `where` names the instance.
std::optional<std::string> DecodeValues(simdjson::dom::array values, const std::string& where,
                                        PairBatch* batch) {
  if (values.size() != 2)
    return fmt::format("{}: expected 2 values (entity, ip), got {}", where, values.size());
  simdjson::dom::element entity_element = values.at(0).value_unsafe();
  simdjson::dom::element ip_element = values.at(1).value_unsafe();
  std::string_view entity;
  if (entity_element.is_string()) {
    entity = entity_element.get_string().value_unsafe();
  } else if (entity_element.is_number()) {
    entity = batch->unescaped.emplace_back(simdjson::minify(entity_element));
  } else {
    return where + ": the entity (first value) must be a string";
  }
  if (!ip_element.is_string()) return where + ": the IP (second value) must be a string";
  std::string_view ip_text = ip_element.get_string().value_unsafe();
  std::optional<IpAddress> ip = IpAddress::Parse(ip_text);
  if (!ip) return fmt::format("{}: bad IP {}", where, QuoteForMessage(ip_text));
  batch->entities.push_back(entity);
  batch->ips.push_back(*ip);
  return std::nullopt;
}

// One instance object: {"features": [E, IP]} or {"data": {"features": {"values": [E, IP]}}}.
std::optional<std::string> DecodeInstance(simdjson::dom::element instance, const std::string& where,
                                          PairBatch* batch) {
  simdjson::dom::object object;
  if (instance.get_object().get(object)) return where + ": expected an object";
  simdjson::dom::element features;
  if (!object["features"].get(features)) {
    simdjson::dom::array values;
    if (features.get_array().get(values)) return where + ": \"features\" must be an array";
    return DecodeValues(values, where, batch);
  }
  simdjson::dom::element data;
  if (!object["data"].get(data)) {
    simdjson::dom::object data_object;
    if (data.get_object().get(data_object)) return where + ": \"data\" must be an object";
    simdjson::dom::element inner;
    if (data_object["features"].get(inner)) return where + ": \"data\" has no \"features\"";
    simdjson::dom::object inner_object;
    if (inner.get_object().get(inner_object))
      return where + ": \"data.features\" must be an object";
    simdjson::dom::element values_element;
    if (inner_object["values"].get(values_element))
      return where + ": \"data.features\" has no \"values\"";
    simdjson::dom::array values;
    if (values_element.get_array().get(values))
      return where + ": \"data.features.values\" must be an array";
    return DecodeValues(values, where, batch);
  }
  return where + ": expected \"features\" or \"data\"";
}

std::string JsonErrorMessage(simdjson::error_code error) {
  return std::string("invalid JSON: ") + simdjson::error_message(error);
}

}  // namespace

// The training CSV's grammar and row rules (dataset/pair_csv.h), so a body is accepted
// exactly when `train` and `score --pairs` would accept every row of it; the first bad row
// answers the whole request (SageMaker's contract: one 400 naming the line and the reason).
std::optional<std::string> DecodeCsv(std::string_view body, PairBatch* batch) {
  CsvRecordReader reader(body, /*last=*/true);
  std::string_view entity;
  IpAddress ip;
  std::string problem;
  while (reader.Next() == CsvRecordReader::Result::kRecord) {
    switch (ParsePairRecord(reader, /*first_chunk=*/true, &entity, &ip, &problem)) {
      case PairRecord::kHeader:
        break;
      case PairRecord::kBad:
        return fmt::format("line {}: {}", reader.line() + 1, problem);
      case PairRecord::kPair:
        if (!reader.InBuffer(entity)) entity = batch->unescaped.emplace_back(entity);
        batch->entities.push_back(entity);
        batch->ips.push_back(ip);
        break;
    }
  }
  return std::nullopt;
}

std::optional<std::string> DecodeJson(std::string_view body, PairBatch* batch) {
  simdjson::dom::element root;
  // A default string_view has a null data(); simdjson would memcpy from it (undefined
  // behaviour even for 0 bytes; found by fuzz/request_codec_fuzzer).
  const char* text = body.data() != nullptr ? body.data() : "";
  if (simdjson::error_code error = ThreadParser().parse(text, body.size()).get(root))
    return JsonErrorMessage(error);
  simdjson::dom::object object;
  if (root.get_object().get(object))
    return std::string("expected a JSON object with \"instances\"");
  simdjson::dom::element instances_element;
  if (object["instances"].get(instances_element)) return std::string("missing \"instances\"");
  simdjson::dom::array instances;
  if (instances_element.get_array().get(instances))
    return std::string("\"instances\" must be an array");
  size_t index = 0;
  for (simdjson::dom::element instance : instances) {
    if (std::optional<std::string> error =
            DecodeInstance(instance, fmt::format("instance {}", index), batch))
      return error;
    ++index;
  }
  return std::nullopt;
}

std::optional<std::string> DecodeJsonLines(std::string_view body, PairBatch* batch) {
  size_t pos = 0;
  size_t line = 0;
  // The parser's strings are overwritten by the next line's parse, so each line's entity is
  // copied into `unescaped`.
  simdjson::dom::parser& parser = ThreadParser();
  while (pos < body.size()) {
    ++line;
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view text = TrimJsonLine(body.substr(pos, end - pos));
    pos = end + 1;
    if (text.empty()) continue;
    std::string where = fmt::format("line {}", line);
    simdjson::dom::element instance;
    if (simdjson::error_code error = parser.parse(text.data(), text.size()).get(instance))
      return where + ": " + JsonErrorMessage(error);
    size_t before = batch->size();
    if (std::optional<std::string> error = DecodeInstance(instance, where, batch)) return error;
    if (batch->size() > before)
      batch->entities.back() = batch->unescaped.emplace_back(batch->entities.back());
  }
  return std::nullopt;
}

std::optional<std::string> DecodeRequest(RequestFormat format, std::string_view body,
                                         PairBatch* batch) {
  switch (format) {
    case RequestFormat::kCsv:
      return DecodeCsv(body, batch);
    case RequestFormat::kJson:
      return DecodeJson(body, batch);
    case RequestFormat::kJsonLines:
      return DecodeJsonLines(body, batch);
  }
  return std::string("unsupported format");
}

}  // namespace ipinsights
