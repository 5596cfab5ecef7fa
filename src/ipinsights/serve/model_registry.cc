#include "ipinsights/serve/model_registry.h"

#include <atomic>
#include <chrono>
#include <filesystem>

#include "ipinsights/base/error.h"
#include "ipinsights/registry/registry.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {

ModelSpec ParseModelSpec(const std::string& text) {
  ModelSpec spec;
  size_t equals = text.find('=');
  if (equals != std::string::npos) {
    spec.name = text.substr(0, equals);
    spec.location = text.substr(equals + 1);
  } else {
    spec.location = text;
    std::string file = text;
    while (!file.empty() && file.back() == '/') file.pop_back();
    size_t slash = file.rfind('/');
    if (slash != std::string::npos) file = file.substr(slash + 1);
    size_t dot = file.find('.');
    spec.name = dot == std::string::npos ? file : file.substr(0, dot);
  }
  if (spec.name.empty() || spec.location.empty())
    throw UsageError("--model " + text + ": expected [NAME=]FILE");
  for (char c : spec.name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok)
      throw UsageError("--model " + text + ": model name \"" + spec.name +
                       "\" may only contain letters, digits, - and _");
  }
  return spec;
}

bool IsRegistryModelLocation(const std::string& location) {
  constexpr std::string_view kModelSuffix = ".ipinsights";
  if (location.empty() || location == "-") return false;
  if (location.size() >= kModelSuffix.size() &&
      location.compare(location.size() - kModelSuffix.size(), kModelSuffix.size(), kModelSuffix) ==
          0)
    return false;
  std::string trimmed = location;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  Storage& storage = OpenStorage(trimmed);
  try {
    if (!IsS3Location(trimmed)) {
      std::error_code ec;
      if (std::filesystem::is_regular_file(trimmed, ec)) return false;
    } else {
      // An object of that exact name is a model file, whatever it is called.
      for (const ObjectInfo& object : storage.ListUnder(trimmed, ListDepth::kOneLevel).objects) {
        if (object.location == trimmed) return false;
      }
    }
    return storage.Exists(trimmed + "/current");
  } catch (const Error& e) {
    throw Error(location + ": cannot tell a model file from a registry model: " + e.what());
  }
}

ResolvedModel ResolveModel(const ModelSpec& spec) {
  if (!spec.registry) return {spec.location, ""};
  auto [root, name] = SplitRegistryModelLocation(spec.location);
  Registry registry(root);
  std::optional<CurrentPointer> current = registry.ReadCurrent(name);
  if (!current)
    throw Error(spec.location + "/current: no current version (the registry pointer is gone)");
  return {registry.ModelLocation(name, current->version), current->version};
}

ModelRegistry::ModelRegistry(std::vector<ModelSpec> specs, Loader loader, ServerMetrics* metrics)
    : loader_(std::move(loader)), metrics_(metrics) {
  if (specs.empty()) throw UsageError("serve: no model given (--model [NAME=]FILE)");
  for (ModelSpec& spec : specs) {
    for (const Entry& entry : entries_) {
      if (entry.spec.name == spec.name)
        throw UsageError("serve: two models named \"" + spec.name + "\"");
    }
    specs_.push_back(spec);
    Entry entry;
    entry.spec = std::move(spec);
    if (metrics_ != nullptr) entry.metrics = metrics_->model(entry.spec.name);
    if (entry.metrics != nullptr) entry.metrics->from_registry.store(entry.spec.registry);
    entries_.push_back(std::move(entry));
  }
}

void ModelRegistry::Store(Entry& entry, std::shared_ptr<const Scorer> scorer,
                          const std::string& version) {
  {
    // The version changes with the scorer: a reader may see the new model with the old
    // version for an instant, never a version that was not served.
    std::lock_guard<std::mutex> lock(version_mutex_);
    std::atomic_store(&entry.scorer, std::move(scorer));
    entry.version = version;
  }
  entry.failed_version.clear();
  if (entry.metrics != nullptr) {
    entry.metrics->SetVersion(version);
    entry.metrics->loads.fetch_add(1, std::memory_order_relaxed);
    entry.metrics->last_load_failed.store(false);
    entry.metrics->loaded_unix_seconds.store(
        std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count());
  }
}

void ModelRegistry::LoadAll() {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  for (Entry& entry : entries_) {
    std::shared_ptr<const Scorer> scorer;
    ResolvedModel resolved;
    try {
      resolved = ResolveModel(entry.spec);
      scorer = loader_(resolved.file);
    } catch (const Error& e) {
      throw Error("model \"" + entry.spec.name + "\": " + e.what());
    }
    Store(entry, std::move(scorer), resolved.version);
  }
}

void ModelRegistry::LoadInto(Entry& entry, const ResolvedModel* resolved, ReloadResult* result) {
  ResolvedModel found;
  try {
    found = resolved != nullptr ? *resolved : ResolveModel(entry.spec);
    std::shared_ptr<const Scorer> scorer = loader_(found.file);
    Store(entry, std::move(scorer), found.version);
    result->reloaded.push_back(entry.spec.name);
  } catch (const std::exception& e) {
    // The old model keeps serving.
    if (entry.metrics != nullptr) {
      entry.metrics->load_failures.fetch_add(1, std::memory_order_relaxed);
      entry.metrics->last_load_failed.store(true);
    }
    entry.failed_version = found.version;
    std::string what = e.what();
    if (!found.version.empty()) what = "version " + found.version + ": " + what;
    result->failed.push_back(entry.spec.name + ": " + what);
  }
}

ModelRegistry::ReloadResult ModelRegistry::Reload() {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  ReloadResult result;
  for (Entry& entry : entries_) LoadInto(entry, nullptr, &result);
  return result;
}

ModelRegistry::ReloadResult ModelRegistry::ReloadChanged() {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  ReloadResult result;
  for (Entry& entry : entries_) {
    if (!entry.spec.registry) continue;
    ResolvedModel resolved;
    try {
      resolved = ResolveModel(entry.spec);
    } catch (const std::exception& e) {
      // Nothing is loaded: the served version stays, and this is no load failure.
      if (entry.metrics != nullptr)
        entry.metrics->registry_poll_errors.fetch_add(1, std::memory_order_relaxed);
      result.failed.push_back(entry.spec.name + ": " + e.what());
      continue;
    }
    std::string served;
    {
      std::lock_guard<std::mutex> version_lock(version_mutex_);
      served = entry.version;
    }
    if (resolved.version == served || resolved.version == entry.failed_version) continue;
    LoadInto(entry, &resolved, &result);
  }
  return result;
}

std::string ModelRegistry::version(std::string_view name) const {
  std::lock_guard<std::mutex> lock(version_mutex_);
  for (const Entry& entry : entries_) {
    if (entry.spec.name == name) return entry.version;
  }
  return "";
}

bool ModelRegistry::has_registry_models() const {
  for (const Entry& entry : entries_) {
    if (entry.spec.registry) return true;
  }
  return false;
}

std::shared_ptr<const Scorer> ModelRegistry::Get(std::string_view name) const {
  for (const Entry& entry : entries_) {
    if (entry.spec.name == name) return std::atomic_load(&entry.scorer);
  }
  return nullptr;
}

std::shared_ptr<const Scorer> ModelRegistry::First() const {
  return std::atomic_load(&entries_.front().scorer);
}

bool ModelRegistry::AllLoaded() const {
  for (const Entry& entry : entries_) {
    if (std::atomic_load(&entry.scorer) == nullptr) return false;
  }
  return true;
}

std::vector<std::string> ModelRegistry::names() const {
  std::vector<std::string> names;
  for (const Entry& entry : entries_) names.push_back(entry.spec.name);
  return names;
}

}  // namespace ipinsights
