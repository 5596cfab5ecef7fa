// LogFileReader: reads one CloudTrail or WAF log object and turns its records into
// (entity, IP) events, counting every record that yields none under a SkipReason.
//
// Input handling, per object:
//   - gzip is detected by the magic bytes 1f 8b, never by name; multi-member files work.
//     Objects that fit the memory budget are read whole and decompressed with libdeflate;
//     bigger ones (and stdin, and corrupt gzip, to keep what decodes) are streamed through
//     zlib in chunks so memory stays bounded whatever the object size;
//   - a UTF-8 byte order mark and CRLF line ends are accepted;
//   - containers, detected per object: {"Records":[...]}, a JSON array of records,
//     newline-delimited records, objects concatenated with no separator ("}{"), and
//     pretty-printed (multi-line) documents;
//   - CloudTrail digest objects (key contains "CloudTrail-Digest", or a digest document)
//     are skipped and reported as such.
// A gzip member whose CRC32 / ISIZE check fails sets FileReport::corrupt_gzip (the caller
// decides whether to keep its pairs: ScanLogs drops them unless keep_corrupt); a truncated
// member keeps what decoded. An implausible compression ratio adds a warning (the location
// escaped with QuoteForMessage when it holds non-printable bytes).
// Bad input never throws: each malformed record, rest of object or gzip stream is counted as
// skip reason `malformed` and reported once to the caller's BadRecordReporter
// (base/bad_record.h) as BadRecord::AtByte(location, offset, "malformed JSON (<what>)"),
// formatted "<location>: byte <offset>: malformed JSON (<what>)" with the offset in the
// decompressed JSON, or BadRecord::Whole(location, <gzip error or cap>). Newline-delimited files
// lose only the bad line; in a single document (a Records file, an array) the records before the
// error are kept and the rest of the object is skipped. Only I/O failures (cannot open/read) throw.
//
// Classification of a record, in this order: aws_service (CloudTrail
// userIdentity.type == "AWSService"), out_of_range (its own event time outside the window;
// a record without a readable time is kept), not_an_ip (IpAddress::Parse, strict), ipv6
// (with ipv4_only), no_entity (see pairs/entity.h). The invariant per object:
// records == pairs + skipped (all reasons but digest), and skipped malformed == records
// reported to the BadRecordReporter.
//
// Thread-safety: one LogFileReader per thread; it reuses its buffers and parser across
// objects, so per-record work allocates nothing.
//
//   LogFileReader reader(options);
//   BadRecordLog bad_records;
//   FileReport report = reader.Read(storage, object, sink, &bad_records);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/base/bad_record.h"
#include "ipinsights/logs/skip_reason.h"
#include "ipinsights/pairs/entity.h"
#include "ipinsights/pairs/ip_address.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {

struct LogReaderOptions {
  LogKind kind = LogKind::kCloudTrail;
  EntitySpec entity = DefaultEntitySpec(LogKind::kCloudTrail);
  bool ipv4_only = false;
  // Keep only events with from_seconds <= time < to_seconds (Unix seconds), when set.
  std::optional<int64_t> from_seconds;
  std::optional<int64_t> to_seconds;
  // Parse every record's event time for LogEvent::time (needed by --split-at).
  bool want_event_time = false;
  // Fill LogEvent::fields (score over logs). Off for prepare: it costs parsing time.
  bool want_event_fields = false;
  // Decompressed bytes one object may occupy in memory; larger objects are streamed.
  size_t memory_budget = size_t{96} << 20;
  // Objects larger than this as stored are always streamed.
  size_t stream_above_stored = size_t{256} << 20;
  // Streaming: one record (or one line) larger than this is reported as malformed.
  size_t max_record_bytes = size_t{64} << 20;
  // Streaming chunk size (decompressed bytes read at a time).
  size_t stream_chunk = size_t{4} << 20;
  // Gzip objects: stop after this many decompressed bytes (0: no cap), reporting the rest
  // of the object as one malformed record. Bounds the time a decompression bomb costs.
  uint64_t max_decompressed_bytes = 0;
};

// A gzip object that decompresses to at least kBombWarnMinBytes and more than
// kBombWarnRatio times its stored size gets a warning: real logs compress 10-50:1.
inline constexpr uint64_t kBombWarnRatio = 200;
inline constexpr uint64_t kBombWarnMinBytes = uint64_t{16} << 20;

// The record's own fields that a scored event and a finding show (PRODUCT.md `score`).
// Views into the reader's buffers, valid during EventSink::Add() only; empty when the record
// lacks the field (or the field is not a string).
struct EventFields {
  std::string_view object;    // the object's location, as listed (s3://b/k or a path)
  uint64_t record_index = 0;  // 0-based index of the record in its object, every record
                              // counted (skipped and malformed ones too: as in
                              // FileReport::records, a malformed line is one record, and so
                              // is the malformed rest of a document)
  // The record's time as written: CloudTrail eventTime; WAF timestamp (ms since the epoch)
  // rendered by the reader as "2024-03-20T10:30:00.123Z" (a text timestamp as written).
  std::string_view event_time;
  // CloudTrail.
  std::string_view event_name;            // eventName
  std::string_view event_source;          // eventSource
  std::string_view aws_region;            // awsRegion
  std::string_view recipient_account_id;  // recipientAccountId
  std::string_view event_id;              // eventID
  std::string_view user_agent;            // userAgent (WAF: the User-Agent header)
  std::string_view identity_type;         // userIdentity.type
  std::string_view access_key_id;         // userIdentity.accessKeyId (AKIA... / ASIA...)
  std::string_view principal_id;          // userIdentity.principalId
  std::string_view arn;                   // userIdentity.arn
  // WAF.
  std::string_view uri;          // httpRequest.uri
  std::string_view http_method;  // httpRequest.httpMethod
  std::string_view action;       // action (ALLOW, BLOCK, COUNT, CAPTCHA, CHALLENGE)
  std::string_view request_id;   // httpRequest.requestId
  std::string_view country;      // httpRequest.country
  std::string_view web_acl_id;   // webaclId
};

// One (entity, IP) event. The entity views the reader's buffers: valid during Add() only.
struct LogEvent {
  std::string_view entity;
  IpAddress ip;
  bool has_time = false;
  int64_t time = 0;  // Unix seconds, when has_time
  // With LogReaderOptions::want_event_fields (which implies want_event_time), the record's
  // fields; nullptr otherwise.
  const EventFields* fields = nullptr;
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void Add(const LogEvent& event) = 0;
};

struct FileReport {
  uint64_t stored_bytes = 0;  // bytes read from storage (compressed size for gzip)
  uint64_t json_bytes = 0;    // decompressed JSON bytes
  uint64_t records = 0;       // records seen (pairs + skipped records)
  uint64_t pairs = 0;         // events handed to the sink
  SkipCounts skipped;
  bool digest = false;
  // A gzip member failed its check (GzipStreamReader::corrupt()): the pairs handed to the
  // sink came, in part, from unverified bytes. The reporter got the message (a Whole record
  // whose reason starts "corrupt gzip data").
  bool corrupt_gzip = false;
  std::vector<std::string> warnings;  // not errors: an implausible compression ratio
};

// Advances by stored bytes as they are read. Called on the reading thread.
using ReadProgress = std::function<void(uint64_t stored_bytes)>;

class LogFileReader {
 public:
  explicit LogFileReader(const LogReaderOptions& options);
  ~LogFileReader();
  LogFileReader(const LogFileReader&) = delete;
  LogFileReader& operator=(const LogFileReader&) = delete;

  // Reads `object` from `storage`. Malformed input goes to `bad_records` (nullptr: only
  // counted); `progress` (optional) advances by stored bytes. Throws Error only when the
  // object cannot be opened or read, or when `bad_records` throws (a strict reporter): the
  // reader is then ready for the next object.
  FileReport Read(Storage& storage, const ObjectInfo& object, EventSink& sink,
                  BadRecordReporter* bad_records = nullptr, const ReadProgress& progress = {});

  // Reads an object's bytes already in memory (gzip'd or not); `name` is used in messages.
  FileReport ReadBytes(std::string_view name, std::string_view bytes, EventSink& sink,
                       BadRecordReporter* bad_records = nullptr);

  // Which simdjson kernel parses ("haswell" or "fallback").
  const char* json_kernel() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipinsights
