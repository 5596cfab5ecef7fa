#include "ipinsights/detect/log_scorer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string_view>
#include <unordered_set>

#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/base/parallel.h"
#include "ipinsights/logs/log_scan.h"

namespace ipinsights {
namespace {

// The record fields an event line carries, in EventFields order; the key each is written
// under per log kind ("" = not written for that kind).
enum FieldIndex : uint8_t {
  kEventTime,
  kEventName,
  kEventSource,
  kAwsRegion,
  kAccountId,
  kEventId,
  kUserAgent,
  kIdentityType,
  kAccessKeyId,
  kPrincipalId,
  kUri,
  kHttpMethod,
  kAction,
  kRequestId,
  kCountry,
  kFieldCount
};

constexpr std::array<std::string_view, kFieldCount> kCloudTrailKeys = {"eventTime",
                                                                       "eventName",
                                                                       "eventSource",
                                                                       "awsRegion",
                                                                       "recipientAccountId",
                                                                       "eventID",
                                                                       "userAgent",
                                                                       "identityType",
                                                                       "accessKeyId",
                                                                       "",
                                                                       "",
                                                                       "",
                                                                       "",
                                                                       "",
                                                                       ""};
constexpr std::array<std::string_view, kFieldCount> kWafKeys = {
    "timestamp", "", "",    "",           "",       "",          "userAgent", "",
    "",          "", "uri", "httpMethod", "action", "requestId", "country"};

std::array<std::string_view, kFieldCount> FieldViews(const EventFields& f) {
  return {f.event_time, f.event_name,  f.event_source,  f.aws_region,    f.recipient_account_id,
          f.event_id,   f.user_agent,  f.identity_type, f.access_key_id, f.principal_id,
          f.uri,        f.http_method, f.action,        f.request_id,    f.country};
}

// A line's bytes besides its entity, object and field values (keys, address, numbers,
// record index, "null" for empty fields: about 340), and each reason's besides its code,
// message and facts (about 30).
constexpr size_t kLineBound = 512;
constexpr size_t kReasonBound = 64;

// Events are scored this many at a time (one ScoreBatch call).
constexpr size_t kBatch = 256;

struct Span {
  uint32_t offset = 0;
  uint32_t size = 0;
};

struct PendingEvent {
  Span entity;
  std::array<Span, kFieldCount> fields;
  IpAddress ip;
  bool has_time = false;
  int64_t time = 0;
  uint64_t record_index = 0;
};

// One event as Format reads it: views into the reader's buffers (scored at once) or into the
// output's arena (scored in a batch).
struct EventView {
  std::string_view entity;
  std::array<std::string_view, kFieldCount> fields;
  IpAddress ip;
  bool has_time = false;
  int64_t time = 0;
  uint64_t record_index = 0;
};

struct Totals {
  uint64_t scored = 0;
  uint64_t anomalous = 0;
  uint64_t rule_flagged = 0;
  uint64_t flagged = 0;
  uint64_t written = 0;
};

// One object's scored events: Add (worker thread) buffers, scores and formats; WriteOut (in
// listing order) writes the lines and hands the flagged events on.
class ScoredEventsOutput : public FileOutput {
 public:
  ScoredEventsOutput(const LogScoreOptions& options, Totals* totals)
      : options_(options), totals_(totals) {
    // The keys as written, `,"uri":`, built once: a line is mostly appends of these.
    const auto& keys = options.kind == LogKind::kCloudTrail ? kCloudTrailKeys : kWafKeys;
    for (size_t i = 0; i < kFieldCount; ++i) {
      if (keys[i].empty()) continue;
      written_.push_back({static_cast<FieldIndex>(i), ",\"" + std::string(keys[i]) + "\":"});
    }
  }

  void Add(const LogEvent& event) override {
    if (event.fields != nullptr && event.fields->object != object_) {
      Score();
      object_.assign(event.fields->object);
      latest_time_ = 0;
      // Escaped once per object, not once per event.
      object_json_ = ",\"object\":";
      AppendJsonString(&object_json_, object_);
      object_json_ += ",\"record_index\":";
    }
    if (options_.model->ScoresPairsAlone()) {
      // Scored and formatted straight from the reader's buffers: nothing copied twice.
      EventView view;
      view.entity = event.entity;
      if (event.fields != nullptr) {
        view.fields = FieldViews(*event.fields);
        view.record_index = event.fields->record_index;
      }
      view.ip = event.ip;
      view.has_time = event.has_time;
      view.time = event.time;
      Format(view, options_.model->Score(event.entity, event.ip));
      ++local_.scored;
      return;
    }
    PendingEvent& pending = pending_.emplace_back();
    pending.entity = Keep(event.entity);
    if (event.fields != nullptr) {
      const std::array<std::string_view, kFieldCount> views = FieldViews(*event.fields);
      for (size_t i = 0; i < kFieldCount; ++i) pending.fields[i] = Keep(views[i]);
      pending.record_index = event.fields->record_index;
    }
    pending.ip = event.ip;
    pending.has_time = event.has_time;
    pending.time = event.time;
    if (pending_.size() == kBatch) Score();
  }

  // Flagged events count too: without an events output they are all an object buffers.
  size_t BufferedBytes() const override { return lines_used_ + arena_.size() + flagged_bytes_; }

  void WriteOut() override {
    Score();
    if (options_.output != nullptr && lines_used_ > 0) {
      options_.output->Append(std::string_view(lines_.data(), lines_used_));
    }
    totals_->scored += local_.scored;
    totals_->anomalous += local_.anomalous;
    totals_->rule_flagged += local_.rule_flagged;
    totals_->flagged += local_.flagged;
    totals_->written += local_.written;
    if (options_.on_flagged) {
      for (ScoredEvent& event : flagged_) options_.on_flagged(std::move(event));
    }
    Clear();
  }

  void Discard() override { Clear(); }

 private:
  Span Keep(std::string_view text) {
    Span span{static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(text.size())};
    arena_.append(text);
    return span;
  }
  std::string_view View(Span span) const {
    return std::string_view(arena_).substr(span.offset, span.size);
  }

  // Where the next line goes, with at least `bound` bytes free behind it. lines_ is sized
  // ahead of what is written (lines_used_); it grows by doubling and keeps its size across
  // objects, so the zero-filling of resize is paid once.
  char* Room(size_t bound) {
    if (lines_.size() - lines_used_ < bound) {
      lines_.resize(std::max(2 * lines_.size(), lines_used_ + bound));
    }
    return lines_.data() + lines_used_;
  }
  static char* Put(char* p, std::string_view text) {
    if (!text.empty()) std::memcpy(p, text.data(), text.size());  // data() may be null
    return p + text.size();
  }

  void Clear() {
    pending_.clear();
    arena_.clear();
    lines_used_ = 0;
    flagged_.clear();
    flagged_bytes_ = 0;
    local_ = Totals{};
  }

  // Scores the pending events and formats their lines.
  void Score() {
    const size_t n = pending_.size();
    if (n == 0) return;
    entities_.resize(n);
    ips_.resize(n);
    scores_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      entities_[i] = View(pending_[i].entity);
      ips_[i] = pending_[i].ip;
    }
    options_.model->ScoreBatch(entities_.data(), ips_.data(), n, scores_.data());
    for (size_t i = 0; i < n; ++i) {
      const PendingEvent& pending = pending_[i];
      EventView view;
      view.entity = entities_[i];
      for (size_t f = 0; f < kFieldCount; ++f) view.fields[f] = View(pending.fields[f]);
      view.ip = pending.ip;
      view.has_time = pending.has_time;
      view.time = pending.time;
      view.record_index = pending.record_index;
      Format(view, scores_[i]);
    }
    local_.scored += n;
    pending_.clear();
    arena_.clear();
  }

  void Format(const EventView& event, float score) {
    const std::string_view entity = event.entity;
    if (event.has_time) latest_time_ = std::max(latest_time_, event.time);
    const bool anomalous = score < options_.threshold;
    const double rate =
        options_.calibration != nullptr ? options_.calibration->FalsePositiveRateAt(score) : -1;
    bool rule = false;
    if (options_.explainer != nullptr && options_.kind == LogKind::kCloudTrail) {
      rule = options_.explainer->InstanceCredentialsOutside(entity, event.fields[kPrincipalId],
                                                            event.ip);
    }
    const bool flagged = anomalous || rule;
    local_.anomalous += anomalous;
    local_.rule_flagged += rule;
    local_.flagged += flagged;
    std::vector<Reason> reasons;
    NetworkInfo network;
    if (flagged && options_.explainer != nullptr) {
      network = options_.explainer->LookupNetwork(event.ip);
      if (rule) {
        reasons.push_back(options_.explainer->InstanceCredentialsReason(entity, event.ip, network));
      }
      std::vector<Reason> more = options_.explainer->Explain(
          entity, event.ip, score, anomalous, options_.threshold, rate < 0 ? 1.0 : rate, network);
      for (Reason& reason : more) reasons.push_back(std::move(reason));
    }
    const std::string_view access_key = event.fields[kAccessKeyId];
    if (options_.output != nullptr && (flagged || !options_.only_flagged)) {
      // Room for the longest line these values can make, then plain pointer writes: a line
      // is some 30 pieces, and std::string's check per append cost as much as the copying.
      size_t bound = kLineBound + JsonStringBound(entity.size()) + object_json_.size();
      for (const WrittenField& written : written_) {
        bound += written.prefix.size() + JsonStringBound(event.fields[written.index].size());
      }
      for (const Reason& reason : reasons) {
        bound += kReasonBound + JsonStringBound(reason.code.size()) +
                 JsonStringBound(reason.message.size()) + reason.facts.size();
      }
      char* p = Room(bound);
      p = Put(p, "{\"entity\":");
      p = WriteJsonString(p, entity);
      p = Put(p, ",\"ip\":\"");
      p += event.ip.Format(p);
      p = Put(p, "\",\"score\":");
      p = WriteJsonNumber(p, score);
      p = Put(p, ",\"false_positive_rate_at_score\":");
      if (rate < 0) {
        p = Put(p, "null");
      } else {
        // A float's 8 digits are more than a rate read off a curve of 512 points can carry.
        p = WriteJsonNumber(p, static_cast<float>(rate));
      }
      p = anomalous ? Put(p, ",\"anomalous\":true") : Put(p, ",\"anomalous\":false");
      if (rule) p = Put(p, ",\"rule\":\"instance_credentials_outside_instance\"");
      for (const WrittenField& written : written_) {
        p = Put(p, written.prefix);
        const std::string_view value = event.fields[written.index];
        p = value.empty() ? Put(p, "null") : WriteJsonString(p, value);
      }
      if (options_.kind == LogKind::kCloudTrail) {
        p = Put(p, ",\"credential_type\":");
        const std::string_view type = CredentialTypeOf(access_key);
        p = type.empty() ? Put(p, "null") : WriteJsonString(p, type);
      }
      p = Put(p, object_json_);
      p = std::to_chars(p, p + 24, event.record_index).ptr;
      if (flagged) {
        p = Put(p, ",\"reasons\":[");
        for (size_t r = 0; r < reasons.size(); ++r) {
          if (r > 0) *p++ = ',';
          p = Put(p, "{\"code\":");
          p = WriteJsonString(p, reasons[r].code);
          p = Put(p, ",\"message\":");
          p = WriteJsonString(p, reasons[r].message);
          p = Put(p, ",\"facts\":");
          p = Put(p, reasons[r].facts);
          *p++ = '}';
        }
        *p++ = ']';
      }
      p = Put(p, "}\n");
      lines_used_ = p - lines_.data();
      ++local_.written;
    }
    if (flagged && options_.on_flagged) {
      ScoredEvent& scored = flagged_.emplace_back();
      scored.kind = options_.kind;
      scored.entity.assign(entity);
      scored.ip = event.ip;
      scored.score = score;
      scored.false_positive_rate = rate < 0 ? 1.0 : rate;
      scored.anomalous = anomalous;
      scored.has_time = event.has_time;
      // Without a time of its own an event is dated by the latest one seen in its object
      // (FindingAggregator windows it by that), never by 1970.
      scored.time = event.has_time ? event.time : latest_time_;
      scored.object = object_;
      scored.record_index = event.record_index;
      scored.event_time.assign(event.fields[kEventTime]);
      scored.event_name.assign(event.fields[kEventName]);
      scored.event_source.assign(event.fields[kEventSource]);
      scored.aws_region.assign(event.fields[kAwsRegion]);
      scored.account_id.assign(event.fields[kAccountId]);
      scored.event_id.assign(options_.kind == LogKind::kCloudTrail ? event.fields[kEventId]
                                                                   : event.fields[kRequestId]);
      scored.user_agent.assign(event.fields[kUserAgent]);
      scored.identity_type.assign(event.fields[kIdentityType]);
      scored.access_key_id.assign(access_key);
      scored.credential_type.assign(CredentialTypeOf(access_key));
      scored.uri.assign(event.fields[kUri]);
      scored.http_method.assign(event.fields[kHttpMethod]);
      scored.action.assign(event.fields[kAction]);
      scored.country.assign(event.fields[kCountry]);
      scored.network = std::move(network);
      scored.reasons = std::move(reasons);
      flagged_bytes_ += sizeof(ScoredEvent) + scored.entity.size() + scored.object.size() +
                        scored.user_agent.size() + scored.uri.size() + 256;
      for (const Reason& reason : scored.reasons) {
        flagged_bytes_ += sizeof(Reason) + reason.message.size() + reason.facts.size();
      }
    }
  }

  const LogScoreOptions& options_;
  Totals* totals_;
  struct WrittenField {
    FieldIndex index;
    std::string prefix;  // ,"key":
  };
  std::vector<WrittenField> written_;  // the fields this kind's lines carry, in order
  std::string object_;
  std::string object_json_;  // ,"object":"...","record_index":
  int64_t latest_time_ = 0;  // the latest event time of the current object
  std::vector<PendingEvent> pending_;
  std::string arena_;
  std::string lines_;  // the lines are its first lines_used_ bytes
  size_t lines_used_ = 0;
  std::vector<ScoredEvent> flagged_;
  size_t flagged_bytes_ = 0;
  Totals local_;
  std::vector<std::string_view> entities_;
  std::vector<IpAddress> ips_;
  std::vector<float> scores_;
};

}  // namespace

LogScoreSummary ScoreLogs(const LogScoreOptions& options) {
  if (options.model == nullptr) throw UsageError("score: no model");
  if (options.inputs.empty()) throw UsageError("score: --input SRC is required");
  const size_t threads = options.threads ? options.threads : HardwareThreads();
  LogReaderOptions reader =
      ScanReaderOptions(options.kind, options.entity, options.days, options.ipv4_only,
                        options.max_decompressed_bytes, threads);
  reader.want_event_time = true;
  reader.want_event_fields = true;

  std::vector<ObjectInfo> objects;
  for (const std::string& input : options.inputs) {
    std::vector<ObjectInfo> listed = ListLogObjects(OpenStorage(input), input, options.days);
    ExcludeOutputs("--input", input, options.exclude, &listed);
    for (ObjectInfo& object : listed) objects.push_back(std::move(object));
  }
  // Every record once: inputs that overlap (a folder and a file in it) list an object twice.
  {
    std::unordered_set<std::string> seen;
    std::vector<ObjectInfo> unique;
    for (ObjectInfo& object : objects) {
      std::string key = object.location;
      if (key.rfind("s3://", 0) != 0) {
        std::error_code ignored;
        const std::filesystem::path path = std::filesystem::weakly_canonical(key, ignored);
        if (!path.empty()) key = path.string();
      }
      if (seen.insert(std::move(key)).second) unique.push_back(std::move(object));
    }
    objects = std::move(unique);
  }
  if (options.on_listed) options.on_listed(objects);
  uint64_t total_stored = 0;
  for (const ObjectInfo& object : objects) total_stored += object.size;

  const auto start = std::chrono::steady_clock::now();
  if (options.progress) options.progress(0, total_stored);
  ScanOptions scan_options;
  scan_options.threads = threads;
  scan_options.bad_records = options.bad_records;
  scan_options.keep_corrupt = options.keep_corrupt;
  if (options.progress) {
    scan_options.progress = [&](uint64_t bytes) { options.progress(bytes, total_stored); };
  }
  scan_options.flush_bytes = size_t{8} << 20;
  Totals totals;
  ScanSummary scan =
      ScanLogs(objects, nullptr, reader, scan_options, [&]() -> std::unique_ptr<FileOutput> {
        return std::make_unique<ScoredEventsOutput>(options, &totals);
      });
  LogScoreSummary summary;
  summary.files = scan.files;
  summary.digest_files = scan.digest_files;
  summary.stored_bytes = scan.stored_bytes;
  summary.json_bytes = scan.json_bytes;
  summary.records = scan.records;
  summary.scored = totals.scored;
  summary.anomalous = totals.anomalous;
  summary.rule_flagged = totals.rule_flagged;
  summary.flagged = totals.flagged;
  summary.written = totals.written;
  summary.skipped = scan.skipped;
  summary.warnings = std::move(scan.warnings);
  summary.problem_count = scan.skipped[SkipReason::kMalformed];
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  summary.threads = threads;
  summary.json_kernel = std::move(scan.json_kernel);
  return summary;
}

}  // namespace ipinsights
