// RunRecord: what a pipeline run of one job has finished, so that running it again for the
// same window continues after the last finished step (and never publishes twice).
//
// Kept as WORK/NAME/runs/TO/run.json (TO: the window's last day), rewritten atomically after
// every finished step: {"job": .., "config": {"kind": "cloudtrail", ...}, "steps": [{"step":
// "prepare", "finished": "2024-03-08T02:00:07Z", "seconds": 12.5, "figures": {...}}, ...]}.
// A step's outputs are written before its entry, so an entry always means its outputs are
// whole. `config` holds the job settings the finished steps were made with, so a run with
// another config does not continue from them.
//
// Thread-safety: a plain value type; one process per job and window.
//
//   RunRecord record = ReadRunRecord(location);   // empty when there is none yet
//   if (!record.Find("prepare")) { ...; record.Add({"prepare", now, seconds, figures}); }
//   WriteRunRecord(location, "cloudtrail", record);
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ipinsights {

struct StepRecord {
  std::string step;          // "prepare", "train", "evaluate", "gate", "publish", "notify"
  std::string finished;      // UTC, YYYY-MM-DDTHH:MM:SSZ
  double seconds = 0;        // how long the step ran
  std::string figures_json;  // one JSON object: the step's figures
};

struct RunRecord {
  // The settings that decide what the steps produce, as text ("kind" -> "cloudtrail").
  std::vector<std::pair<std::string, std::string>> config;
  std::vector<StepRecord> steps;  // in the order they finished

  const StepRecord* Find(std::string_view step) const;
  void Add(StepRecord step);  // replaces an earlier entry of the same step
};

// The record at `location`, or an empty one when there is none. Throws Error naming the
// location when it exists but is not a run record.
RunRecord ReadRunRecord(const std::string& location);

void WriteRunRecord(const std::string& location, const std::string& job, const RunRecord& record);

// The number at `key` of a figures object, or nullopt when absent or null.
std::optional<double> FigureNumber(const std::string& figures_json, std::string_view key);
// The string at `key` of a figures object, or nullopt when absent or null.
std::optional<std::string> FigureText(const std::string& figures_json, std::string_view key);
// The boolean at `key` of a figures object, or nullopt.
std::optional<bool> FigureBool(const std::string& figures_json, std::string_view key);

}  // namespace ipinsights
