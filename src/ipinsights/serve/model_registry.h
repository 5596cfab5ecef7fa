// ModelRegistry: the named models a server scores with, and their atomic reload.
//
// Each entry has a name (the SageMaker endpoint name in /endpoints/NAME/invocations) and a
// location: a model file, or a registry model (REGISTRY/NAME, registry/registry.h), whose
// `current` pointer is read again at every (re)load and names the version, and so the file,
// to load. Get() returns a shared_ptr snapshot: a request keeps the model it started with
// even if a reload swaps in another one meanwhile. Reload() re-reads every model; a model
// that fails to load keeps the old one serving, and the failure is returned (and counted in
// the metrics). ReloadChanged() (serve --poll-registry) reads only the registry models'
// `current` pointers and reloads the ones whose version changed.
//
// Thread-safety: Get() and version() from any thread at any time; LoadAll(), Reload() and
// ReloadChanged() are serialised internally.
//
//   ModelRegistry registry({{"ct", "ct.ipinsights"}}, LoadModelScorer, &metrics);
//   registry.LoadAll();                     // throws Error at start-up
//   std::shared_ptr<const Scorer> ct = registry.Get("ct");
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/serve/metrics.h"
#include "ipinsights/serve/scorer.h"

namespace ipinsights {

struct ModelSpec {
  std::string name;
  std::string location;
  // A registry model: `location` is REGISTRY/NAME and each (re)load serves the model file of
  // the version its `current` pointer names (see IsRegistryModelLocation).
  bool registry = false;
};

// Whether a --model location is a registry model: it has a `current` object
// (LOCATION/current exists) and is not itself a file; a location ending in .ipinsights is
// always a model file. Throws Error when the location cannot be looked at (S3 unreachable).
bool IsRegistryModelLocation(const std::string& location);

// The model file a spec's (re)load reads and the registry version it is (empty for a plain
// model file). For a registry model this reads REGISTRY/NAME/current: throws Error when it
// is missing, unreadable or corrupt.
struct ResolvedModel {
  std::string file;
  std::string version;
};
ResolvedModel ResolveModel(const ModelSpec& spec);

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
  // Re-reads every model file (for a registry model: the one its current pointer names now)
  // and swaps each successfully loaded one in.
  ReloadResult Reload();
  // Reads only the registry models' current pointers and reloads the names whose version
  // differs from the one served. A version that failed to load is not tried again until the
  // pointer moves (or Reload() is called); a pointer that cannot be read is a failure (and
  // counted in registry_poll_errors). Plain model files are left alone.
  ReloadResult ReloadChanged();

  // The registry version `name` serves; empty for a model file (or an unknown name).
  std::string version(std::string_view name) const;
  // Whether any entry is a registry model.
  bool has_registry_models() const;
  const std::vector<ModelSpec>& specs() const { return specs_; }

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
    std::string version;         // guarded by version_mutex_
    std::string failed_version;  // the last version that failed to load; reload_mutex_
  };
  void Store(Entry& entry, std::shared_ptr<const Scorer> scorer, const std::string& version);
  // Resolves and loads `entry` (the version already resolved when `resolved` is set), swaps
  // it in, or records the failure in *result.
  void LoadInto(Entry& entry, const ResolvedModel* resolved, ReloadResult* result);

  std::vector<Entry> entries_;
  std::vector<ModelSpec> specs_;
  Loader loader_;
  ServerMetrics* metrics_;
  std::mutex reload_mutex_;
  mutable std::mutex version_mutex_;
};

}  // namespace ipinsights
