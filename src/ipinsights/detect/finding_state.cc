#include "ipinsights/detect/finding_state.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

constexpr std::string_view kEntryType = "ipinsights.reported/1";
constexpr std::string_view kStateObject = "reported.ndjson";

std::string_view KindName(LogKind kind) { return kind == LogKind::kWaf ? "waf" : "cloudtrail"; }

struct Entry {
  LogKind kind = LogKind::kCloudTrail;
  std::string entity;
  IpAddress ip;
  int64_t window_start = 0;
  int64_t window_end = 0;
  std::string id;
  int64_t reported_at = 0;
};

std::string EntryLine(const Entry& entry) {
  std::string line = "{\"type\":";
  AppendJsonString(&line, kEntryType);
  line += ",\"kind\":";
  AppendJsonString(&line, KindName(entry.kind));
  line += ",\"entity\":";
  AppendJsonString(&line, entry.entity);
  line += ",\"ip\":";
  AppendJsonString(&line, entry.ip.ToString());
  // ISO 8601 has four-digit years: a garbled far-future record time is kept as the last
  // second it can write (and read back), so the state stays loadable.
  constexpr int64_t kLastWritableSecond = 253402300799;  // 9999-12-31T23:59:59Z
  line += ",\"window_start\":";
  AppendJsonString(
      &line, FormatTimestamp(std::clamp<int64_t>(entry.window_start, 0, kLastWritableSecond)));
  line += ",\"window_end\":";
  AppendJsonString(&line,
                   FormatTimestamp(std::clamp<int64_t>(entry.window_end, 0, kLastWritableSecond)));
  line += ",\"id\":";
  AppendJsonString(&line, entry.id);
  line += ",\"reported_at\":";
  AppendJsonString(&line, FormatTimestamp(entry.reported_at));
  line += "}\n";
  return line;
}

// One line of the state object; throws Error naming location:line.
Entry ParseEntry(simdjson::dom::parser& parser, std::string_view text, const std::string& where) {
  auto bad = [&](const std::string& why) { return Error(where + ": " + why); };
  simdjson::padded_string padded(text);
  simdjson::dom::element document;
  if (auto error = parser.parse(padded).get(document)) {
    throw bad(fmt::format("not a JSON object: {}", simdjson::error_message(error)));
  }
  simdjson::dom::object object;
  if (document.get(object) != simdjson::SUCCESS) throw bad("not a JSON object");
  auto text_field = [&](const char* name) {
    std::string_view value;
    if (object[name].get(value) != simdjson::SUCCESS) {
      throw bad(fmt::format("\"{}\" is missing or not a string", name));
    }
    return value;
  };
  auto time_field = [&](const char* name) {
    std::string_view value = text_field(name);
    std::optional<int64_t> seconds = ParseTimestamp(value);
    if (!seconds) throw bad(fmt::format("\"{}\" is not an ISO 8601 UTC timestamp", name));
    return *seconds;
  };
  if (text_field("type") != kEntryType) {
    throw bad(fmt::format("\"type\" is not \"{}\": not a state entry", kEntryType));
  }
  Entry entry;
  const std::string_view kind = text_field("kind");
  if (kind == "cloudtrail") {
    entry.kind = LogKind::kCloudTrail;
  } else if (kind == "waf") {
    entry.kind = LogKind::kWaf;
  } else {
    throw bad("\"kind\" is not cloudtrail or waf");
  }
  entry.entity = std::string(text_field("entity"));
  std::optional<IpAddress> ip = IpAddress::Parse(text_field("ip"));
  if (!ip) throw bad("\"ip\" is not an IP address");
  entry.ip = *ip;
  entry.window_start = time_field("window_start");
  entry.window_end = time_field("window_end");
  if (entry.window_end <= entry.window_start) throw bad("\"window_end\" is not after the start");
  entry.id = std::string(text_field("id"));
  entry.reported_at = time_field("reported_at");
  return entry;
}

}  // namespace

struct FindingState::Impl {
  std::string object;  // LOCATION/reported.ndjson
  // (kind, entity, ip) -> the windows reported for the pair.
  using Key = std::tuple<LogKind, std::string, IpAddress>;
  std::map<Key, std::vector<Entry>> entries;
  size_t count = 0;
};

FindingState::FindingState() : impl_(new Impl) {}
FindingState::~FindingState() = default;
FindingState::FindingState(FindingState&&) noexcept = default;
FindingState& FindingState::operator=(FindingState&&) noexcept = default;

FindingState FindingState::Load(const std::string& location) {
  FindingState state;
  state.impl_->object = JoinLocation(location, std::string(kStateObject));
  const std::string& object = state.impl_->object;
  Storage& storage = OpenStorage(object);
  if (!storage.Exists(object)) return state;
  std::string bytes;
  storage.ReadAll(object, &bytes);
  simdjson::dom::parser parser;
  size_t line_number = 0;
  size_t start = 0;
  while (start < bytes.size()) {
    size_t end = bytes.find('\n', start);
    if (end == std::string::npos) end = bytes.size();
    ++line_number;
    std::string_view line(bytes.data() + start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    Entry entry = ParseEntry(parser, line, fmt::format("{}:{}", object, line_number));
    Impl::Key key{entry.kind, entry.entity, entry.ip};
    state.impl_->entries[key].push_back(std::move(entry));
    ++state.impl_->count;
  }
  return state;
}

bool FindingState::Reported(const Finding& finding) const {
  auto it = impl_->entries.find(Impl::Key{finding.kind, finding.entity, finding.ip});
  if (it == impl_->entries.end()) return false;
  // Half-open windows [start, end) overlap when each starts before the other ends.
  return std::any_of(it->second.begin(), it->second.end(), [&](const Entry& entry) {
    return entry.window_start < finding.window_end && finding.window_start < entry.window_end;
  });
}

std::vector<Finding> FindingState::Unreported(std::vector<Finding> findings,
                                              uint64_t* already) const {
  std::vector<Finding> fresh;
  uint64_t seen = 0;
  for (Finding& finding : findings) {
    if (Reported(finding)) {
      ++seen;
    } else {
      fresh.push_back(std::move(finding));
    }
  }
  if (already != nullptr) *already = seen;
  return fresh;
}

void FindingState::Record(const Finding& finding, int64_t reported_at) {
  std::vector<Entry>& windows = impl_->entries[Impl::Key{finding.kind, finding.entity, finding.ip}];
  const bool known = std::any_of(windows.begin(), windows.end(), [&](const Entry& entry) {
    return entry.window_start == finding.window_start && entry.window_end == finding.window_end;
  });
  if (known) return;  // the first report of a window is the one kept
  windows.push_back(Entry{finding.kind, finding.entity, finding.ip, finding.window_start,
                          finding.window_end, finding.id, reported_at});
  ++impl_->count;
}

void FindingState::Record(const std::vector<Finding>& findings, int64_t reported_at) {
  for (const Finding& finding : findings) Record(finding, reported_at);
}

void FindingState::Save(int64_t keep_seconds) {
  // Pruned: windows that ended more than keep_seconds before the newest window. A window
  // ending after the latest report (plus a day) comes from a garbled far-future record
  // time: it does not count as the newest, or one bad record would push every other entry
  // out (replaying old logs, the newest window is old, and that is fine).
  int64_t latest_report = INT64_MIN;
  for (const auto& [key, windows] : impl_->entries) {
    for (const Entry& entry : windows) latest_report = std::max(latest_report, entry.reported_at);
  }
  int64_t newest_end = INT64_MIN;
  for (const auto& [key, windows] : impl_->entries) {
    for (const Entry& entry : windows) {
      if (entry.window_end <= latest_report + 86400) {
        newest_end = std::max(newest_end, entry.window_end);
      }
    }
  }
  std::vector<const Entry*> kept;
  for (const auto& [key, windows] : impl_->entries) {
    for (const Entry& entry : windows) {
      if (newest_end == INT64_MIN || entry.window_end >= newest_end - keep_seconds) {
        kept.push_back(&entry);
      }
    }
  }
  std::sort(kept.begin(), kept.end(), [](const Entry* a, const Entry* b) {
    return std::tie(a->window_start, a->kind, a->entity, a->ip) <
           std::tie(b->window_start, b->kind, b->entity, b->ip);
  });
  std::string text;
  for (const Entry* entry : kept) text += EntryLine(*entry);
  std::unique_ptr<WritableFile> file = OpenStorage(impl_->object).OpenWritable(impl_->object);
  file->Append(text);
  file->Close();
  // What was written is what the state now holds.
  std::map<Impl::Key, std::vector<Entry>> remaining;
  for (const Entry* entry : kept) {
    remaining[Impl::Key{entry->kind, entry->entity, entry->ip}].push_back(*entry);
  }
  impl_->entries = std::move(remaining);
  impl_->count = kept.size();
}

size_t FindingState::entries() const { return impl_->count; }

}  // namespace ipinsights
