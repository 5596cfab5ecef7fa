#include "ipinsights/detect/finding.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/hash.h"

namespace ipinsights {
namespace {

// Reasons that come from a rule rather than from the model's score: a finding keeps them
// whichever of its events carried them, not only when that event scored lowest.
bool IsRuleReason(std::string_view code) { return code == "instance_credentials_outside_instance"; }

bool HasReason(const Finding& finding, std::string_view code) {
  for (const Reason& reason : finding.reasons) {
    if (reason.code == code) return true;
  }
  return false;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

std::string_view KindName(LogKind kind) { return kind == LogKind::kWaf ? "waf" : "cloudtrail"; }

// The window part of the id: the date for windows that start at midnight (the default one
// day), the full timestamp for shorter windows (several of them share a date).
std::string WindowLabel(int64_t window_start) {
  if (FloorDiv(window_start, 86400) * 86400 == window_start) {
    return FormatDate(DateOfUnixSeconds(window_start));
  }
  return FormatTimestamp(window_start);
}

std::string FindingId(LogKind kind, const std::string& entity, const IpAddress& ip,
                      int64_t window_start) {
  // The entity's bytes, a separator no entity contains, then the address's 16 bytes: the
  // same pair gives the same hash in every run and on every machine.
  std::string key = entity;
  key.push_back('\0');
  key.append(reinterpret_cast<const char*>(ip.bytes().data()), ip.bytes().size());
  return fmt::format("ipinsights/{}/{}/{:016x}", KindName(kind), WindowLabel(window_start),
                     Hash64(key, 0));
}

}  // namespace

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInformational:
      return "INFORMATIONAL";
    case Severity::kLow:
      return "LOW";
    case Severity::kMedium:
      return "MEDIUM";
    case Severity::kHigh:
      return "HIGH";
    case Severity::kCritical:
      return "CRITICAL";
  }
  return "LOW";
}

Severity SeverityOf(const Finding& finding) {
  const bool rare_score = finding.false_positive_rate <= 0.001;
  const bool coarse_new = HasReason(finding, "coarse_network_new_for_entity");
  if (HasReason(finding, "instance_credentials_outside_instance")) return Severity::kHigh;
  if (coarse_new && rare_score) return Severity::kHigh;
  if (coarse_new || rare_score || HasReason(finding, "asn_new_for_entity")) {
    return Severity::kMedium;
  }
  return Severity::kLow;
}

struct FindingAggregator::Impl {
  struct Building {
    Finding finding;
    bool has_time = false;
    bool has_lowest = false;
    // (time, event id) of the earliest events, sorted; at most max_sample_events.
    std::vector<std::pair<int64_t, std::string>> samples;
    std::vector<Reason> rule_reasons;  // one per code, from the first event carrying it
    std::vector<Reason> lowest_reasons;
  };
  struct Key {
    LogKind kind;
    std::string entity;
    IpAddress ip;
    int64_t window_start;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& key) const {
      return Mix64(Hash64(key.entity, 0) ^ key.ip.high64() ^ Mix64(key.ip.low64()) ^
                   static_cast<uint64_t>(key.window_start) ^ static_cast<uint64_t>(key.kind));
    }
  };

  FindingOptions options;
  std::vector<Building> findings;
  std::unordered_map<Key, size_t, KeyHash> index;
  // The latest event time seen in each object, for events without a time of their own.
  std::unordered_map<std::string, int64_t> latest_in_object;
};

FindingAggregator::FindingAggregator(const FindingOptions& options) : impl_(new Impl) {
  impl_->options = options;
  if (impl_->options.window_seconds <= 0) impl_->options.window_seconds = 86400;
}

FindingAggregator::~FindingAggregator() = default;

size_t FindingAggregator::size() const { return impl_->findings.size(); }

void FindingAggregator::Add(const ScoredEvent& event) {
  Impl& impl = *impl_;
  const int64_t window_seconds = impl.options.window_seconds;
  int64_t time = 0;
  if (event.has_time) {
    time = event.time;
    auto [it, inserted] = impl.latest_in_object.try_emplace(event.object, event.time);
    if (!inserted) it->second = std::max(it->second, event.time);
  } else if (auto it = impl.latest_in_object.find(event.object);
             it != impl.latest_in_object.end()) {
    time = std::max(it->second, event.time);
  } else {
    time = event.time;  // the scorer's date for it: the latest time its object showed so far
  }
  const int64_t window_start = FloorDiv(time, window_seconds) * window_seconds;

  Impl::Key key{event.kind, event.entity, event.ip, window_start};
  auto [slot, inserted] = impl.index.try_emplace(key, impl.findings.size());
  if (inserted) {
    Impl::Building building;
    Finding& finding = building.finding;
    finding.id = FindingId(event.kind, event.entity, event.ip, window_start);
    finding.kind = event.kind;
    finding.entity = event.entity;
    finding.ip = event.ip;
    finding.window_start = window_start;
    finding.window_end = window_start + window_seconds;
    impl.findings.push_back(std::move(building));
  }
  Impl::Building& building = impl.findings[slot->second];
  Finding& finding = building.finding;
  ++finding.events;

  if (event.has_time) {
    if (!building.has_time || event.time < finding.first_seen) {
      finding.first_seen = event.time;
      finding.first_event_time = event.event_time;
    }
    if (!building.has_time || event.time > finding.last_seen) {
      finding.last_seen = event.time;
      finding.last_event_time = event.event_time;
    }
    building.has_time = true;
  }

  if (!event.event_id.empty() && impl.options.max_sample_events > 0) {
    auto& samples = building.samples;
    const int64_t sample_time = event.has_time ? event.time : time;
    // Sorted by time, ties in arrival order; only the earliest are kept.
    auto at = std::upper_bound(samples.begin(), samples.end(), sample_time,
                               [](int64_t t, const auto& entry) { return t < entry.first; });
    if (samples.size() < impl.options.max_sample_events || at != samples.end()) {
      samples.insert(at, {sample_time, event.event_id});
      if (samples.size() > impl.options.max_sample_events) samples.pop_back();
    }
  }

  const std::string activity = event.Activity();
  if (!activity.empty() && std::find(finding.activities.begin(), finding.activities.end(),
                                     activity) == finding.activities.end()) {
    if (finding.activities.size() < impl.options.max_activities) {
      finding.activities.push_back(activity);
    } else {
      finding.activities_truncated = true;
    }
  }

  for (const Reason& reason : event.reasons) {
    if (!IsRuleReason(reason.code)) continue;
    const bool known = std::any_of(building.rule_reasons.begin(), building.rule_reasons.end(),
                                   [&](const Reason& kept) { return kept.code == reason.code; });
    if (!known) building.rule_reasons.push_back(reason);
  }

  if (!building.has_lowest || event.score < finding.lowest_score) {
    building.has_lowest = true;
    finding.lowest_score = event.score;
    finding.false_positive_rate = event.false_positive_rate;
    building.lowest_reasons = event.reasons;
    finding.account_id = event.account_id;
    finding.region = event.aws_region;
    finding.identity_type = event.identity_type;
    finding.credential_type = event.credential_type.empty()
                                  ? std::string(CredentialTypeOf(event.access_key_id))
                                  : event.credential_type;
    finding.user_agent = event.user_agent;
    finding.network = event.network;
    finding.object = event.object;
    finding.record_index = event.record_index;
  }
}

std::vector<Finding> FindingAggregator::Finish() && {
  std::vector<Finding> out;
  out.reserve(impl_->findings.size());
  for (Impl::Building& building : impl_->findings) {
    Finding& finding = building.finding;
    if (!building.has_time) {
      finding.first_seen = finding.window_start;
      finding.last_seen = finding.window_start;
    }
    for (auto& [time, id] : building.samples) finding.sample_event_ids.push_back(std::move(id));
    finding.reasons = std::move(building.rule_reasons);
    for (Reason& reason : building.lowest_reasons) {
      if (!HasReason(finding, reason.code)) finding.reasons.push_back(std::move(reason));
    }
    finding.severity = SeverityOf(finding);
    out.push_back(std::move(finding));
  }
  impl_->findings.clear();
  impl_->index.clear();
  std::sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    if (a.lowest_score != b.lowest_score) return a.lowest_score < b.lowest_score;
    if (a.entity != b.entity) return a.entity < b.entity;
    if (a.ip != b.ip) return a.ip < b.ip;
    if (a.window_start != b.window_start) return a.window_start < b.window_start;
    return a.kind < b.kind;
  });
  return out;
}

}  // namespace ipinsights
