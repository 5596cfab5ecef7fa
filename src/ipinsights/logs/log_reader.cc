#include "ipinsights/logs/log_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/progress.h"
#include "ipinsights/base/strings.h"
#include "ipinsights/logs/gzip_reader.h"
#include "ipinsights/logs/json_document_parser.h"
#include "ipinsights/logs/json_error_locator.h"
#include "ipinsights/logs/log_listing.h"
#include "ipinsights/logs/padded_buffer.h"

namespace ipinsights {
namespace {

inline bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool HasBom(const char* data, size_t size) {
  return size >= 3 && static_cast<unsigned char>(data[0]) == 0xEF &&
         static_cast<unsigned char>(data[1]) == 0xBB && static_cast<unsigned char>(data[2]) == 0xBF;
}

// Replays bytes already taken from a source, then continues with the source.
class PrefixedReader : public SequentialReader {
 public:
  PrefixedReader(std::string prefix, std::unique_ptr<SequentialReader> source)
      : prefix_(std::move(prefix)), source_(std::move(source)) {}
  size_t Read(char* buffer, size_t n) override {
    if (offset_ < prefix_.size()) {
      size_t take = std::min(n, prefix_.size() - offset_);
      std::memcpy(buffer, prefix_.data() + offset_, take);
      offset_ += take;
      return take;
    }
    return source_->Read(buffer, n);
  }

 private:
  std::string prefix_;
  size_t offset_ = 0;
  std::unique_ptr<SequentialReader> source_;
};

// Counts bytes read from the storage (for the report and the progress bar).
class CountingReader : public SequentialReader {
 public:
  CountingReader(std::unique_ptr<SequentialReader> source, uint64_t* count,
                 const ReadProgress& progress)
      : source_(std::move(source)), count_(count), progress_(progress) {}
  size_t Read(char* buffer, size_t n) override {
    size_t got = source_->Read(buffer, n);
    *count_ += got;
    if (progress_ && got > 0) progress_(got);
    return got;
  }

 private:
  std::unique_ptr<SequentialReader> source_;
  uint64_t* count_;
  const ReadProgress& progress_;
};

// The location as is, or quoted and escaped when it holds bytes that could forge or hide in
// a log line (a file name with a newline).
std::string LocationForMessage(const std::string& location) {
  for (char c : location) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return QuoteForMessage(location, 4096);
    }
  }
  return location;
}

}  // namespace

class LogFileReader::Impl : public RecordVisitor {
 public:
  explicit Impl(const LogReaderOptions& options)
      : options_(options),
        parser_(NewJsonDocumentParser(options.kind, options.entity, options.want_event_fields)),
        need_time_(options.want_event_time || options.want_event_fields || options.from_seconds ||
                   options.to_seconds) {}

  const char* json_kernel() const { return parser_->implementation(); }

  FileReport Read(Storage& storage, const ObjectInfo& object, EventSink& sink,
                  BadRecordReporter* bad_records, const ReadProgress& progress) {
    Begin(object.location, sink, bad_records);
    if (IsDigestKey(object.location)) {
      report_.digest = true;
      report_.skipped.Add(SkipReason::kDigest);
      if (progress && object.size > 0) progress(object.size);
      return Finish();
    }
    const bool stream = object.location == "-" || object.size > options_.stream_above_stored ||
                        object.size > options_.memory_budget;
    if (stream) {
      auto source = std::make_unique<CountingReader>(storage.OpenSequential(object.location),
                                                     &report_.stored_bytes, progress);
      ProcessStream(std::move(source));
      return Finish();
    }
    ReadObject(storage, object);
    report_.stored_bytes = stored_.size();
    if (progress && stored_.size() > 0) progress(stored_.size());
    ProcessStoredBytes(stored_.view());
    stored_.ShrinkTo(size_t{64} << 20);
    return Finish();
  }

  FileReport ReadBytes(std::string_view name, std::string_view bytes, EventSink& sink,
                       BadRecordReporter* bad_records) {
    Begin(std::string(name), sink, bad_records);
    if (IsDigestKey(name)) {
      report_.digest = true;
      report_.skipped.Add(SkipReason::kDigest);
      return Finish();
    }
    report_.stored_bytes = bytes.size();
    ProcessStoredBytes(bytes);
    return Finish();
  }

  // RecordVisitor.
  void OnCloudTrailRecord(const CloudTrailRecordFields& fields) override {
    CloudTrailRecord(fields, nullptr);
  }
  void OnCloudTrailRecordWithFields(const CloudTrailRecordFields& fields,
                                    const CloudTrailEventFields& extra) override {
    CloudTrailRecord(fields, &extra);
  }
  void OnWafRecord(const WafRecordFields& fields) override { WafRecord(fields, nullptr); }
  void OnWafRecordWithFields(const WafRecordFields& fields, const WafEventFields& extra) override {
    WafRecord(fields, &extra);
  }

  // Inlined into each callback, where `extra` is a constant: prepare's callbacks test nothing.
  [[gnu::always_inline]] void CloudTrailRecord(const CloudTrailRecordFields& fields,
                                               const CloudTrailEventFields* extra) {
    const uint64_t record_index = report_.records++;
    if (fields.identity.type == "AWSService") return Skip(SkipReason::kAwsService);
    LogEvent event;
    if (need_time_ && !fields.event_time.empty()) {
      if (std::optional<int64_t> time = ParseTimestamp(fields.event_time)) {
        event.has_time = true;
        event.time = *time;
      }
    }
    if (event.has_time && OutOfRange(event.time)) return Skip(SkipReason::kOutOfRange);
    if (!fields.has_source_ip) return Skip(SkipReason::kNotAnIp);
    std::optional<IpAddress> ip = IpAddress::Parse(fields.source_ip);
    if (!ip) return Skip(SkipReason::kNotAnIp);
    if (options_.ipv4_only && !ip->is_v4()) return Skip(SkipReason::kIpv6);
    event.entity = SelectCloudTrailEntity(fields.identity, options_.entity.kind);
    if (event.entity.empty()) return Skip(SkipReason::kNoEntity);
    event.ip = *ip;
    if (extra) event.fields = &CloudTrailEventFieldsOf(fields, *extra, record_index);
    sink_->Add(event);
    ++report_.pairs;
  }

  [[gnu::always_inline]] void WafRecord(const WafRecordFields& fields,
                                        const WafEventFields* extra) {
    const uint64_t record_index = report_.records++;
    LogEvent event;
    if (need_time_) {
      if (fields.has_timestamp_ms) {
        int64_t ms = fields.timestamp_ms;
        event.has_time = true;
        event.time = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
      } else if (!fields.timestamp_text.empty()) {
        if (std::optional<int64_t> time = ParseTimestamp(fields.timestamp_text)) {
          event.has_time = true;
          event.time = *time;
        }
      }
    }
    if (event.has_time && OutOfRange(event.time)) return Skip(SkipReason::kOutOfRange);
    if (!fields.has_client_ip) return Skip(SkipReason::kNotAnIp);
    std::optional<IpAddress> ip = IpAddress::Parse(fields.client_ip);
    if (!ip) return Skip(SkipReason::kNotAnIp);
    if (options_.ipv4_only && !ip->is_v4()) return Skip(SkipReason::kIpv6);
    if (!fields.has_header) return Skip(SkipReason::kNoEntity);
    event.entity = WafEntityFromHeaderValue(fields.header_value, options_.entity.kind, &scratch_);
    if (event.entity.empty()) return Skip(SkipReason::kNoEntity);
    event.ip = *ip;
    if (extra) event.fields = &WafEventFieldsOf(fields, *extra, record_index);
    sink_->Add(event);
    ++report_.pairs;
  }

  void OnNonObjectRecord(size_t offset) override {
    ++report_.records;
    Problem(document_base_ + offset, "a record that is not a JSON object");
  }

 private:
  enum class Container { kUnknown, kTopLevel, kArray, kRecords };

  void Begin(std::string name, EventSink& sink, BadRecordReporter* bad_records) {
    name_ = std::move(name);
    sink_ = &sink;
    bad_records_ = bad_records;
    report_ = FileReport();
    container_ = Container::kUnknown;
    stop_ = false;
  }

  FileReport Finish() {
    if (json_.capacity() > options_.memory_budget) json_.ShrinkTo(0);
    if (report_.json_bytes >= kBombWarnMinBytes &&
        report_.json_bytes / kBombWarnRatio > report_.stored_bytes) {
      report_.warnings.push_back(fmt::format(
          "{}: decompresses to {} from {} stored ({}:1); a log this compressible may be a "
          "decompression bomb (--max-decompressed-gb caps what one object may take)",
          LocationForMessage(name_), FormatBytes(report_.json_bytes),
          FormatBytes(report_.stored_bytes),
          report_.json_bytes / std::max<uint64_t>(report_.stored_bytes, 1)));
    }
    return std::move(report_);
  }

  bool OutOfRange(int64_t time) const {
    return (options_.from_seconds && time < *options_.from_seconds) ||
           (options_.to_seconds && time >= *options_.to_seconds);
  }

  void Skip(SkipReason reason) { report_.skipped.Add(reason); }

  // The EventFields of a record about to be handed to the sink (want_event_fields). The
  // record index is FileReport::records before this record: every record counts, the
  // skipped and malformed ones too (a malformed line is one record, so is the malformed
  // rest of an object). Not inlined: kept out of the record callbacks, which
  // prepare runs per record.
  [[gnu::noinline]] const EventFields& CloudTrailEventFieldsOf(const CloudTrailRecordFields& fields,
                                                               const CloudTrailEventFields& from,
                                                               uint64_t record_index) {
    event_fields_ = EventFields();
    event_fields_.object = name_;
    event_fields_.record_index = record_index;
    event_fields_.event_time = fields.event_time;
    event_fields_.event_name = from.event_name;
    event_fields_.event_source = from.event_source;
    event_fields_.aws_region = from.aws_region;
    event_fields_.recipient_account_id = from.recipient_account_id;
    event_fields_.event_id = from.event_id;
    event_fields_.user_agent = from.user_agent;
    event_fields_.identity_type = fields.identity.type;
    event_fields_.access_key_id = fields.identity.access_key_id;
    event_fields_.principal_id = fields.identity.principal_id;
    event_fields_.arn = fields.identity.arn;
    return event_fields_;
  }

  [[gnu::noinline]] const EventFields& WafEventFieldsOf(const WafRecordFields& fields,
                                                        const WafEventFields& from,
                                                        uint64_t record_index) {
    event_fields_ = EventFields();
    event_fields_.object = name_;
    event_fields_.record_index = record_index;
    if (fields.has_timestamp_ms) {
      event_fields_.event_time = FormatMillisecondTime(fields.timestamp_ms);
    } else {
      event_fields_.event_time = fields.timestamp_text;
    }
    event_fields_.user_agent = from.user_agent;
    event_fields_.uri = from.uri;
    event_fields_.http_method = from.http_method;
    event_fields_.action = from.action;
    event_fields_.request_id = from.request_id;
    event_fields_.country = from.country;
    event_fields_.web_acl_id = from.web_acl_id;
    return event_fields_;
  }

  // "YYYY-MM-DDTHH:MM:SS.mmmZ" in time_text_ (years outside 0..9999 print as they come).
  std::string_view FormatMillisecondTime(int64_t ms) {
    const int64_t seconds = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    const int64_t millis = ms - seconds * 1000;
    const Date date = DateOfUnixSeconds(seconds);
    const int64_t of_day = seconds - DaysFromCivil(date) * 86400;
    if (date.year < 0 || date.year > 9999) {
      fmt::format_to_n_result<char*> end = fmt::format_to_n(
          time_text_, sizeof(time_text_), "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z",
          date.year, date.month, date.day, of_day / 3600, of_day / 60 % 60, of_day % 60, millis);
      return std::string_view(time_text_, std::min(end.size, sizeof(time_text_)));
    }
    // Digits by hand: a runtime format string per record cost score 2.5% of its CPU.
    char* out = time_text_;
    auto put = [&out](int64_t value, int digits) {
      for (int i = digits - 1; i >= 0; --i) {
        out[i] = static_cast<char>('0' + value % 10);
        value /= 10;
      }
      out += digits;
    };
    put(date.year, 4);
    *out++ = '-';
    put(date.month, 2);
    *out++ = '-';
    put(date.day, 2);
    *out++ = 'T';
    put(of_day / 3600, 2);
    *out++ = ':';
    put(of_day / 60 % 60, 2);
    *out++ = ':';
    put(of_day % 60, 2);
    *out++ = '.';
    put(millis, 3);
    *out++ = 'Z';
    return std::string_view(time_text_, static_cast<size_t>(out - time_text_));
  }

  // A malformed record or rest of file: counted as one malformed record and reported.
  void Problem(uint64_t offset, const std::string& what) {
    report_.skipped.Add(SkipReason::kMalformed);
    if (bad_records_) {
      bad_records_->Report(BadRecord::AtByte(name_, offset, "malformed JSON (" + what + ")"));
    }
  }
  // The rest of a gzip object (a stream error, or the decompression cap).
  void WholeProblem(std::string reason) {
    ++report_.records;
    report_.skipped.Add(SkipReason::kMalformed);
    if (bad_records_) bad_records_->Report(BadRecord::Whole(name_, std::move(reason)));
  }
  void MalformedDocument(uint64_t offset, const std::string& what) {
    ++report_.records;
    Problem(offset, what);
  }

  // Reads the whole object into stored_ (sequential reads into a reused buffer: no
  // zero-filling, padding kept for in-place parsing).
  void ReadObject(Storage& storage, const ObjectInfo& object) {
    std::unique_ptr<SequentialReader> reader = storage.OpenSequential(object.location);
    stored_.clear();
    stored_.Reserve(std::max<size_t>(static_cast<size_t>(object.size) + 1, size_t{1} << 16));
    for (;;) {
      if (stored_.size() == stored_.capacity()) stored_.Reserve(stored_.capacity() * 2);
      size_t n = reader->Read(stored_.data() + stored_.size(), stored_.capacity() - stored_.size());
      if (n == 0) break;
      stored_.set_size(stored_.size() + n);
    }
  }

  void ProcessStoredBytes(std::string_view bytes) {
    if (LooksGzipped(bytes)) {
      uint64_t hint = GzipSizeHint(bytes);
      if (hint > options_.memory_budget && hint >= bytes.size() / 2) {
        ProcessStream(std::make_unique<MemoryReader>(bytes));
        return;
      }
      size_t max_output = options_.memory_budget;
      if (options_.max_decompressed_bytes > 0) {
        max_output =
            static_cast<size_t>(std::min<uint64_t>(max_output, options_.max_decompressed_bytes));
      }
      GunzipResult result = GunzipWhole(bytes, max_output, &json_);
      if (result.status == GunzipResult::Status::kOk) {
        report_.json_bytes = json_.size();
        ProcessWhole(json_.data(), json_.size(), json_.capacity() + kJsonPadding);
        return;
      }
      // Too big for memory, or corrupt: stream it to keep memory bounded and to keep
      // everything that decodes before a corruption.
      ProcessStream(std::make_unique<MemoryReader>(bytes));
      return;
    }
    report_.json_bytes = bytes.size();
    if (bytes.size() > options_.memory_budget) {
      ProcessStream(std::make_unique<MemoryReader>(bytes));
      return;
    }
    // Plain text is parsed in place: stored_ keeps the padding.
    if (bytes.data() == stored_.data()) {
      ProcessWhole(stored_.data(), stored_.size(), stored_.capacity() + kJsonPadding);
      return;
    }
    json_.clear();
    json_.Reserve(bytes.size());
    if (!bytes.empty())
      std::memcpy(json_.data(), bytes.data(), bytes.size());  // memcpy(null, .., 0) is UB
    json_.set_size(bytes.size());
    ProcessWhole(json_.data(), json_.size(), json_.capacity() + kJsonPadding);
  }

  void ProcessWhole(const char* data, size_t size, size_t capacity) {
    document_base_ = 0;
    size_t start = HasBom(data, size) ? 3 : 0;
    container_ = Container::kTopLevel;  // arrays are parsed as one document here
    ProcessText(data + start, size - start, capacity - start, start, /*final=*/true);
  }

  // Streams decompressed text through a bounded buffer.
  void ProcessStream(std::unique_ptr<SequentialReader> raw) {
    // Sniff the gzip magic without losing the bytes.
    std::string head(2, '\0');
    size_t got = 0;
    while (got < 2) {
      size_t n = raw->Read(head.data() + got, 2 - got);
      if (n == 0) break;
      got += n;
    }
    head.resize(got);
    const bool gzipped = LooksGzipped(head);
    std::unique_ptr<SequentialReader> source =
        std::make_unique<PrefixedReader>(std::move(head), std::move(raw));
    GzipStreamReader* gzip = nullptr;
    if (gzipped) {
      auto reader = std::make_unique<GzipStreamReader>(std::move(source), name_);
      gzip = reader.get();
      source = std::move(reader);
    }
    report_.json_bytes = 0;
    json_.clear();
    uint64_t base = 0;  // offset of json_[0] in the decompressed stream
    bool first = true;
    const uint64_t limit = gzip ? options_.max_decompressed_bytes : 0;
    bool capped = false;
    for (;;) {
      json_.Reserve(json_.size() + options_.stream_chunk);
      size_t want = options_.stream_chunk;
      // One byte past the cap tells "exactly at the cap" from "more".
      if (limit)
        want = static_cast<size_t>(std::min<uint64_t>(want, limit + 1 - report_.json_bytes));
      size_t n = source->Read(json_.data() + json_.size(), want);
      if (limit && report_.json_bytes + n > limit) {
        n = static_cast<size_t>(limit - report_.json_bytes);
        capped = true;
      }
      json_.set_size(json_.size() + n);
      report_.json_bytes += n;
      const bool eof = n == 0 || capped;
      if (!eof && json_.size() < options_.stream_chunk / 2) continue;  // gather a fuller chunk
      size_t skip = 0;
      if (first) {
        if (json_.size() < 3 && !eof) continue;
        first = false;
        if (HasBom(json_.data(), json_.size())) skip = 3;
      }
      // A corrupt gzip tail: leave an incomplete last record unreported (the gzip error
      // below is the one problem).
      const bool final = eof && !capped && !(gzip && !gzip->error().empty());
      size_t consumed =
          skip + ProcessText(json_.data() + skip, json_.size() - skip,
                             json_.capacity() + kJsonPadding - skip, base + skip, final);
      if (stop_ || eof) break;
      size_t rest = json_.size() - consumed;
      if (rest > options_.max_record_bytes) {
        MalformedDocument(base + consumed, "a record or line longer than " +
                                               std::to_string(options_.max_record_bytes >> 20) +
                                               " MB");
        break;
      }
      std::memmove(json_.data(), json_.data() + consumed, rest);
      json_.set_size(rest);
      base += consumed;
    }
    if (capped) {
      WholeProblem(fmt::format(
          "more than {:g} GB decompressed (--max-decompressed-gb): the rest of the object is "
          "skipped",
          static_cast<double>(limit) / 1e9));
    } else if (gzip && !gzip->error().empty()) {
      report_.corrupt_gzip = gzip->corrupt();
      WholeProblem(gzip->error());
    }
  }

  // Parses the documents in [data, data + size) (absolute offset `base`). Returns how many
  // bytes were consumed; with !final, an incomplete trailing document is left for the next
  // call. Sets stop_ when the rest of the object must be skipped.
  size_t ProcessText(const char* data, size_t size, size_t capacity, uint64_t base, bool final) {
    size_t pos = 0;
    while (!stop_) {
      while (pos < size && IsSpace(data[pos])) ++pos;
      if (pos >= size) return size;
      if (container_ == Container::kUnknown) {
        // Streaming only: open a top-level array or {"Records":[ ourselves so that each
        // record can be framed on its own, however big the object.
        size_t opened = OpenContainer(data + pos, size - pos, final);
        if (opened == kNeedMore) return pos;
        pos += opened;
        continue;
      }
      if (container_ == Container::kArray || container_ == Container::kRecords) {
        size_t used = FrameElement(data, size, capacity, base, pos, final);
        if (used == kNeedMore) return pos;
        pos = used;
        continue;
      }
      size_t used = TopLevelDocument(data, size, capacity, base, pos, final);
      if (used == kNeedMore) return pos;
      pos = used;
    }
    return size;
  }

  static constexpr size_t kNeedMore = static_cast<size_t>(-1);
  // What a scan step returns once it has set stop_: the loop ends on stop_ without reading it.
  static constexpr size_t kStopped = kNeedMore - 1;

  // Returns bytes consumed (0 for a top-level document stream) or kNeedMore.
  size_t OpenContainer(const char* data, size_t size, bool final) {
    if (data[0] == '[') {
      container_ = Container::kArray;
      return 1;
    }
    if (data[0] == '{') {
      // {  "Records"  :  [
      size_t p = 1;
      auto space = [&] {
        while (p < size && IsSpace(data[p])) ++p;
      };
      space();
      constexpr std::string_view kKey = "\"Records\"";
      if (size - p < kKey.size() + 8 && !final) return kNeedMore;
      if (std::string_view(data + p, std::min(size - p, kKey.size())) == kKey) {
        p += kKey.size();
        space();
        if (p < size && data[p] == ':') {
          ++p;
          space();
          if (p < size && data[p] == '[') {
            container_ = Container::kRecords;
            return p + 1;
          }
        }
      }
    }
    container_ = Container::kTopLevel;
    return 0;
  }

  // One element of an array being framed by us (streaming). Returns the new position.
  size_t FrameElement(const char* data, size_t size, size_t capacity, uint64_t base, size_t pos,
                      bool final) {
    char c = data[pos];
    if (c == ',') return pos + 1;
    if (c == ']') {
      if (container_ == Container::kRecords) {
        size_t p = pos + 1;
        while (p < size && IsSpace(data[p])) ++p;
        if (p >= size)
          return final ? MalformedRest(base + p, "unexpected end of input") : kNeedMore;
        if (data[p] != '}') return MalformedRest(base + p, "expected '}' after the Records array");
        pos = p;
      }
      container_ = Container::kTopLevel;
      return pos + 1;
    }
    JsonErrorLocation where = LocateJsonError(std::string_view(data + pos, size - pos));
    if (where.found) {
      if (where.truncated && !final) return kNeedMore;
      return MalformedRest(base + pos + where.offset, where.message);
    }
    ParseDocument(data + pos, where.end, capacity - pos, base + pos);
    return pos + where.end;
  }

  // A top-level document: a record on its line (NDJSON), concatenated records ("}{"), a
  // Records wrapper, a whole array, or a pretty-printed document over several lines.
  size_t TopLevelDocument(const char* data, size_t size, size_t capacity, uint64_t base, size_t pos,
                          bool final) {
    char c = data[pos];
    const char* newline = static_cast<const char*>(std::memchr(data + pos, '\n', size - pos));
    size_t line_end = newline ? static_cast<size_t>(newline - data) : size;
    if (!newline && !final) return kNeedMore;
    if (c != '{' && c != '[') {
      if (report_.records == 0) {
        // Not JSON from the start (a CSV, a text file in a log folder): one problem for
        // the whole object, not one per line.
        return MalformedRest(
            base + pos,
            std::string("not JSON log data: expected '{' or '[', found ") + Printable(c));
      }
      MalformedDocument(base + pos, std::string("expected '{' or '[', found ") + Printable(c));
      return line_end;  // skip the line
    }
    size_t last = line_end;
    while (last > pos && IsSpace(data[last - 1])) --last;
    char closing = data[last - 1];
    if (closing == '}' || closing == ']') {
      // The common case: one document (or several, concatenated) on this line.
      DocumentParse result = ParseDocument(data + pos, last - pos, capacity - pos, base + pos);
      if (result.status == DocumentParse::Status::kError) return line_end;  // skip the line
      return pos + std::max<size_t>(result.end, 1);
    }
    // A document spanning lines: find its end first so records are never visited twice.
    JsonErrorLocation where = LocateJsonError(std::string_view(data + pos, size - pos));
    if (!where.found) {
      ParseDocument(data + pos, where.end, capacity - pos, base + pos);
      return pos + where.end;
    }
    if (where.truncated && !final) return kNeedMore;
    // Broken: keep the records before the error (simdjson stops at or before it).
    size_t error_at = pos + where.offset;
    document_base_ = base + pos;
    parser_->Parse(data + pos, size - pos, capacity - pos, *this);
    return MalformedRest(base + error_at, where.message);
  }

  // Parses one document; reports and counts it when it is invalid.
  DocumentParse ParseDocument(const char* data, size_t size, size_t capacity, uint64_t base) {
    document_base_ = base;
    DocumentParse result = parser_->Parse(data, size, capacity, *this);
    if (result.status == DocumentParse::Status::kDigest) {
      report_.digest = true;
      report_.skipped.Add(SkipReason::kDigest);
      stop_ = true;
    } else if (result.status == DocumentParse::Status::kError) {
      JsonErrorLocation where = LocateJsonError(std::string_view(data, size));
      // Concatenated documents: the error may be in a later one.
      size_t start = 0;
      while (!where.found && where.end > 0 && start + where.end < size) {
        start += where.end;
        while (start < size && IsSpace(data[start])) ++start;
        if (start >= size) break;
        where = LocateJsonError(std::string_view(data + start, size - start));
      }
      if (where.found) {
        MalformedDocument(base + start + where.offset, where.message);
      } else {
        MalformedDocument(base, std::string(result.error));
      }
    }
    return result;
  }

  size_t MalformedRest(uint64_t offset, const std::string& what) {
    MalformedDocument(offset, what);
    stop_ = true;
    return kStopped;
  }

  static std::string Printable(char c) {
    if (c >= 0x20 && c < 0x7f) return std::string("'") + c + "'";
    return "a non-text byte";
  }

  const LogReaderOptions options_;
  std::unique_ptr<JsonDocumentParser> parser_;
  const bool need_time_;
  std::string name_;
  EventSink* sink_ = nullptr;
  BadRecordReporter* bad_records_ = nullptr;
  FileReport report_;
  PaddedBuffer stored_;  // the object as stored
  PaddedBuffer json_;    // decompressed JSON
  std::string scratch_;
  EventFields event_fields_;  // the record being handed to the sink (want_event_fields)
  char time_text_[40];        // WAF's timestamp rendered for EventFields::event_time
  uint64_t document_base_ = 0;
  Container container_ = Container::kUnknown;
  bool stop_ = false;
};

LogFileReader::LogFileReader(const LogReaderOptions& options)
    : impl_(std::make_unique<Impl>(options)) {}
LogFileReader::~LogFileReader() = default;

FileReport LogFileReader::Read(Storage& storage, const ObjectInfo& object, EventSink& sink,
                               BadRecordReporter* bad_records, const ReadProgress& progress) {
  return impl_->Read(storage, object, sink, bad_records, progress);
}

FileReport LogFileReader::ReadBytes(std::string_view name, std::string_view bytes, EventSink& sink,
                                    BadRecordReporter* bad_records) {
  return impl_->ReadBytes(name, bytes, sink, bad_records);
}

const char* LogFileReader::json_kernel() const { return impl_->json_kernel(); }

}  // namespace ipinsights
