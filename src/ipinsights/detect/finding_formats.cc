#include "ipinsights/detect/finding_formats.h"

#include <fmt/format.h>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/base/strings.h"

namespace ipinsights {
namespace {

// Security Hub's limits (ASFF syntax reference); a finding over any of them is refused.
constexpr size_t kTitleChars = 256;
constexpr size_t kDescriptionChars = 1024;
constexpr size_t kIdChars = 512;
constexpr size_t kProductFieldValueChars = 2048;
constexpr size_t kMaxProductFields = 50;

std::string_view KindName(LogKind kind) { return kind == LogKind::kWaf ? "waf" : "cloudtrail"; }

// `text` cut to at most `max_chars` characters, ending in "…" when cut (never inside a
// UTF-8 sequence).
std::string FitChars(std::string_view text, size_t max_chars) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t chars = 0;
  size_t cut = 0;  // byte offset after max_chars - 1 characters
  for (size_t i = 0; i < text.size();) {
    size_t length = s[i] < 0x80 ? 1 : ValidUtf8Length(s + i, text.size() - i);
    if (length == 0) length = 1;
    ++chars;
    if (chars == max_chars) cut = i;
    if (chars > max_chars) return std::string(text.substr(0, cut)) + "\xe2\x80\xa6";
    i += length;
  }
  return std::string(text);
}

std::string Iso(int64_t seconds) { return FormatTimestamp(seconds); }

void AppendField(std::string* out, std::string_view name, std::string_view value) {
  if (out->back() != '{') out->push_back(',');
  AppendJsonString(out, name);
  out->push_back(':');
  AppendJsonString(out, value);
}

void AppendRaw(std::string* out, std::string_view name, std::string_view json) {
  if (out->back() != '{') out->push_back(',');
  AppendJsonString(out, name);
  out->push_back(':');
  out->append(json);
}

std::string JsonStringArray(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(&out, values[i]);
  }
  out.push_back(']');
  return out;
}

// Facts are JSON objects built by `score`; anything else is written as an empty object
// rather than breaking the line.
std::string_view FactsJson(const std::string& facts) {
  std::string_view text = TrimWhitespace(facts);
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return "{}";
  return text;
}

std::string ReasonsJson(const std::vector<Reason>& reasons) {
  std::string out = "[";
  for (size_t i = 0; i < reasons.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += "{";
    AppendField(&out, "code", reasons[i].code);
    AppendField(&out, "message", reasons[i].message);
    AppendRaw(&out, "facts", FactsJson(reasons[i].facts));
    out += "}";
  }
  out.push_back(']');
  return out;
}

bool NetworkKnown(const NetworkInfo& network) {
  return network.asn != 0 || !network.as_org.empty() || !network.country.empty() || network.in_aws;
}

bool HasReason(const Finding& finding, std::string_view code) {
  for (const Reason& reason : finding.reasons) {
    if (reason.code == code) return true;
  }
  return false;
}

bool IsInstanceCredentials(const Finding& finding) {
  return HasReason(finding, "instance_credentials_outside_instance");
}

std::string ReasonCodes(const Finding& finding) {
  std::string codes;
  for (const Reason& reason : finding.reasons) {
    codes += (codes.empty() ? "" : ",") + reason.code;
  }
  return codes;
}

std::string Join(const std::vector<std::string>& values, std::string_view separator) {
  std::string out;
  for (const std::string& value : values) {
    if (!out.empty()) out += separator;
    out += value;
  }
  return out;
}

std::string Title(const Finding& finding) {
  const std::string ip = finding.ip.ToString();
  if (IsInstanceCredentials(finding)) {
    return fmt::format("EC2 instance credentials of {} used from {}, outside the instance",
                       finding.entity, ip);
  }
  if (finding.kind == LogKind::kWaf) {
    return fmt::format("Unusual address {} for web client {}", ip, finding.entity);
  }
  return fmt::format("Unusual address {} for AWS principal {}", ip, finding.entity);
}

// The summary first, then the reasons, then the activities: when the limit cuts, it cuts
// the least important part.
std::string Description(const Finding& finding) {
  std::string text = fmt::format(
      "{} flagged event{} from {} between {} and {}; lowest score {} (a normal pair scores "
      "this low with probability {}).",
      finding.events, finding.events == 1 ? "" : "s", finding.ip.ToString(),
      Iso(finding.first_seen), Iso(finding.last_seen), finding.lowest_score,
      finding.false_positive_rate);
  if (!finding.reasons.empty()) {
    text += " Reasons:";
    for (const Reason& reason : finding.reasons) {
      text += " " + reason.message;
      if (!reason.message.empty() && reason.message.back() != '.') text += ".";
    }
  }
  if (!finding.activities.empty()) {
    text += " Activity: " + Join(finding.activities, ", ") +
            (finding.activities_truncated ? ", ..." : "") + ".";
  }
  return text;
}

std::vector<std::string> AsffTypes(const Finding& finding) {
  std::vector<std::string> types;
  // ASFF types are namespace/category/classifier with AWS's namespaces and categories.
  if (IsInstanceCredentials(finding)) types.push_back("TTPs/Initial Access/Valid Accounts");
  if (finding.kind == LogKind::kWaf) {
    types.push_back("Unusual Behaviors/Application/Unusual IP");
  } else {
    types.push_back("Unusual Behaviors/User/Unusual IP");
  }
  return types;
}

std::string_view PartitionOf(std::string_view region) {
  if (region.rfind("cn-", 0) == 0) return "aws-cn";
  if (region.rfind("us-gov-", 0) == 0) return "aws-us-gov";
  return "aws";
}

std::string_view ResourceType(const Finding& finding) {
  if (finding.kind == LogKind::kWaf) return "Other";
  if (!CredentialTypeOf(finding.entity).empty()) return "AwsIamAccessKey";
  if (finding.identity_type == "AssumedRole") return "AwsIamRole";
  if (finding.identity_type == "IAMUser") return "AwsIamUser";
  return "Other";
}

std::string ProductFieldsJson(const Finding& finding) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"kind", std::string(KindName(finding.kind))},
      {"entity", finding.entity},
      {"ip", finding.ip.ToString()},
      {"window_start", Iso(finding.window_start)},
      {"window_end", Iso(finding.window_end)},
      {"events", std::to_string(finding.events)},
      {"score", fmt::format("{}", finding.lowest_score)},
      {"false_positive_rate", fmt::format("{}", finding.false_positive_rate)},
      {"reasons", ReasonCodes(finding)},
      {"activities", Join(finding.activities, ",")},
      {"activities_truncated", finding.activities_truncated ? "true" : "false"},
      {"sample_event_ids", Join(finding.sample_event_ids, ",")},
      {"identity_type", finding.identity_type},
      {"credential_type", finding.credential_type},
      {"user_agent", finding.user_agent},
      {"account_id", finding.account_id},
      {"asn", finding.network.asn != 0 ? std::to_string(finding.network.asn) : ""},
      {"as_org", finding.network.as_org},
      {"country", finding.network.country},
      {"in_aws", NetworkKnown(finding.network) ? (finding.network.in_aws ? "true" : "false") : ""},
      {"aws_service", finding.network.aws_service},
      {"aws_region", finding.network.aws_region},
      {"origin_object", finding.object},
      {"origin_record_index", finding.object.empty() ? "" : std::to_string(finding.record_index)},
  };
  std::string out = "{";
  size_t written = 0;
  for (const auto& [name, value] : fields) {
    // Security Hub refuses empty or blank values; at most 50 fields.
    if (TrimWhitespace(value).empty() || written == kMaxProductFields) continue;
    AppendField(&out, name, FitChars(value, kProductFieldValueChars));
    ++written;
  }
  out += "}";
  return out;
}

std::string NetworkJson(const NetworkInfo& network) {
  std::string out = "{";
  if (network.asn != 0) AppendRaw(&out, "asn", std::to_string(network.asn));
  if (!network.as_org.empty()) AppendField(&out, "as_org", network.as_org);
  if (!network.country.empty()) AppendField(&out, "country", network.country);
  AppendRaw(&out, "in_aws", network.in_aws ? "true" : "false");
  if (!network.aws_service.empty()) AppendField(&out, "aws_service", network.aws_service);
  if (!network.aws_region.empty()) AppendField(&out, "aws_region", network.aws_region);
  out += "}";
  return out;
}

int OcsfSeverityId(Severity severity) {
  switch (severity) {
    case Severity::kInformational:
      return 1;
    case Severity::kLow:
      return 2;
    case Severity::kMedium:
      return 3;
    case Severity::kHigh:
      return 4;
    case Severity::kCritical:
      return 5;
  }
  return 0;
}

std::string_view OcsfSeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInformational:
      return "Informational";
    case Severity::kLow:
      return "Low";
    case Severity::kMedium:
      return "Medium";
    case Severity::kHigh:
      return "High";
    case Severity::kCritical:
      return "Critical";
  }
  return "Unknown";
}

}  // namespace

FindingFormat ParseFindingFormat(std::string_view text) {
  if (text == "ndjson") return FindingFormat::kNdjson;
  if (text == "asff") return FindingFormat::kAsff;
  if (text == "ocsf") return FindingFormat::kOcsf;
  throw UsageError(
      fmt::format("--format {} is not one of ndjson, asff, ocsf", QuoteForMessage(text)));
}

std::string FindingJson(const Finding& finding) {
  std::string out = "{";
  AppendField(&out, "type", "ipinsights.finding/1");
  AppendField(&out, "id", finding.id);
  AppendField(&out, "kind", KindName(finding.kind));
  AppendField(&out, "entity", finding.entity);
  AppendField(&out, "ip", finding.ip.ToString());
  std::string window = "{";
  AppendField(&window, "start", Iso(finding.window_start));
  AppendField(&window, "end", Iso(finding.window_end));
  window += "}";
  AppendRaw(&out, "window", window);
  AppendField(&out, "first_seen", Iso(finding.first_seen));
  AppendField(&out, "last_seen", Iso(finding.last_seen));
  AppendRaw(&out, "events", std::to_string(finding.events));
  AppendRaw(&out, "sample_event_ids", JsonStringArray(finding.sample_event_ids));
  AppendRaw(&out, "activities", JsonStringArray(finding.activities));
  AppendRaw(&out, "activities_truncated", finding.activities_truncated ? "true" : "false");
  std::string number;
  AppendJsonNumber(&number, finding.lowest_score);
  AppendRaw(&out, "lowest_score", number);
  number.clear();
  AppendJsonNumber(&number, finding.false_positive_rate);
  AppendRaw(&out, "false_positive_rate", number);
  AppendField(&out, "severity", SeverityName(finding.severity));
  AppendRaw(&out, "reasons", ReasonsJson(finding.reasons));
  AppendField(&out, "account_id", finding.account_id);
  AppendField(&out, "region", finding.region);
  AppendField(&out, "identity_type", finding.identity_type);
  AppendField(&out, "credential_type", finding.credential_type);
  AppendField(&out, "user_agent", finding.user_agent);
  if (NetworkKnown(finding.network)) AppendRaw(&out, "network", NetworkJson(finding.network));
  std::string origin = "{";
  AppendField(&origin, "object", finding.object);
  AppendRaw(&origin, "record_index", std::to_string(finding.record_index));
  origin += "}";
  AppendRaw(&out, "origin", origin);
  out += "}";
  return out;
}

std::string AsffFindingJson(const Finding& finding, const AsffContext& context) {
  // Security Hub accepts a default-product finding only from the account it names, so
  // AwsAccountId is the importing account; the account the event happened in (an
  // organisation trail holds many) is in ProductFields' account_id and the resource.
  const std::string& account = context.account_id;
  const std::string& region = finding.region.empty() ? context.region : finding.region;
  std::string out = "{";
  AppendField(&out, "SchemaVersion", "2018-10-08");
  AppendField(&out, "Id", FitChars(finding.id, kIdChars));
  AppendField(
      &out, "ProductArn",
      fmt::format("arn:{}:securityhub:{}:{}:product/{}/default", PartitionOf(context.region),
                  context.region, context.account_id, context.account_id));
  AppendField(&out, "GeneratorId", fmt::format("ipinsights/{}", KindName(finding.kind)));
  AppendField(&out, "AwsAccountId", account);
  AppendRaw(&out, "Types", JsonStringArray(AsffTypes(finding)));
  AppendField(&out, "FirstObservedAt", Iso(finding.first_seen));
  AppendField(&out, "LastObservedAt", Iso(finding.last_seen));
  AppendField(&out, "CreatedAt", Iso(context.now));
  AppendField(&out, "UpdatedAt", Iso(context.now));
  std::string severity = "{";
  AppendField(&severity, "Label", SeverityName(finding.severity));
  AppendField(&severity, "Original", SeverityName(finding.severity));
  severity += "}";
  AppendRaw(&out, "Severity", severity);
  AppendField(&out, "Title", FitChars(Title(finding), kTitleChars));
  AppendField(&out, "Description", FitChars(Description(finding), kDescriptionChars));
  std::string resource = "{";
  AppendField(&resource, "Type", ResourceType(finding));
  AppendField(&resource, "Id",
              FitChars(finding.entity.empty() ? "(none)" : finding.entity, kIdChars));
  AppendField(&resource, "Partition", PartitionOf(region));
  AppendField(&resource, "Region", region);
  resource += "}";
  AppendRaw(&out, "Resources", "[" + resource + "]");
  std::string network = "{";
  AppendField(&network, "Direction", "IN");
  AppendField(&network, finding.ip.is_v4() ? "SourceIpV4" : "SourceIpV6", finding.ip.ToString());
  network += "}";
  AppendRaw(&out, "Network", network);
  AppendRaw(&out, "ProductFields", ProductFieldsJson(finding));
  AppendField(&out, "RecordState", "ACTIVE");
  AppendRaw(&out, "Workflow", "{\"Status\":\"NEW\"}");
  out += "}";
  return out;
}

std::vector<std::string> AsffBatches(const std::vector<Finding>& findings,
                                     const AsffContext& context) {
  std::vector<std::string> batches;
  for (size_t start = 0; start < findings.size(); start += kAsffBatchLimit) {
    const size_t end = std::min(findings.size(), start + kAsffBatchLimit);
    std::string batch = "{\"Findings\":[";
    for (size_t i = start; i < end; ++i) {
      if (i > start) batch.push_back(',');
      batch += AsffFindingJson(findings[i], context);
    }
    batch += "]}";
    batches.push_back(std::move(batch));
  }
  return batches;
}

std::string OcsfFindingJson(const Finding& finding, int64_t now) {
  const int64_t now_ms = now * 1000;
  std::string out = "{";
  AppendRaw(&out, "activity_id", "1");
  AppendField(&out, "activity_name", "Create");
  AppendRaw(&out, "category_uid", "2");
  AppendField(&out, "category_name", "Findings");
  AppendRaw(&out, "class_uid", "2004");
  AppendField(&out, "class_name", "Detection Finding");
  AppendRaw(&out, "type_uid", "200401");
  AppendField(&out, "type_name", "Detection Finding: Create");
  AppendRaw(&out, "severity_id", std::to_string(OcsfSeverityId(finding.severity)));
  AppendField(&out, "severity", OcsfSeverityName(finding.severity));
  AppendRaw(&out, "status_id", "1");
  AppendField(&out, "status", "New");
  AppendRaw(&out, "time", std::to_string(now_ms));
  AppendRaw(&out, "metadata",
            "{\"version\":\"1.1.0\",\"product\":{\"name\":\"ipinsights\",\"vendor_name\":"
            "\"ipinsights\"}}");

  std::string info = "{";
  AppendField(&info, "uid", finding.id);
  AppendField(&info, "title", Title(finding));
  AppendField(&info, "desc", Description(finding));
  AppendRaw(&info, "created_time", std::to_string(now_ms));
  AppendRaw(&info, "first_seen_time", std::to_string(finding.first_seen * 1000));
  AppendRaw(&info, "last_seen_time", std::to_string(finding.last_seen * 1000));
  AppendRaw(&info, "types", JsonStringArray(AsffTypes(finding)));
  AppendRaw(&info, "analytic",
            fmt::format("{{\"name\":\"ipinsights/{}\",\"type_id\":4,\"type\":\"Learning "
                        "(ML/DL)\"}}",
                        KindName(finding.kind)));
  info += "}";
  AppendRaw(&out, "finding_info", info);

  std::string user = "{";
  AppendField(&user, "uid", finding.entity);
  AppendField(&user, "name", finding.entity);
  user += "}";
  const std::string actor = "{\"user\":" + user + "}";
  AppendRaw(&out, "actor", actor);

  std::string endpoint = "{";
  AppendField(&endpoint, "ip", finding.ip.ToString());
  if (!finding.network.country.empty()) {
    std::string location = "{";
    AppendField(&location, "country", finding.network.country);
    location += "}";
    AppendRaw(&endpoint, "location", location);
  }
  if (finding.network.asn != 0) {
    std::string as = "{";
    AppendRaw(&as, "number", std::to_string(finding.network.asn));
    if (!finding.network.as_org.empty()) AppendField(&as, "name", finding.network.as_org);
    as += "}";
    AppendRaw(&endpoint, "autonomous_system", as);
  }
  endpoint += "}";
  AppendRaw(&out, "src_endpoint", endpoint);

  if (finding.kind == LogKind::kCloudTrail) {
    std::string cloud = "{";
    AppendField(&cloud, "provider", "AWS");
    if (!finding.region.empty()) AppendField(&cloud, "region", finding.region);
    if (!finding.account_id.empty()) {
      std::string account = "{";
      AppendField(&account, "uid", finding.account_id);
      account += "}";
      AppendRaw(&cloud, "account", account);
    }
    cloud += "}";
    AppendRaw(&out, "cloud", cloud);
  }

  // The evidence: the pair, and the figures and reasons behind the finding.
  std::string data = "{";
  AppendRaw(&data, "events", std::to_string(finding.events));
  std::string number;
  AppendJsonNumber(&number, finding.lowest_score);
  AppendRaw(&data, "lowest_score", number);
  number.clear();
  AppendJsonNumber(&number, finding.false_positive_rate);
  AppendRaw(&data, "false_positive_rate", number);
  AppendRaw(&data, "sample_event_ids", JsonStringArray(finding.sample_event_ids));
  AppendRaw(&data, "activities", JsonStringArray(finding.activities));
  AppendRaw(&data, "activities_truncated", finding.activities_truncated ? "true" : "false");
  AppendRaw(&data, "reasons", ReasonsJson(finding.reasons));
  data += "}";
  std::string evidence = "{";
  AppendRaw(&evidence, "actor", actor);
  AppendRaw(&evidence, "src_endpoint", endpoint);
  AppendRaw(&evidence, "data", data);
  evidence += "}";
  AppendRaw(&out, "evidences", "[" + evidence + "]");
  out += "}";
  return out;
}

}  // namespace ipinsights
