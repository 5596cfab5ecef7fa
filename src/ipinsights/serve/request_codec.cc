#include "ipinsights/serve/request_codec.h"

#include <simdjson.h>

#include <cstring>

#include <fmt/format.h>

namespace ipinsights {
namespace {

// Quotes an offending value for an error message, cut short and with control bytes escaped
// so that a hostile body cannot forge log lines.
std::string Quote(std::string_view value) {
  constexpr size_t kMax = 64;
  std::string out = "\"";
  for (size_t i = 0; i < value.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (value.size() > kMax) out += "...";
  out += '"';
  return out;
}

// ---- CSV ---------------------------------------------------------------------------------

// One field starting at body[*pos]. Quoted fields are RFC 4180 ("" is a quote, commas and
// newlines allowed inside). On return *pos is at the ',' / '\n' / end after the field.
// Returns false on a malformed quoted field (unterminated, or text after the closing quote).
bool ReadCsvField(std::string_view body, size_t* pos, size_t* line, PairBatch* batch,
                  std::string_view* field) {
  size_t i = *pos;
  if (i < body.size() && body[i] == '"') {
    std::string* text = nullptr;
    size_t start = i + 1;
    size_t j = start;
    for (;;) {
      const void* quote = std::memchr(body.data() + j, '"', body.size() - j);
      if (quote == nullptr) return false;
      size_t q = static_cast<const char*>(quote) - body.data();
      for (size_t k = j; k < q; ++k) *line += body[k] == '\n';
      if (q + 1 < body.size() && body[q + 1] == '"') {
        if (text == nullptr) text = &batch->unescaped.emplace_back();
        text->append(body.data() + j, q + 1 - j);  // keeps one quote
        j = q + 2;
        continue;
      }
      if (text != nullptr) {
        text->append(body.data() + j, q - j);
        *field = *text;
      } else {
        *field = body.substr(start, q - start);
      }
      i = q + 1;
      // Only spaces (and a CR) may follow the closing quote before the separator.
      while (i < body.size() && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r')) ++i;
      if (i < body.size() && body[i] != ',' && body[i] != '\n') return false;
      *pos = i;
      return true;
    }
  }
  size_t end = i;
  while (end < body.size() && body[end] != ',' && body[end] != '\n') ++end;
  *field = body.substr(i, end - i);
  *pos = end;
  return true;
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// ---- JSON --------------------------------------------------------------------------------
// The DOM parser validates the whole document (trailing text included), which is what a
// 400 "invalid JSON" needs; its strings live in the parser until the next parse.

simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// Takes the entity and the IP out of one values array [E, IP]. `where` names the instance.
std::optional<std::string> DecodeValues(simdjson::dom::array values, const std::string& where, PairBatch* batch) {
  if (values.size() != 2) return fmt::format("{}: expected 2 values (entity, ip), got {}", where, values.size());
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
  if (!ip) return fmt::format("{}: bad IP {}", where, Quote(ip_text));
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
    if (inner.get_object().get(inner_object)) return where + ": \"data.features\" must be an object";
    simdjson::dom::element values_element;
    if (inner_object["values"].get(values_element)) return where + ": \"data.features\" has no \"values\"";
    simdjson::dom::array values;
    if (values_element.get_array().get(values)) return where + ": \"data.features.values\" must be an array";
    return DecodeValues(values, where, batch);
  }
  return where + ": expected \"features\" or \"data\"";
}

std::string JsonErrorMessage(simdjson::error_code error) {
  return std::string("invalid JSON: ") + simdjson::error_message(error);
}

}  // namespace

std::optional<std::string> DecodeCsv(std::string_view body, PairBatch* batch) {
  size_t pos = 0;
  size_t line = 1;
  while (pos < body.size()) {
    size_t line_of_record = line;
    // Skip blank lines (a trailing newline makes one).
    size_t blank_end = pos;
    while (blank_end < body.size() && (body[blank_end] == ' ' || body[blank_end] == '\t' || body[blank_end] == '\r'))
      ++blank_end;
    if (blank_end == body.size()) break;
    if (body[blank_end] == '\n') {
      pos = blank_end + 1;
      ++line;
      continue;
    }
    std::string_view fields[2];
    size_t count = 0;
    for (;;) {
      std::string_view field;
      if (!ReadCsvField(body, &pos, &line, batch, &field))
        return fmt::format("line {}: malformed quoted field", line_of_record);
      if (count < 2) fields[count] = field;
      ++count;
      // Allow the space after the comma: skip blanks before the next field's opening quote.
      if (pos < body.size() && body[pos] == ',') {
        ++pos;
        while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
        continue;
      }
      break;
    }
    if (pos < body.size()) {  // at '\n'
      ++pos;
      ++line;
    }
    if (count != 2)
      return fmt::format("line {}: expected 2 columns (entity,ip), got {}", line_of_record, count);
    std::string_view ip_text = TrimBlanks(fields[1]);
    std::optional<IpAddress> ip = IpAddress::Parse(ip_text);
    if (!ip) return fmt::format("line {}: bad IP {}", line_of_record, Quote(ip_text));
    std::string_view entity = fields[0];
    if (!entity.empty() && entity.back() == '\r') entity.remove_suffix(1);
    batch->entities.push_back(entity);
    batch->ips.push_back(*ip);
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
  if (root.get_object().get(object)) return std::string("expected a JSON object with \"instances\"");
  simdjson::dom::element instances_element;
  if (object["instances"].get(instances_element)) return std::string("missing \"instances\"");
  simdjson::dom::array instances;
  if (instances_element.get_array().get(instances)) return std::string("\"instances\" must be an array");
  size_t index = 0;
  for (simdjson::dom::element instance : instances) {
    if (std::optional<std::string> error = DecodeInstance(instance, fmt::format("instance {}", index), batch))
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
    std::string_view text = TrimBlanks(body.substr(pos, end - pos));
    pos = end + 1;
    if (text.empty()) continue;
    std::string where = fmt::format("line {}", line);
    simdjson::dom::element instance;
    if (simdjson::error_code error = parser.parse(text.data(), text.size()).get(instance))
      return where + ": " + JsonErrorMessage(error);
    size_t before = batch->size();
    if (std::optional<std::string> error = DecodeInstance(instance, where, batch)) return error;
    if (batch->size() > before) batch->entities.back() = batch->unescaped.emplace_back(batch->entities.back());
  }
  return std::nullopt;
}

std::optional<std::string> DecodeRequest(RequestFormat format, std::string_view body, PairBatch* batch) {
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
