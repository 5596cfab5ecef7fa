// ModelRegistry: the named models a server scores with, and their atomic reload.
//
// Each entry has a name (the SageMaker endpoint name in /endpoints/NAME/invocations) and a
// file location. Get() returns a shared_ptr snapshot: a request keeps the model it started
// with even if a reload swaps in another one meanwhile. Reload() re-reads every file; a
// model that fails to load keeps the old one serving, and the failure is returned (and
// counted in the metrics).
//
// Thread-safety: Get() from any thread at any time; Reload() is serialised internally.
//
//   ModelRegistry registry({{"ct", "ct.ipinsights"}}, LoadModelScorer, &metrics);
//   registry.LoadAll();                     // throws Error at start-up
//   std::shared_ptr<const Scorer> ct = registry.Get("ct");
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ipinsights/serve/metrics.h"
#include "ipinsights/serve/scorer.h"

namespace ipinsights {

struct ModelSpec {
  std::string name;
  std::string location;
};

// Parses a --model value: "NAME=FILE", or a bare FILE named after its stem
// ("models/ct.ipinsights" → "ct"). Throws UsageError on an empty name or file.
ModelSpec ParseModelSpec(const std::string& text);

class ModelRegistry {
 public:
  // Loads a scorer from a location; throws Error.
  using Loader = std::function<std::shared_ptr<const Scorer>(const std::string& location)>;

  // Throws UsageError on duplicate names or an empty list. `metrics` may be null.
  ModelRegistry(std::vector<ModelSpec> specs, Loader loader, ServerMetrics* metrics);

  // Loads every model; throws Error naming the first one that fails (start-up).
  void LoadAll();

  struct ReloadResult {
    std::vector<std::string> reloaded;
    std::vector<std::string> failed;  // "name: message"
  };
  // Re-reads every model file and swaps each successfully loaded one in.
  ReloadResult Reload();

  // nullptr for an unknown name or a model not loaded.
  std::shared_ptr<const Scorer> Get(std::string_view name) const;
  // The first model (POST /invocations).
  std::shared_ptr<const Scorer> First() const;
  const std::string& first_name() const { return entries_.front().spec.name; }
  bool AllLoaded() const;
  std::vector<std::string> names() const;
  ServerMetrics* metrics() const { return metrics_; }

 private:
  struct Entry {
    ModelSpec spec;
    std::shared_ptr<const Scorer> scorer;  // accessed with std::atomic_load/atomic_store
    ModelMetrics* metrics = nullptr;
  };
  void Store(Entry& entry, std::shared_ptr<const Scorer> scorer);

  std::vector<Entry> entries_;
  Loader loader_;
  ServerMetrics* metrics_;
  std::mutex reload_mutex_;
};

}  // namespace ipinsights
