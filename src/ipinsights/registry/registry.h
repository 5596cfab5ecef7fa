// Registry: published model versions and the pointer to the one in service, kept in any
// Storage location (a local folder or s3://bucket/prefix). Layout (docs/formats/registry.md):
//
//   ROOT/NAME/versions/VERSION/model.ipinsights
//   ROOT/NAME/versions/VERSION/metrics.json, evaluation.json, report.html (optional)
//   ROOT/NAME/versions/VERSION/summary.json   written last: a version without it is
//                                             incomplete and never served or listed
//   ROOT/NAME/current                         JSON, written last and atomically (one small
//                                             object on S3) after the version is complete
//
// `current` holds {"version": V, "previous": [older versions, newest first], "updated": T}
// so a rollback needs no listing. Publishing twice with the same files is harmless: a
// complete version is never rewritten.
//
// Thread-safety: a Registry object may be used from several threads; two processes that
// publish to the same NAME at once are not coordinated (the pipeline runs one job per NAME).
//
//   Registry registry("s3://models/ipinsights");
//   registry.PublishVersion("cloudtrail", "2024-05-31",
//                           {{"model.ipinsights", "/tmp/m/model.ipinsights"}}, summary_json);
//   registry.SetCurrent("cloudtrail", "2024-05-31");
//   std::optional<std::string> live = registry.Current("cloudtrail");   // "2024-05-31"
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ipinsights {

// True for names usable as a registry NAME or VERSION: [A-Za-z0-9._-]+, at most 200 bytes,
// not "." or "..".
bool IsRegistryName(std::string_view name);

// "s3://bucket/prefix/NAME" or "dir/NAME" → {"s3://bucket/prefix", "NAME"}: how serve's
// --model NAME=REGISTRY/NAME is taken apart. Throws UsageError when there is no NAME.
std::pair<std::string, std::string> SplitRegistryModelLocation(const std::string& location);

struct CurrentPointer {
  std::string version;
  std::vector<std::string> previous;  // newest first
  std::string updated;                // UTC, "YYYY-MM-DDTHH:MM:SSZ"
};

class Registry {
 public:
  // `root`: a local folder (created on first publish) or "s3://bucket/prefix".
  explicit Registry(std::string root);

  const std::string& root() const { return root_; }

  // ROOT/NAME/versions/VERSION (no trailing slash).
  std::string VersionLocation(const std::string& name, const std::string& version) const;
  // ROOT/NAME/versions/VERSION/model.ipinsights.
  std::string ModelLocation(const std::string& name, const std::string& version) const;

  // The current pointer, or nullopt when NAME has none yet. Throws Error when it exists but
  // cannot be read or parsed (the message names the location).
  std::optional<CurrentPointer> ReadCurrent(const std::string& name) const;
  // ReadCurrent(name)->version, or nullopt.
  std::optional<std::string> Current(const std::string& name) const;

  // Complete versions (summary.json present), sorted by version string.
  std::vector<std::string> Versions(const std::string& name) const;
  bool IsComplete(const std::string& name, const std::string& version) const;

  // Copies each (file name, source location) into the version folder, then writes
  // summary.json last. Does nothing when the version is already complete. Version and file
  // names are checked: [A-Za-z0-9._-], not "." or "..". Throws UsageError / Error.
  void PublishVersion(const std::string& name, const std::string& version,
                      const std::vector<std::pair<std::string, std::string>>& files,
                      const std::string& summary_json);

  // Points current at a complete version (the old one moves to the front of `previous`);
  // a no-op when it is current already. Throws Error when the version is not complete.
  void SetCurrent(const std::string& name, const std::string& version);

  // Points current back at the newest complete version in `previous` and returns it
  // (the rolled-back version is dropped from the history). Throws Error when there is none.
  std::string Rollback(const std::string& name);

 private:
  std::string root_;
};

}  // namespace ipinsights
