// JsonDocumentParser: the simdjson On-Demand layer of the log readers. It walks one JSON
// document (a CloudTrail or WAF record, a {"Records":[...]} wrapper, a CloudTrail digest, or
// an array of records) and hands the few fields each record needs to a RecordVisitor,
// without building a tree and without allocating per record.
//
// simdjson types stay in the .cc files: the same walker (json_document_parser_impl.inc) is
// compiled once for AVX2 machines (haswell kernel, in a target region) and once for the
// portable fallback; NewJsonDocumentParser() picks one at run time.
//
// Thread-safety: a parser is used by one thread at a time (one per worker); the views it
// passes to the visitor are valid only during the visitor call.
//
//   auto parser = NewJsonDocumentParser(LogKind::kCloudTrail, DefaultEntitySpec(kind));
//   DocumentParse result = parser->Parse(data, size, capacity, visitor);
//   if (result.status == DocumentParse::Status::kError) { ... LocateJsonError(...) ... }
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "ipinsights/pairs/entity.h"

namespace ipinsights {

// Bytes that must be readable after the end of any text given to Parse (SIMDJSON_PADDING).
inline constexpr size_t kJsonPadding = 64;

// The record's own fields a scored event shows (LogReaderOptions::want_event_fields), parsed
// only by a parser made with want_fields; empty when missing or not a string.
struct CloudTrailEventFields {
  std::string_view event_name;            // eventName
  std::string_view event_source;          // eventSource
  std::string_view aws_region;            // awsRegion
  std::string_view recipient_account_id;  // recipientAccountId
  std::string_view event_id;              // eventID
  std::string_view user_agent;            // userAgent
};

struct WafEventFields {
  std::string_view uri;          // httpRequest.uri
  std::string_view http_method;  // httpRequest.httpMethod
  std::string_view request_id;   // httpRequest.requestId
  std::string_view country;      // httpRequest.country
  std::string_view user_agent;   // the first header named User-Agent (any case)
  std::string_view action;       // action
  std::string_view web_acl_id;   // webaclId
};

struct CloudTrailRecordFields {
  bool has_user_identity = false;
  CloudTrailIdentity identity;
  std::string_view event_time;  // empty when missing
  bool has_source_ip = false;   // false when missing or not a string
  std::string_view source_ip;
};

struct WafRecordFields {
  bool has_client_ip = false;
  std::string_view client_ip;
  bool has_header = false;  // the header the entity comes from was found
  std::string_view header_value;
  bool has_timestamp_ms = false;  // "timestamp": <ms since epoch>
  int64_t timestamp_ms = 0;
  std::string_view timestamp_text;  // "timestamp": "2024-03-20T10:30:00.000Z" (some exports)
};

class RecordVisitor {
 public:
  virtual ~RecordVisitor() = default;
  virtual void OnCloudTrailRecord(const CloudTrailRecordFields& fields) = 0;
  virtual void OnWafRecord(const WafRecordFields& fields) = 0;
  // A want_fields parser calls these instead, with the record's own fields (by default they
  // drop them). Separate calls keep prepare's records exactly as they were.
  virtual void OnCloudTrailRecordWithFields(const CloudTrailRecordFields& fields,
                                            const CloudTrailEventFields& event) {
    OnCloudTrailRecord(fields);
  }
  virtual void OnWafRecordWithFields(const WafRecordFields& fields, const WafEventFields& event) {
    OnWafRecord(fields);
  }
  // An element of a record list that is valid JSON but not an object; `offset` is its
  // position in the text given to Parse.
  virtual void OnNonObjectRecord(size_t offset) = 0;
};

struct DocumentParse {
  enum class Status {
    kOk,      // records (if any) visited
    kDigest,  // a CloudTrail digest document: nothing visited
    kError,   // not valid JSON (records before the error may have been visited)
  };
  Status status = Status::kOk;
  // Offset just after the document when more non-space text follows it in the given text
  // (concatenated documents, "}{"), else the size of the text.
  size_t end = 0;
  std::string_view error;  // simdjson's message, for kError
};

class JsonDocumentParser {
 public:
  virtual ~JsonDocumentParser() = default;

  // Parses the first JSON document in [data, data + size). Bytes up to data + capacity
  // must be readable, with capacity >= size + kJsonPadding.
  virtual DocumentParse Parse(const char* data, size_t size, size_t capacity,
                              RecordVisitor& visitor) = 0;

  // "haswell" or "fallback".
  virtual const char* implementation() const = 0;
};

// The fastest implementation this CPU runs. With `want_fields` each record goes to
// On*RecordWithFields with its CloudTrailEventFields / WafEventFields; without, the walk is
// the one `prepare` runs, with no extra key compared (the two are separate template
// instances: callgrind counts the same instructions in prepare's walk as before the fields).
std::unique_ptr<JsonDocumentParser> NewJsonDocumentParser(LogKind kind, const EntitySpec& entity,
                                                          bool want_fields = false);

// For the implementation files only.
std::unique_ptr<JsonDocumentParser> NewHaswellJsonDocumentParser(LogKind kind,
                                                                 const EntitySpec& entity,
                                                                 bool want_fields);
std::unique_ptr<JsonDocumentParser> NewFallbackJsonDocumentParser(LogKind kind,
                                                                  const EntitySpec& entity,
                                                                  bool want_fields);

}  // namespace ipinsights
