#include "ipinsights/detect/finding.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <utility>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/hash.h"
#include "ipinsights/detect/finding_run.h"

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

// The aggregator's grouping order, the order of its spill files.
bool KeyBefore(const Finding& a, const Finding& b) {
  if (a.kind != b.kind) return a.kind < b.kind;
  if (a.entity != b.entity) return a.entity < b.entity;
  if (a.ip != b.ip) return a.ip < b.ip;
  return a.window_start < b.window_start;
}

bool SameKey(const Finding& a, const Finding& b) {
  return a.kind == b.kind && a.window_start == b.window_start && a.ip == b.ip &&
         a.entity == b.entity;
}

// Output order (FindingStream): a total order, since no two findings share a key.
bool OutputBefore(const Finding& a, const Finding& b) {
  if (a.severity != b.severity) return a.severity > b.severity;
  if (a.lowest_score != b.lowest_score) return a.lowest_score < b.lowest_score;
  if (a.entity != b.entity) return a.entity < b.entity;
  if (a.ip != b.ip) return a.ip < b.ip;
  if (a.window_start != b.window_start) return a.window_start < b.window_start;
  return a.kind < b.kind;
}

// Folds `later` (events that arrived after `into`'s, the same key) into `into`, with the
// result Add would have reached had every event gone to one PartialFinding: ties go to the
// earlier event everywhere Add breaks them.
void Combine(PartialFinding* into, PartialFinding&& later, const FindingOptions& options) {
  Finding& finding = into->finding;
  Finding& other = later.finding;
  finding.events += other.events;
  if (later.has_time) {
    if (!into->has_time || other.first_seen < finding.first_seen) {
      finding.first_seen = other.first_seen;
      finding.first_event_time = std::move(other.first_event_time);
    }
    if (!into->has_time || other.last_seen > finding.last_seen) {
      finding.last_seen = other.last_seen;
      finding.last_event_time = std::move(other.last_event_time);
    }
    into->has_time = true;
  }
  if (!later.samples.empty()) {
    std::vector<std::pair<int64_t, std::string>> samples;
    samples.reserve(into->samples.size() + later.samples.size());
    // std::merge takes from the first range on ties: the earlier arrivals first, as Add.
    std::merge(std::make_move_iterator(into->samples.begin()),
               std::make_move_iterator(into->samples.end()),
               std::make_move_iterator(later.samples.begin()),
               std::make_move_iterator(later.samples.end()), std::back_inserter(samples),
               [](const auto& a, const auto& b) { return a.first < b.first; });
    if (samples.size() > options.max_sample_events) samples.resize(options.max_sample_events);
    into->samples = std::move(samples);
  }
  // `later` lists its first distinct activities; if it dropped one, it saw more than the
  // limit, so the union does too.
  finding.activities_truncated = finding.activities_truncated || other.activities_truncated;
  for (std::string& activity : other.activities) {
    if (std::find(finding.activities.begin(), finding.activities.end(), activity) !=
        finding.activities.end()) {
      continue;
    }
    if (finding.activities.size() < options.max_activities) {
      finding.activities.push_back(std::move(activity));
    } else {
      finding.activities_truncated = true;
    }
  }
  for (Reason& reason : later.rule_reasons) {
    const bool known = std::any_of(into->rule_reasons.begin(), into->rule_reasons.end(),
                                   [&](const Reason& kept) { return kept.code == reason.code; });
    if (!known) into->rule_reasons.push_back(std::move(reason));
  }
  if (later.has_lowest && (!into->has_lowest || other.lowest_score < finding.lowest_score)) {
    into->has_lowest = true;
    into->lowest_reasons = std::move(later.lowest_reasons);
    finding.lowest_score = other.lowest_score;
    finding.false_positive_rate = other.false_positive_rate;
    finding.account_id = std::move(other.account_id);
    finding.region = std::move(other.region);
    finding.identity_type = std::move(other.identity_type);
    finding.credential_type = std::move(other.credential_type);
    finding.user_agent = std::move(other.user_agent);
    finding.network = std::move(other.network);
    finding.object = std::move(other.object);
    finding.record_index = other.record_index;
  }
}

// The finding's final fields from what its events left; `partial` keeps only `finding`.
void Complete(PartialFinding* partial) {
  Finding& finding = partial->finding;
  if (!partial->has_time) {
    finding.first_seen = finding.window_start;
    finding.last_seen = finding.window_start;
  }
  for (auto& [time, id] : partial->samples) finding.sample_event_ids.push_back(std::move(id));
  finding.reasons = std::move(partial->rule_reasons);
  for (Reason& reason : partial->lowest_reasons) {
    if (!HasReason(finding, reason.code)) finding.reasons.push_back(std::move(reason));
  }
  // Their buffers freed, not only emptied: a completed finding waits in memory for output.
  decltype(partial->samples)().swap(partial->samples);
  std::vector<Reason>().swap(partial->rule_reasons);
  std::vector<Reason>().swap(partial->lowest_reasons);
  finding.severity = SeverityOf(finding);
}

// A k-way merge over sorted runs: the run whose next record comes first, ties to the lower
// run index (the earlier spill, so the earlier events).
// With `close_finished`, a run read to its end is closed at once (its disk freed): a merge
// that is read once. Without, Start reads every run again from its first record.
template <typename Before>
class RunMerger {
 public:
  RunMerger(std::vector<FindingRun>* runs, Before before, bool close_finished)
      : runs_(runs), before_(before), close_finished_(close_finished) {}
  void Start() {
    heads_.assign(runs_->size(), PartialFinding{});
    heap_.clear();
    for (size_t run = 0; run < runs_->size(); ++run) {
      (*runs_)[run].Rewind();
      ReadHead(run);
    }
  }
  // The next record, moved out; false after the last.
  bool Next(PartialFinding* out) {
    if (heap_.empty()) return false;
    std::pop_heap(heap_.begin(), heap_.end(), Later());
    const size_t run = heap_.back();
    heap_.pop_back();
    *out = std::move(heads_[run]);
    heads_[run] = PartialFinding{};
    ReadHead(run);
    return true;
  }
  // The record Next would return, or null.
  const PartialFinding* Peek() const { return heap_.empty() ? nullptr : &heads_[heap_.front()]; }

 private:
  // std heap functions keep the largest first: "later" puts the earliest record on top.
  auto Later() const {
    return [this](size_t a, size_t b) {
      if (before_(heads_[b].finding, heads_[a].finding)) return true;
      if (before_(heads_[a].finding, heads_[b].finding)) return false;
      return b < a;
    };
  }
  void ReadHead(size_t run) {
    if ((*runs_)[run].Read(&heads_[run])) {
      heap_.push_back(run);
      std::push_heap(heap_.begin(), heap_.end(), Later());
    } else if (close_finished_) {
      (*runs_)[run].Close();
    }
  }
  std::vector<FindingRun>* runs_;
  Before before_;
  bool close_finished_;
  std::vector<PartialFinding> heads_;
  std::vector<size_t> heap_;
};

using Order = bool (*)(const Finding&, const Finding&);

// Reads `runs` merged in `order`, calling emit(PartialFinding&&) for each record; with
// `combine`, the parts of one key (from several runs, in run order) come out as one.
template <typename Emit>
void MergeRuns(std::vector<FindingRun>* runs, Order order, const FindingOptions* combine,
               Emit&& emit) {
  RunMerger merger(runs, order, /*close_finished=*/true);
  merger.Start();
  PartialFinding partial;
  PartialFinding later;
  while (merger.Next(&partial)) {
    while (combine != nullptr && merger.Peek() != nullptr &&
           SameKey(merger.Peek()->finding, partial.finding)) {
      merger.Next(&later);
      Combine(&partial, std::move(later), *combine);
    }
    emit(std::move(partial));
    partial = PartialFinding{};
  }
}

// Sorted spill files, in the order written. Whenever kMergeWidth files of one level end the
// list, they are merged into one file of the next level, so at most kMergeWidth files per
// level are open (a few levels for any day) and each finding is rewritten log16(files) times.
class SpillFiles {
 public:
  static constexpr size_t kMergeWidth = 16;

  SpillFiles(Order order, bool combine, const FindingOptions& options)
      : order_(order), combine_(combine), options_(options) {}

  // Writes `sorted` (in order_) as a new file.
  void Write(const std::vector<PartialFinding>& sorted) {
    FindingRun run = FindingRun::Create(options_.spill_folder);
    for (const PartialFinding& partial : sorted) run.Append(partial);
    runs_.push_back(std::move(run));
    levels_.push_back(0);
    ++written_;
    while (runs_.size() >= kMergeWidth &&
           std::all_of(levels_.end() - kMergeWidth, levels_.end(),
                       [&](int level) { return level == levels_.back(); })) {
      MergeTail();
    }
  }
  bool empty() const { return runs_.empty(); }
  size_t written() const { return written_; }
  std::vector<FindingRun>* runs() { return &runs_; }

 private:
  void MergeTail() {
    const int level = levels_.back() + 1;
    std::vector<FindingRun> tail;
    for (auto it = runs_.end() - kMergeWidth; it != runs_.end(); ++it) {
      tail.push_back(std::move(*it));
    }
    runs_.erase(runs_.end() - kMergeWidth, runs_.end());
    levels_.erase(levels_.end() - kMergeWidth, levels_.end());
    FindingRun merged = FindingRun::Create(options_.spill_folder);
    MergeRuns(&tail, order_, combine_ ? &options_ : nullptr,
              [&](PartialFinding&& partial) { merged.Append(partial); });
    runs_.push_back(std::move(merged));
    levels_.push_back(level);
  }

  Order order_;
  bool combine_;
  FindingOptions options_;
  std::vector<FindingRun> runs_;
  std::vector<int> levels_;
  size_t written_ = 0;
};

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

struct FindingStream::Impl {
  explicit Impl(const FindingOptions& options)
      : options(options), spills(&OutputBefore, /*combine=*/false, options) {}

  FindingOptions options;
  uint64_t size = 0;
  // Every finding fit in the budget: sorted in memory, read by index.
  std::vector<PartialFinding> sorted;
  size_t next = 0;
  size_t sorted_memory = 0;  // HeapBytesOf over sorted
  // Else: sorted spill files, merged as they are read.
  SpillFiles spills;
  std::optional<RunMerger<Order>> merger;

  void Add(PartialFinding&& partial) {
    ++size;
    sorted_memory += HeapBytesOf(partial);
    sorted.push_back(std::move(partial));
    if (sorted_memory + sorted.capacity() * sizeof(PartialFinding) > options.memory_budget) {
      Spill();
    }
  }
  void Spill() {
    Sort();
    spills.Write(sorted);
    sorted.clear();
    sorted_memory = 0;
  }
  void Sort() {
    std::sort(sorted.begin(), sorted.end(), [](const PartialFinding& a, const PartialFinding& b) {
      return OutputBefore(a.finding, b.finding);
    });
  }
  // Findings completed in memory, within the budget: kept as they are, no copy.
  void Take(std::vector<PartialFinding>&& findings) {
    size = findings.size();
    sorted = std::move(findings);
  }
  void StartReading() {
    if (spills.empty()) {
      Sort();
      return;
    }
    if (!sorted.empty()) Spill();
    std::vector<PartialFinding>().swap(sorted);
    merger.emplace(spills.runs(), &OutputBefore, /*close_finished=*/false);
    merger->Start();
  }
};

struct FindingAggregator::Impl {
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
  // A hash node and its bucket, beside the key's own strings.
  static constexpr size_t kIndexEntryBytes = sizeof(Key) + sizeof(size_t) + 4 * sizeof(void*);

  explicit Impl(const FindingOptions& options)
      : options(options), spills(&KeyBefore, /*combine=*/true, options) {}

  FindingOptions options;
  std::vector<PartialFinding> findings;
  std::unordered_map<Key, size_t, KeyHash> index;
  size_t memory = 0;  // HeapBytesOf over findings, and the index's nodes
  SpillFiles spills;  // parts of findings, by key; a finding may have parts in several
  // The latest event time seen in each object, for events without a time of their own.
  std::unordered_map<std::string, int64_t> latest_in_object;

  void Spill() {
    std::sort(findings.begin(), findings.end(),
              [](const PartialFinding& a, const PartialFinding& b) {
                return KeyBefore(a.finding, b.finding);
              });
    spills.Write(findings);
    findings.clear();
    index.clear();
    memory = 0;
  }
};

namespace {
FindingOptions Checked(FindingOptions options) {
  if (options.window_seconds <= 0) options.window_seconds = 86400;
  return options;
}
}  // namespace

FindingAggregator::FindingAggregator(const FindingOptions& options)
    : impl_(new Impl(Checked(options))) {}

FindingAggregator::~FindingAggregator() = default;

size_t FindingAggregator::size() const { return impl_->findings.size(); }

size_t FindingAggregator::spill_files() const { return impl_->spills.written(); }

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
    PartialFinding partial;
    Finding& finding = partial.finding;
    finding.id = FindingId(event.kind, event.entity, event.ip, window_start);
    finding.kind = event.kind;
    finding.entity = event.entity;
    finding.ip = event.ip;
    finding.window_start = window_start;
    finding.window_end = window_start + window_seconds;
    impl.findings.push_back(std::move(partial));
    impl.memory += Impl::kIndexEntryBytes + event.entity.capacity();
  }
  PartialFinding& partial = impl.findings[slot->second];
  const size_t memory_before = inserted ? 0 : HeapBytesOf(partial);
  Finding& finding = partial.finding;
  ++finding.events;

  if (event.has_time) {
    if (!partial.has_time || event.time < finding.first_seen) {
      finding.first_seen = event.time;
      finding.first_event_time = event.event_time;
    }
    if (!partial.has_time || event.time > finding.last_seen) {
      finding.last_seen = event.time;
      finding.last_event_time = event.event_time;
    }
    partial.has_time = true;
  }

  if (!event.event_id.empty() && impl.options.max_sample_events > 0) {
    auto& samples = partial.samples;
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
    const bool known = std::any_of(partial.rule_reasons.begin(), partial.rule_reasons.end(),
                                   [&](const Reason& kept) { return kept.code == reason.code; });
    if (!known) partial.rule_reasons.push_back(reason);
  }

  if (!partial.has_lowest || event.score < finding.lowest_score) {
    partial.has_lowest = true;
    finding.lowest_score = event.score;
    finding.false_positive_rate = event.false_positive_rate;
    partial.lowest_reasons = event.reasons;
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
  impl.memory += HeapBytesOf(partial) - memory_before;
  if (impl.memory + impl.findings.capacity() * sizeof(PartialFinding) +
          impl.index.bucket_count() * sizeof(void*) >
      impl.options.memory_budget) {
    impl.Spill();
  }
}

FindingStream FindingAggregator::Finish() && {
  Impl& impl = *impl_;
  auto stream = std::make_unique<FindingStream::Impl>(impl.options);
  auto complete = [&](PartialFinding&& partial) {
    Complete(&partial);
    stream->Add(std::move(partial));
  };
  decltype(impl.index)().swap(impl.index);
  if (impl.spills.empty()) {
    for (PartialFinding& partial : impl.findings) Complete(&partial);
    stream->Take(std::move(impl.findings));
  } else {
    // The spill files and the rest of the table, merged by key: the parts of one finding
    // meet in the order their events arrived.
    if (!impl.findings.empty()) impl.Spill();
    std::vector<PartialFinding>().swap(impl.findings);
    MergeRuns(impl.spills.runs(), &KeyBefore, &impl.options, complete);
    impl.spills.runs()->clear();
  }
  stream->StartReading();
  return FindingStream(std::move(stream));
}

FindingStream::FindingStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FindingStream::~FindingStream() = default;
FindingStream::FindingStream(FindingStream&&) noexcept = default;
FindingStream& FindingStream::operator=(FindingStream&&) noexcept = default;

uint64_t FindingStream::size() const { return impl_->size; }

size_t FindingStream::spill_files() const { return impl_->spills.written(); }

bool FindingStream::Next(Finding* finding) {
  Impl& impl = *impl_;
  if (!impl.merger) {
    if (impl.next == impl.sorted.size()) return false;
    *finding = impl.sorted[impl.next++].finding;  // a copy: Rewind reads it again
    return true;
  }
  PartialFinding partial;
  if (!impl.merger->Next(&partial)) return false;
  *finding = std::move(partial.finding);
  return true;
}

void FindingStream::Rewind() {
  impl_->next = 0;
  if (impl_->merger) impl_->merger->Start();
}

std::vector<Finding> FindingStream::ReadAll() && {
  std::vector<Finding> out;
  out.reserve(impl_->size);
  Rewind();
  Finding finding;
  while (Next(&finding)) out.push_back(std::move(finding));
  return out;
}

}  // namespace ipinsights
