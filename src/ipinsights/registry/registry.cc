#include "ipinsights/registry/registry.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

constexpr std::string_view kSummaryFile = "summary.json";
// `previous` keeps this many versions; older ones are still listed by Versions().
constexpr size_t kMaxPrevious = 100;

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

std::string NameProblem(std::string_view text) {
  if (text.empty()) return "is empty";
  if (text == "." || text == "..") return "may not be \".\" or \"..\"";
  if (text.size() > 200) return "is longer than 200 characters";
  for (char c : text) {
    if (!IsNameChar(c)) return "may only contain letters, digits, '.', '_' and '-'";
  }
  return "";
}

void CheckName(std::string_view what, std::string_view text, const std::string& where) {
  std::string problem = NameProblem(text);
  if (!problem.empty())
    throw UsageError(
        fmt::format("{}: {} \"{}\" {}", where, what, text.substr(0, 200), std::move(problem)));
}

std::string CurrentJson(const CurrentPointer& pointer) {
  std::string out = "{\"version\": ";
  AppendJsonString(&out, pointer.version);
  out += ", \"previous\": [";
  for (size_t i = 0; i < pointer.previous.size(); ++i) {
    if (i > 0) out += ", ";
    AppendJsonString(&out, pointer.previous[i]);
  }
  out += "], \"updated\": ";
  AppendJsonString(&out, pointer.updated);
  out += "}\n";
  return out;
}

CurrentPointer ParseCurrent(const std::string& json, const std::string& location) {
  CurrentPointer pointer;
  bool has_version = false;
  auto bad = [&](const std::string& why) {
    return Error(fmt::format("{}: not a registry current pointer: {}", location, why));
  };
  // The DOM parser validates the whole text (trailing garbage included) before we look.
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto error = parser.parse(json).get(doc); error)
    throw bad(fmt::format("invalid JSON: {}", simdjson::error_message(error)));
  simdjson::dom::object object;
  if (doc.get(object) != simdjson::SUCCESS) throw bad("not a JSON object");
  for (auto [key, value] : object) {
    if (key == "version") {
      std::string_view text;
      if (value.get(text) != simdjson::SUCCESS) throw bad("\"version\" is not a string");
      pointer.version = std::string(text);
      has_version = true;
    } else if (key == "previous") {
      simdjson::dom::array array;
      if (value.get(array) != simdjson::SUCCESS) throw bad("\"previous\" is not an array");
      for (simdjson::dom::element item : array) {
        std::string_view text;
        if (item.get(text) != simdjson::SUCCESS)
          throw bad("\"previous\" holds something other than a string");
        pointer.previous.emplace_back(text);
      }
    } else if (key == "updated") {
      std::string_view text;
      if (value.get(text) != simdjson::SUCCESS) throw bad("\"updated\" is not a string");
      pointer.updated = std::string(text);
    }
    // Other keys are skipped: a newer writer may add some.
  }
  if (!has_version) throw bad("no \"version\"");
  if (std::string problem = NameProblem(pointer.version); !problem.empty())
    throw bad(fmt::format("version \"{}\" {}", pointer.version.substr(0, 200), problem));
  for (const std::string& previous : pointer.previous) {
    if (std::string problem = NameProblem(previous); !problem.empty())
      throw bad(fmt::format("previous version \"{}\" {}", previous.substr(0, 200), problem));
  }
  return pointer;
}

void CheckJsonObject(const std::string& json, const std::string& where) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto error = parser.parse(json).get(doc); error)
    throw Error(fmt::format("{}: the summary is not valid JSON: {}", where,
                            simdjson::error_message(error)));
  if (!doc.is_object()) throw Error(fmt::format("{}: the summary is not a JSON object", where));
}

// Copies `from` to `to` in chunks; `to` appears whole on Close().
void CopyObject(const std::string& from, const std::string& to) {
  std::unique_ptr<SequentialReader> reader = OpenStorage(from).OpenSequential(from);
  std::unique_ptr<WritableFile> writer = OpenStorage(to).OpenWritable(to);
  std::string buffer(size_t{1} << 20, '\0');
  for (;;) {
    size_t n = reader->Read(buffer.data(), buffer.size());
    if (n == 0) break;
    writer->Append(std::string_view(buffer.data(), n));
  }
  writer->Close();
}

}  // namespace

bool IsRegistryName(std::string_view name) { return NameProblem(name).empty(); }

std::pair<std::string, std::string> SplitRegistryModelLocation(const std::string& location) {
  std::string trimmed = location;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  bool s3 = IsS3Location(trimmed);
  size_t slash = trimmed.rfind('/');
  std::string root;
  std::string name;
  if (s3) {
    // s3://bucket/NAME at least: the slash must come after the bucket.
    if (slash == std::string::npos || slash < 5 || trimmed.find('/', 5) == std::string::npos)
      throw UsageError(fmt::format("{}: expected s3://BUCKET[/PREFIX]/NAME", location));
    root = trimmed.substr(0, slash);
    name = trimmed.substr(slash + 1);
  } else if (slash == std::string::npos) {
    root = ".";
    name = trimmed;
  } else {
    root = slash == 0 ? "/" : trimmed.substr(0, slash);
    name = trimmed.substr(slash + 1);
  }
  CheckName("model name", name, location);
  return {root, name};
}

Registry::Registry(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  if (root_.empty()) throw UsageError("registry: the location is empty");
  if (IsS3Location(root_) && root_.size() <= 5)
    throw UsageError(fmt::format("registry {}: expected s3://BUCKET[/PREFIX]", root_));
}

std::string Registry::VersionLocation(const std::string& name, const std::string& version) const {
  CheckName("model name", name, root_);
  CheckName("version", version, root_ + "/" + name);
  return fmt::format("{}{}{}/versions/{}", root_, root_.back() == '/' ? "" : "/", name, version);
}

std::string Registry::ModelLocation(const std::string& name, const std::string& version) const {
  return VersionLocation(name, version) + "/model.ipinsights";
}

std::optional<CurrentPointer> Registry::ReadCurrent(const std::string& name) const {
  CheckName("model name", name, root_);
  std::string location = fmt::format("{}{}{}/current", root_, root_.back() == '/' ? "" : "/", name);
  Storage& storage = OpenStorage(location);
  std::string json;
  try {
    if (!storage.Exists(location)) return std::nullopt;
    json.reserve(4096);
    storage.ReadAll(location, &json);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: cannot read the current pointer: {}", location, e.what()));
  }
  return ParseCurrent(json, location);
}

std::optional<std::string> Registry::Current(const std::string& name) const {
  std::optional<CurrentPointer> pointer = ReadCurrent(name);
  if (!pointer) return std::nullopt;
  return pointer->version;
}

std::vector<std::string> Registry::Versions(const std::string& name) const {
  CheckName("model name", name, root_);
  std::string folder = fmt::format("{}{}{}/versions/", root_, root_.back() == '/' ? "" : "/", name);
  // One listing, not one request per version: a version is complete when its folder holds
  // summary.json (writers' temp files are never listed).
  Listing listing = OpenStorage(folder).ListUnder(folder, ListDepth::kRecursive);
  std::vector<std::string> versions;
  for (const ObjectInfo& object : listing.objects) {
    std::string_view path = object.location;
    size_t last = path.rfind('/');
    if (last == std::string_view::npos || path.substr(last + 1) != kSummaryFile) continue;
    std::string_view parent = path.substr(0, last);
    size_t version_slash = parent.rfind('/');
    if (version_slash == std::string_view::npos) continue;
    std::string_view version = parent.substr(version_slash + 1);
    std::string_view versions_folder = parent.substr(0, version_slash);
    while (!versions_folder.empty() && versions_folder.back() == '/')
      versions_folder.remove_suffix(1);
    size_t folder_slash = versions_folder.rfind('/');
    std::string_view folder_name = folder_slash == std::string_view::npos
                                       ? versions_folder
                                       : versions_folder.substr(folder_slash + 1);
    if (folder_name != "versions" || !NameProblem(version).empty()) continue;
    versions.emplace_back(version);
  }
  std::sort(versions.begin(), versions.end());
  versions.erase(std::unique(versions.begin(), versions.end()), versions.end());
  return versions;
}

bool Registry::IsComplete(const std::string& name, const std::string& version) const {
  std::string summary = VersionLocation(name, version) + "/" + std::string(kSummaryFile);
  return OpenStorage(summary).Exists(summary);
}

void Registry::PublishVersion(const std::string& name, const std::string& version,
                              const std::vector<std::pair<std::string, std::string>>& files,
                              const std::string& summary_json) {
  std::string folder = VersionLocation(name, version);  // checks both names
  for (size_t i = 0; i < files.size(); ++i) {
    CheckName("file name", files[i].first, folder);
    if (files[i].first == kSummaryFile)
      throw UsageError(fmt::format(
          "{}: summary.json is written from the summary, not copied (it marks the version "
          "complete)",
          folder));
    for (size_t j = 0; j < i; ++j) {
      if (files[j].first == files[i].first)
        throw UsageError(fmt::format("{}: file \"{}\" given twice", folder, files[i].first));
    }
    if (files[i].second.empty())
      throw UsageError(fmt::format("{}/{}: no source location", folder, files[i].first));
  }
  CheckJsonObject(summary_json, folder + "/" + std::string(kSummaryFile));
  if (IsComplete(name, version)) return;  // published before: a complete version is final
  // An earlier attempt killed half-way may have left some files: each is rewritten whole.
  for (const auto& [file_name, source] : files) {
    std::string destination = folder + "/" + file_name;
    try {
      CopyObject(source, destination);
    } catch (const Error& e) {
      throw Error(fmt::format("{}: cannot publish {}: {}", destination, source, e.what()));
    }
  }
  std::string summary = summary_json;
  if (summary.empty() || summary.back() != '\n') summary += '\n';
  WriteWholeObject(folder + "/" + std::string(kSummaryFile), summary);
}

void Registry::SetCurrent(const std::string& name, const std::string& version) {
  std::string folder = VersionLocation(name, version);
  if (!IsComplete(name, version))
    throw Error(
        fmt::format("{}: not a complete version (no summary.json); not made current", folder));
  std::optional<CurrentPointer> old = ReadCurrent(name);
  if (old && old->version == version) return;
  CurrentPointer pointer;
  pointer.version = version;
  if (old) {
    pointer.previous.push_back(old->version);
    for (const std::string& previous : old->previous) pointer.previous.push_back(previous);
  }
  // The new current version is no one's predecessor; each older one appears once.
  std::vector<std::string> unique;
  for (const std::string& previous : pointer.previous) {
    if (previous == version || std::find(unique.begin(), unique.end(), previous) != unique.end())
      continue;
    if (unique.size() < kMaxPrevious) unique.push_back(previous);
  }
  pointer.previous = std::move(unique);
  pointer.updated = UtcNowTimestamp();
  WriteWholeObject(fmt::format("{}{}{}/current", root_, root_.back() == '/' ? "" : "/", name),
                   CurrentJson(pointer));
}

std::string Registry::Rollback(const std::string& name) {
  std::string location = fmt::format("{}{}{}/current", root_, root_.back() == '/' ? "" : "/", name);
  std::optional<CurrentPointer> old = ReadCurrent(name);
  if (!old) throw Error(fmt::format("{}: no current version to roll back from", location));
  for (size_t i = 0; i < old->previous.size(); ++i) {
    const std::string& candidate = old->previous[i];
    if (candidate == old->version || !IsComplete(name, candidate)) continue;
    CurrentPointer pointer;
    pointer.version = candidate;
    pointer.previous.assign(old->previous.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                            old->previous.end());
    pointer.updated = UtcNowTimestamp();
    WriteWholeObject(location, CurrentJson(pointer));
    return candidate;
  }
  throw Error(fmt::format("{}: no previous complete version to roll back to (current is \"{}\")",
                          location, old->version));
}

}  // namespace ipinsights
