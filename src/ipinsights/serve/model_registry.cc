#include "ipinsights/serve/model_registry.h"

#include <atomic>
#include <chrono>
#include <filesystem>

#include "ipinsights/base/error.h"

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

ModelRegistry::ModelRegistry(std::vector<ModelSpec> specs, Loader loader, ServerMetrics* metrics)
    : loader_(std::move(loader)), metrics_(metrics) {
  if (specs.empty()) throw UsageError("serve: no model given (--model [NAME=]FILE)");
  for (ModelSpec& spec : specs) {
    for (const Entry& entry : entries_) {
      if (entry.spec.name == spec.name)
        throw UsageError("serve: two models named \"" + spec.name + "\"");
    }
    Entry entry;
    entry.spec = std::move(spec);
    if (metrics_ != nullptr) entry.metrics = metrics_->model(entry.spec.name);
    entries_.push_back(std::move(entry));
  }
}

void ModelRegistry::Store(Entry& entry, std::shared_ptr<const Scorer> scorer) {
  std::atomic_store(&entry.scorer, std::move(scorer));
  if (entry.metrics != nullptr) {
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
    try {
      scorer = loader_(entry.spec.location);
    } catch (const Error& e) {
      throw Error("model \"" + entry.spec.name + "\": " + e.what());
    }
    Store(entry, std::move(scorer));
  }
}

ModelRegistry::ReloadResult ModelRegistry::Reload() {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  ReloadResult result;
  for (Entry& entry : entries_) {
    try {
      std::shared_ptr<const Scorer> scorer = loader_(entry.spec.location);
      Store(entry, std::move(scorer));
      result.reloaded.push_back(entry.spec.name);
    } catch (const std::exception& e) {
      // The old model keeps serving.
      if (entry.metrics != nullptr) {
        entry.metrics->load_failures.fetch_add(1, std::memory_order_relaxed);
        entry.metrics->last_load_failed.store(true);
      }
      result.failed.push_back(entry.spec.name + ": " + e.what());
    }
  }
  return result;
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
