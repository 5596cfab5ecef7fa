#include "ipinsights/dataset/channel_listing.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string_view>
#include <utility>

#include "ipinsights/base/error.h"
#include "ipinsights/dataset/shard.h"

namespace ipinsights {
namespace {

struct Entry {
  std::string key;  // what the order compares
  ObjectInfo object;
};

// The entity histories `prepare` writes beside its outputs (HistoryLocationFor).
constexpr std::string_view kHistorySuffix = ".history";

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

std::vector<ObjectInfo> ListChannel(const std::string& location) {
  std::vector<ObjectInfo> listed = OpenStorage(location).List(location);
  // A location that names one object is that object, whatever its name.
  if (listed.size() == 1 && listed[0].location == location) return listed;

  std::vector<Entry> entries;
  // Per folder: the part count seen first (and the part that showed it), and the indices.
  std::map<std::string, std::pair<std::string, std::vector<size_t>>> parts;
  for (ObjectInfo& object : listed) {
    const size_t slash = object.location.rfind('/');
    const std::string folder =
        slash == std::string::npos ? std::string() : object.location.substr(0, slash + 1);
    const std::string_view name = std::string_view(object.location).substr(folder.size());
    if (name.empty() || name[0] == '.' || EndsWith(name, kShardSummarySuffix) ||
        EndsWith(name, kHistorySuffix)) {
      continue;
    }
    std::string key = object.location;
    if (std::optional<Shard> part = ParsePartName(name)) {
      // Zero-padded to a fixed width, part names compare in index order.
      key = fmt::format("{}part-{:010}-of-{:010}", folder, part->index, part->count);
      auto& [first, indices] = parts[folder];
      if (first.empty()) {
        first = object.location;
        indices.assign(part->count, 0);
      }
      if (indices.size() != part->count) {
        throw Error(fmt::format(
            "{}: parts of different sharded runs in one folder ({} and {}): give each run its "
            "own folder",
            location, first, object.location));
      }
      ++indices[part->index];
    }
    entries.push_back({std::move(key), std::move(object)});
  }
  for (const auto& [folder, seen] : parts) {
    const std::vector<size_t>& indices = seen.second;
    for (size_t i = 0; i < indices.size(); ++i) {
      if (indices[i] == 1) continue;
      const std::string name = folder + ShardPartName(Shard{i, indices.size()});
      if (indices[i] == 0) {
        throw Error(fmt::format(
            "{}: {} is missing ({} parts expected): did that shard of `prepare` finish?", location,
            name, indices.size()));
      }
      throw Error(fmt::format("{}: {} is there more than once, padded and not ({} parts expected)",
                              location, name, indices.size()));
    }
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.key < b.key; });
  std::vector<ObjectInfo> objects;
  objects.reserve(entries.size());
  for (Entry& entry : entries) objects.push_back(std::move(entry.object));
  return objects;
}

}  // namespace ipinsights
