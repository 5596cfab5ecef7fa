#include "ipinsights/model/hyperparameters.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "ipinsights/base/error.h"
#include "ipinsights/base/strings.h"

namespace ipinsights {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string Normalise(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c == '-') c = '_';
  }
  return out;
}

std::string RangeText(const HyperparameterInfo& info) {
  auto number = [&](double v) {
    if (info.is_integer) return fmt::format("{}", static_cast<int64_t>(v));
    return fmt::format("{}", v);
  };
  if (std::isinf(info.max)) return fmt::format(">= {}", number(info.min));
  return fmt::format("{}..{}", number(info.min), number(info.max));
}

const HyperparameterInfo* Find(std::string_view name) {
  const std::string key = Normalise(name);
  for (const HyperparameterInfo& info : AllHyperparameters()) {
    if (key == info.name) return &info;
  }
  return nullptr;
}

}  // namespace

const std::vector<HyperparameterInfo>& AllHyperparameters() {
  static const std::vector<HyperparameterInfo> kAll = {
      {"num_entity_vectors", "entity embedding rows (hash buckets); about 2x distinct entities",
       true, 1, 250000000, true},
      {"vector_dim", "size of the entity and IP embeddings", true, 4, 4096, true},
      {"epochs", "passes over the training data", true, 1, kInf, true},
      {"learning_rate", "Adam learning rate", false, 1e-6, 10.0, true},
      {"mini_batch_size", "observed pairs per mini-batch", true, 1, 500000, true},
      {"num_ip_encoder_layers", "fully connected layers after the IP prefix embedding", true, 0,
       100, true},
      {"random_negative_sampling_rate", "random-IP negatives per observed pair (R)", true, 0, 500,
       true},
      {"shuffled_negative_sampling_rate", "shuffled negatives per observed pair (S)", true, 0, 500,
       true},
      {"weight_decay", "L2 weight decay", false, 0.0, 10.0, true},
      {"batch_metrics_publish_interval", "mini-batches between progress metrics", true, 1, kInf,
       true},
      {"ip_hash_buckets",
       "rows of the hashed IP prefix table (ours; 0 = derived from num_entity_vectors)", true, 0,
       268435456, false},
  };
  return kAll;
}

void Hyperparameters::Set(std::string_view name, std::string_view raw_value) {
  const HyperparameterInfo* info = Find(name);
  if (info == nullptr) {
    throw UsageError(fmt::format("unknown hyperparameter \"{}\"", name));
  }
  // SageMaker users write " 10" in JSON now and then.
  const std::string_view value = TrimBlanks(raw_value);
  double number = 0;
  int64_t integer = 0;
  if (info->is_integer) {
    const char* end = value.data() + value.size();
    auto [ptr, ec] = std::from_chars(value.data(), end, integer);
    if (value.empty() || ec != std::errc() || ptr != end) {
      throw UsageError(fmt::format("{}: \"{}\" is not an integer (range {})", info->name, raw_value,
                                   RangeText(*info)));
    }
    number = static_cast<double>(integer);
  } else {
    std::string text(value);
    char* end = nullptr;
    errno = 0;
    number = text.empty() ? 0 : std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(number)) {
      throw UsageError(fmt::format("{}: \"{}\" is not a number (range {})", info->name, raw_value,
                                   RangeText(*info)));
    }
  }
  if (number < info->min || number > info->max) {
    throw UsageError(
        fmt::format("{}: {} is out of range (range {})", info->name, raw_value, RangeText(*info)));
  }
  const std::string key = info->name;
  if (key == "num_entity_vectors")
    num_entity_vectors = integer;
  else if (key == "vector_dim")
    vector_dim = integer;
  else if (key == "epochs")
    epochs = integer;
  else if (key == "learning_rate")
    learning_rate = number;
  else if (key == "mini_batch_size")
    mini_batch_size = integer;
  else if (key == "num_ip_encoder_layers")
    num_ip_encoder_layers = integer;
  else if (key == "random_negative_sampling_rate")
    random_negative_sampling_rate = integer;
  else if (key == "shuffled_negative_sampling_rate")
    shuffled_negative_sampling_rate = integer;
  else if (key == "weight_decay")
    weight_decay = number;
  else if (key == "batch_metrics_publish_interval")
    batch_metrics_publish_interval = integer;
  else if (key == "ip_hash_buckets") {
    if (integer != 0 && integer < 1024) {
      throw UsageError(
          fmt::format("ip_hash_buckets: {} is out of range (0, or 1024..268435456)", raw_value));
    }
    ip_hash_buckets = integer;
  }
}

std::string Hyperparameters::Get(std::string_view name) const {
  const HyperparameterInfo* info = Find(name);
  if (info == nullptr) throw UsageError(fmt::format("unknown hyperparameter \"{}\"", name));
  const std::string key = info->name;
  if (key == "num_entity_vectors") return std::to_string(num_entity_vectors);
  if (key == "vector_dim") return std::to_string(vector_dim);
  if (key == "epochs") return std::to_string(epochs);
  if (key == "learning_rate") return fmt::format("{}", learning_rate);
  if (key == "mini_batch_size") return std::to_string(mini_batch_size);
  if (key == "num_ip_encoder_layers") return std::to_string(num_ip_encoder_layers);
  if (key == "random_negative_sampling_rate") return std::to_string(random_negative_sampling_rate);
  if (key == "shuffled_negative_sampling_rate") {
    return std::to_string(shuffled_negative_sampling_rate);
  }
  if (key == "weight_decay") return fmt::format("{}", weight_decay);
  if (key == "batch_metrics_publish_interval") {
    return std::to_string(batch_metrics_publish_interval);
  }
  return std::to_string(ip_hash_buckets);
}

void Hyperparameters::Validate() const {
  const int64_t sum = random_negative_sampling_rate + shuffled_negative_sampling_rate;
  if (sum < 1 || sum > 500) {
    throw UsageError(fmt::format(
        "random_negative_sampling_rate + shuffled_negative_sampling_rate: {} + {} = {} is out of "
        "range (range 1..500)",
        random_negative_sampling_rate, shuffled_negative_sampling_rate, sum));
  }
}

int64_t Hyperparameters::EffectiveIpHashBuckets() const {
  if (ip_hash_buckets > 0) return ip_hash_buckets;
  int64_t buckets = int64_t{1} << 16;
  while (buckets < 8 * num_entity_vectors && buckets < (int64_t{1} << 18)) buckets <<= 1;
  return buckets;
}

Hyperparameters Hyperparameters::FromJson(std::string_view json, const std::string& source) {
  Hyperparameters hp;
  simdjson::padded_string padded(json);
  simdjson::ondemand::parser parser;
  try {
    simdjson::ondemand::document doc = parser.iterate(padded);
    simdjson::ondemand::object object = doc.get_object();
    for (auto field : object) {
      std::string_view key = field.unescaped_key();
      std::string key_copy(key);
      simdjson::ondemand::value value = field.value();
      std::string text;
      switch (value.type()) {
        case simdjson::ondemand::json_type::string:
          text = std::string(std::string_view(value.get_string()));
          break;
        case simdjson::ondemand::json_type::number:
          text = std::string(TrimBlanks(value.raw_json_token()));
          break;
        default:
          throw UsageError(fmt::format("{}: hyperparameter \"{}\": expected a string or a number",
                                       source, key_copy));
      }
      if (!key_copy.empty() && key_copy[0] == '_') continue;  // SageMaker's own keys
      try {
        hp.Set(key_copy, text);
      } catch (const UsageError& e) {
        throw UsageError(fmt::format("{}: {}", source, e.what()));
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    throw UsageError(fmt::format("{}: not a JSON object of hyperparameters: {}", source, e.what()));
  }
  return hp;
}

std::string Hyperparameters::ToJson() const {
  std::string out = "{";
  bool first = true;
  for (const HyperparameterInfo& info : AllHyperparameters()) {
    if (!first) out += ", ";
    first = false;
    out += fmt::format("\"{}\": \"{}\"", info.name, Get(info.name));
  }
  out += "}";
  return out;
}

}  // namespace ipinsights
