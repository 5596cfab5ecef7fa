#include "ipinsights/pipeline/pipeline_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>

#include "ipinsights/base/error.h"
#include "ipinsights/base/strings.h"
#include "ipinsights/registry/registry.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

// Every message names the file and the node's position (yaml-cpp counts from 0).
class ConfigReader {
 public:
  ConfigReader(std::string source, std::string base_folder)
      : source_(std::move(source)), base_folder_(std::move(base_folder)) {}

  [[noreturn]] void Fail(const YAML::Node& node, const std::string& message) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) throw UsageError(fmt::format("{}: {}", source_, message));
    throw UsageError(fmt::format("{}:{}:{}: {}", source_, mark.line + 1, mark.column + 1, message));
  }

  void CheckKeys(const YAML::Node& map, const std::set<std::string>& known,
                 const std::string& where) const {
    if (!map.IsMap()) Fail(map, fmt::format("{} must be a mapping (key: value lines)", where));
    std::set<std::string> seen;
    for (const auto& entry : map) {
      const std::string key = Key(entry.first);
      // YAML forbids duplicate keys, but yaml-cpp keeps the first silently.
      if (!seen.insert(key).second) {
        Fail(entry.first, fmt::format("{} appears twice in {}", QuoteForMessage(key), where));
      }
      if (known.count(key) == 0) {
        std::string list;
        for (const std::string& name : known) list += (list.empty() ? "" : ", ") + name;
        Fail(entry.first,
             fmt::format("unknown key {} in {}; known: {}", QuoteForMessage(key), where, list));
      }
    }
  }

  // A mapping key: a plain name (YAML also allows lists and mappings as keys).
  std::string Key(const YAML::Node& node) const {
    if (!node.IsScalar()) Fail(node, "a key must be a plain name, not a list or mapping");
    return node.Scalar();
  }

  std::string Text(const YAML::Node& node, const std::string& what) const {
    if (!node.IsScalar()) Fail(node, fmt::format("{} must be a single value", what));
    return node.Scalar();
  }

  double Number(const YAML::Node& node, const std::string& what, double min, double max) const {
    const std::string text = Text(node, what);
    double value = 0;
    // Decimal only: std::stod would also take hex ("0x10") and "inf".
    if (text.empty() || text.find_first_not_of("0123456789+-.eE") != std::string::npos) {
      Fail(node, fmt::format("{}: {} is not a number", what, QuoteForMessage(text)));
    }
    try {
      size_t used = 0;
      value = std::stod(text, &used);
      if (used != text.size()) throw std::invalid_argument(text);
    } catch (const std::exception&) {
      Fail(node, fmt::format("{}: {} is not a number", what, QuoteForMessage(text)));
    }
    if (!(value >= min && value <= max)) {
      Fail(node, fmt::format("{}: {} is outside {}..{}", what, text, min, max));
    }
    return value;
  }

  int64_t Integer(const YAML::Node& node, const std::string& what, int64_t min, int64_t max) const {
    const double value = Number(node, what, static_cast<double>(min), static_cast<double>(max));
    if (value != static_cast<double>(static_cast<int64_t>(value))) {
      Fail(node, fmt::format("{}: {} is not a whole number", what, node.Scalar()));
    }
    return static_cast<int64_t>(value);
  }

  bool Boolean(const YAML::Node& node, const std::string& what) const {
    const std::string text = Text(node, what);
    if (text == "true" || text == "yes" || text == "on") return true;
    if (text == "false" || text == "no" || text == "off") return false;
    Fail(node, fmt::format("{}: {} is not true or false", what, QuoteForMessage(text)));
  }

  Date DateValue(const YAML::Node& node, const std::string& what) const {
    const std::string text = Text(node, what);
    std::optional<Date> date = ParseDate(text);
    if (!date)
      Fail(node, fmt::format("{}: {} is not a YYYY-MM-DD date", what, QuoteForMessage(text)));
    return *date;
  }

  // A local relative path is taken relative to the config's folder; s3:// and absolute
  // paths are kept.
  std::string Location(const YAML::Node& node, const std::string& what) const {
    const std::string text = Text(node, what);
    if (text.empty()) Fail(node, what + " is empty");
    if (IsS3Location(text) || base_folder_.empty()) return text;
    const std::filesystem::path path(text);
    if (path.is_absolute()) return text;
    return (std::filesystem::path(base_folder_) / path).lexically_normal().string();
  }

  std::vector<std::string> Locations(const YAML::Node& node, const std::string& what) const {
    std::vector<std::string> out;
    if (node.IsSequence()) {
      for (const YAML::Node& item : node) out.push_back(Location(item, what));
      if (out.empty()) Fail(node, what + " lists nothing");
    } else {
      out.push_back(Location(node, what));
    }
    return out;
  }

 private:
  std::string source_;
  std::string base_folder_;
};

// The settings a job inherits from the top level and may override.
const std::set<std::string> kSharedKeys = {"registry", "work",     "threads", "seed",
                                           "gate",     "evaluate", "notify",  "hyperparameters"};

void ReadShared(const ConfigReader& reader, const YAML::Node& map, const std::string& where,
                JobConfig* job) {
  if (const YAML::Node node = map["registry"]) job->registry = reader.Location(node, "registry");
  if (const YAML::Node node = map["work"]) job->work = reader.Location(node, "work");
  if (const YAML::Node node = map["threads"]) {
    job->threads = static_cast<size_t>(reader.Integer(node, "threads", 0, 4096));
  }
  if (const YAML::Node node = map["seed"]) {
    job->seed = static_cast<uint64_t>(reader.Integer(node, "seed", 0, int64_t{1} << 53));
  }
  if (const YAML::Node gate = map["gate"]) {
    reader.CheckKeys(gate, {"min_auc", "max_auc_drop"}, "gate of " + where);
    if (const YAML::Node node = gate["min_auc"]) {
      job->gate.min_auc = reader.Number(node, "gate.min_auc", 0, 1);
    }
    if (const YAML::Node node = gate["max_auc_drop"]) {
      job->gate.max_auc_drop = reader.Number(node, "gate.max_auc_drop", 0, 1);
    }
  }
  if (const YAML::Node evaluate = map["evaluate"]) {
    reader.CheckKeys(evaluate, {"random_attacks"}, "evaluate of " + where);
    if (const YAML::Node node = evaluate["random_attacks"]) {
      job->random_attacks =
          static_cast<uint64_t>(reader.Integer(node, "evaluate.random_attacks", 0, 100'000'000));
    }
  }
  if (const YAML::Node notify = map["notify"]) {
    if (!notify.IsSequence()) reader.Fail(notify, "notify must be a list of servers");
    job->notify.clear();
    for (const YAML::Node& item : notify) {
      reader.CheckKeys(item, {"url", "token_file", "token_env", "pid_file"},
                       "a notify entry of " + where);
      NotifyTarget target;
      if (const YAML::Node node = item["url"]) target.url = reader.Text(node, "notify.url");
      if (const YAML::Node node = item["token_file"]) {
        target.token_file = reader.Location(node, "notify.token_file");
      }
      if (const YAML::Node node = item["token_env"]) {
        target.token_env = reader.Text(node, "notify.token_env");
      }
      if (const YAML::Node node = item["pid_file"]) {
        target.pid_file = reader.Location(node, "notify.pid_file");
      }
      if (target.url.empty() == target.pid_file.empty()) {
        reader.Fail(item, "a notify entry needs either url (a server's /admin/reload) or pid_file");
      }
      if (!target.url.empty() && target.url.rfind("http://", 0) != 0 &&
          target.url.rfind("https://", 0) != 0) {
        reader.Fail(item["url"], "notify.url must start with http:// or https://");
      }
      if (!target.url.empty() && target.token_file.empty() && target.token_env.empty()) {
        reader.Fail(item, "a notify url needs token_file or token_env (serve --admin-token-file)");
      }
      job->notify.push_back(std::move(target));
    }
  }
  if (const YAML::Node hyperparameters = map["hyperparameters"]) {
    if (!hyperparameters.IsMap()) {
      reader.Fail(hyperparameters, "hyperparameters must be a mapping of SageMaker's names");
    }
    for (const auto& entry : hyperparameters) {
      const std::string name = reader.Key(entry.first);
      try {
        job->hyperparameters.Set(name, reader.Text(entry.second, name));
      } catch (const UsageError& error) {
        reader.Fail(entry.first, error.what());
      }
      std::string canonical = name;
      for (char& c : canonical) c = c == '-' ? '_' : c;
      job->explicit_hyperparameters.insert(canonical);
    }
  }
}

}  // namespace

namespace {

PipelineConfig ParseConfig(std::string_view yaml, const std::string& source,
                           const std::string& base_folder) {
  ConfigReader reader(source, base_folder);
  YAML::Node root;
  try {
    std::vector<YAML::Node> documents = YAML::LoadAll(std::string(yaml));
    if (documents.size() > 1) {
      throw UsageError(
          fmt::format("{}: {} YAML documents (---); a config is one", source, documents.size()));
    }
    if (!documents.empty()) root = documents.front();
  } catch (const YAML::Exception& error) {
    throw UsageError(fmt::format("{}:{}:{}: not valid YAML: {}", source, error.mark.line + 1,
                                 error.mark.column + 1, error.msg));
  }
  if (!root.IsMap()) throw UsageError(source + ": expected a mapping with a jobs: list");
  std::set<std::string> top_keys = kSharedKeys;
  top_keys.insert("jobs");
  reader.CheckKeys(root, top_keys, "the top level");

  JobConfig defaults;
  ReadShared(reader, root, "the top level", &defaults);

  PipelineConfig config;
  config.source = source;
  const YAML::Node jobs = root["jobs"];
  if (!jobs || !jobs.IsSequence() || jobs.size() == 0) {
    reader.Fail(jobs ? jobs : root, "jobs: must list at least one job");
  }
  std::set<std::string> job_keys = kSharedKeys;
  job_keys.insert({"name", "source", "window", "warm_start"});
  std::set<std::string> names;
  for (const YAML::Node& item : jobs) {
    JobConfig job = defaults;
    if (!item.IsMap()) reader.Fail(item, "every job is a mapping with a name: and a source:");
    const YAML::Node name = item["name"];
    if (!name) reader.Fail(item, "every job needs a name:");
    job.name = reader.Text(name, "name");
    if (!IsRegistryName(job.name)) {
      reader.Fail(name, fmt::format("job name {} may only use letters, digits, '.', '_' and '-'",
                                    QuoteForMessage(job.name)));
    }
    if (!names.insert(job.name).second) {
      reader.Fail(name, fmt::format("two jobs are named {}", QuoteForMessage(job.name)));
    }
    const std::string where = "job " + QuoteForMessage(job.name);
    reader.CheckKeys(item, job_keys, where);
    ReadShared(reader, item, where, &job);

    const YAML::Node source_node = item["source"];
    if (!source_node) reader.Fail(item, where + " needs a source: (kind, input)");
    reader.CheckKeys(source_node, {"kind", "input", "entity", "ipv4_only"}, "source of " + where);
    if (!source_node["kind"]) reader.Fail(source_node, "source needs kind: cloudtrail or waf");
    const std::string kind = reader.Text(source_node["kind"], "source.kind");
    if (kind == "cloudtrail") {
      job.kind = LogKind::kCloudTrail;
    } else if (kind == "waf") {
      job.kind = LogKind::kWaf;
    } else {
      reader.Fail(source_node["kind"],
                  fmt::format("source.kind {} is not cloudtrail or waf", QuoteForMessage(kind)));
    }
    if (!source_node["input"]) reader.Fail(source_node, "source needs input: (folders or s3://)");
    job.inputs = reader.Locations(source_node["input"], "source.input");
    if (const YAML::Node node = source_node["entity"]) {
      job.entity_text = reader.Text(node, "source.entity");
      try {
        job.entity = ParseEntitySpec(job.kind, job.entity_text);
      } catch (const UsageError& error) {
        reader.Fail(node, error.what());
      }
    }
    if (const YAML::Node node = source_node["ipv4_only"]) {
      job.ipv4_only = reader.Boolean(node, "source.ipv4_only");
    }

    if (const YAML::Node window = item["window"]) {
      reader.CheckKeys(window, {"days", "from", "to"}, "window of " + where);
      if (const YAML::Node node = window["days"]) {
        job.days = static_cast<int>(reader.Integer(node, "window.days", 2, 3660));
      }
      if (const YAML::Node node = window["from"]) job.from = reader.DateValue(node, "window.from");
      if (const YAML::Node node = window["to"]) job.to = reader.DateValue(node, "window.to");
      if (job.from.has_value() != job.to.has_value()) {
        reader.Fail(window, "window: give both from and to, or days alone");
      }
      if (job.from && window["days"]) reader.Fail(window, "window: give days or from/to, not both");
      if (job.from && DaysFromCivil(*job.from) >= DaysFromCivil(*job.to)) {
        reader.Fail(window,
                    "window: from must be before to (the last day is held out to evaluate)");
      }
    }
    if (const YAML::Node node = item["warm_start"]) {
      job.warm_start = reader.Boolean(node, "warm_start");
    }
    try {
      job.hyperparameters.Validate();
    } catch (const UsageError& error) {
      reader.Fail(item, error.what());
    }
    if (job.registry.empty()) reader.Fail(item, where + " needs a registry: (top level or job)");
    if (job.work.empty()) reader.Fail(item, where + " needs a work: folder (top level or job)");
    config.jobs.push_back(std::move(job));
  }
  return config;
}

}  // namespace

PipelineConfig ParsePipelineConfig(std::string_view yaml, const std::string& source,
                                   const std::string& base_folder) {
  try {
    return ParseConfig(yaml, source, base_folder);
  } catch (const YAML::Exception& error) {
    // What the checks above did not foresee (yaml-cpp throws on conversions): still a
    // usage error naming the file and position.
    throw UsageError(
        fmt::format("{}:{}:{}: {}", source, error.mark.line + 1, error.mark.column + 1, error.msg));
  }
}

PipelineConfig LoadPipelineConfig(const std::string& location) {
  const std::string text = ReadWholeObject(location);
  std::string base;
  if (!IsS3Location(location) && location != "-") {
    base = std::filesystem::absolute(std::filesystem::path(location)).parent_path().string();
  }
  return ParsePipelineConfig(text, location, base);
}

}  // namespace ipinsights
