// FindingState: what earlier runs reported, so a daily run does not report a pair again
// within its window (`score --findings --state DIR|s3://bucket/prefix`). One object,
// LOCATION/reported.ndjson (docs/formats/findings.md, "State"): one JSON line per reported
// (kind, entity, ip, window_start, window_end, finding id, reported_at). Entries whose window
// ended more than `keep_seconds` before the newest window are pruned on Save.
//
// Saved atomically (a local temp + rename; S3 PUT is atomic), after the findings were
// delivered: a run that fails before Save reports its findings again next time (at least
// once, never lost). Two runs sharing one state location at the same time may lose one's
// entries (no lock on S3); run them from one scheduler.
//
// Thread-safety: one thread at a time.
//
//   FindingState state = FindingState::Load("s3://sec/ipinsights-state/cloudtrail");
//   std::vector<Finding> fresh = state.Unreported(std::move(findings), &already);
//   ... deliver fresh ...
//   state.Record(fresh, now); state.Save();
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ipinsights/detect/finding.h"

namespace ipinsights {

class FindingState {
 public:
  ~FindingState();
  FindingState(FindingState&&) noexcept;
  FindingState& operator=(FindingState&&) noexcept;

  // A missing state object is an empty state. Throws Error naming the location (and line)
  // when it cannot be read or a line is not a state entry.
  static FindingState Load(const std::string& location);

  // The findings not reported before: a finding is already reported when an entry has the
  // same kind, entity and ip and its window overlaps the finding's. `already` (optional)
  // counts the others.
  std::vector<Finding> Unreported(std::vector<Finding> findings, uint64_t* already) const;
  bool Reported(const Finding& finding) const;
  // Adds entries (in memory; Save writes them). A window already recorded keeps its first.
  void Record(const std::vector<Finding>& findings, int64_t reported_at);
  void Record(const Finding& finding, int64_t reported_at);
  // Writes LOCATION/reported.ndjson. Throws Error.
  void Save(int64_t keep_seconds = 30 * 86400);
  size_t entries() const;

 private:
  FindingState();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipinsights
