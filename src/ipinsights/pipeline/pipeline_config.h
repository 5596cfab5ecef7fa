// PipelineConfig: what `ipinsights pipeline --config FILE` runs, read from YAML
// (docs/formats/pipeline-config.md). One file names one or more jobs; each job prepares a
// window of one log source, trains, evaluates on the window's newest day beside the
// registry's current model, publishes when its quality gate holds and notifies servers.
//
// Top-level keys other than `jobs` are defaults every job inherits and may override
// (registry, work, threads, seed, hyperparameters, gate, evaluate, notify). Relative local
// paths in a local config file are taken relative to the file's folder, so a config and its
// data can move together. Every mistake is a UsageError naming the file, line and column
// ("pipeline.yaml:12:5: unknown key \"hyperparameter\" in job \"cloudtrail\"; known: ...").
//
// Thread-safety: plain value types.
//
//   PipelineConfig config = LoadPipelineConfig("pipeline.yaml");
//   for (const JobConfig& job : config.jobs) std::puts(job.name.c_str());
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/model/hyperparameters.h"
#include "ipinsights/pairs/entity.h"

namespace ipinsights {

// A running server to tell about a newly published model: POST `url` (its /admin/reload)
// with the admin token, or SIGHUP to the process whose PID is in `pid_file`.
struct NotifyTarget {
  std::string url;
  std::string token_file;  // the admin token, read from this file (trailing blanks trimmed)
  std::string token_env;   // or from this environment variable
  std::string pid_file;
};

// When a trained candidate may replace the current model. Both AUCs are measured on the
// newest day of the window against the same generated anomalies.
struct QualityGate {
  double min_auc = 0.5;        // the candidate's AUC must reach this floor
  double max_auc_drop = 0.01;  // and may be at most this much below the current model's
};

struct JobConfig {
  std::string name;  // the registry NAME: [A-Za-z0-9._-]
  LogKind kind = LogKind::kCloudTrail;
  std::vector<std::string> inputs;
  std::optional<EntitySpec> entity;  // default: DefaultEntitySpec(kind)
  std::string entity_text;           // as written, for summaries
  bool ipv4_only = false;
  // The window: `days` days ending the day before the run date, unless `from`/`to` are set.
  int days = 7;
  std::optional<Date> from;
  std::optional<Date> to;
  Hyperparameters hyperparameters;
  std::set<std::string> explicit_hyperparameters;
  bool warm_start = true;       // from the registry's current model when compatible
  uint64_t random_attacks = 0;  // generated anomalies for evaluation; 0: as many as pairs
  uint64_t seed = 1;
  size_t threads = 0;    // 0: all cores
  std::string registry;  // registry root (local folder or s3://bucket/prefix)
  std::string work;      // where each run's prepared data and candidate model go
  QualityGate gate;
  std::vector<NotifyTarget> notify;
};

struct PipelineConfig {
  std::string source;  // the config file's location, for messages
  std::vector<JobConfig> jobs;
};

// Parses YAML text; `source` names it in errors and anchors relative paths (a local file's
// folder; "" keeps them as written).
PipelineConfig ParsePipelineConfig(std::string_view yaml, const std::string& source,
                                   const std::string& base_folder);

// Reads and parses a local or s3:// config file.
PipelineConfig LoadPipelineConfig(const std::string& location);

}  // namespace ipinsights
