#include "ipinsights/pairs/entity.h"

#include "ipinsights/base/error.h"

namespace ipinsights {

EntitySpec DefaultEntitySpec(LogKind kind) {
  if (kind == LogKind::kWaf) return {EntityKind::kUserAgent, "user-agent"};
  return {EntityKind::kPrincipalId, ""};
}

EntitySpec ParseEntitySpec(LogKind kind, std::string_view text) {
  if (kind == LogKind::kCloudTrail) {
    if (text == "principalId") return {EntityKind::kPrincipalId, ""};
    if (text == "arn") return {EntityKind::kArn, ""};
    if (text == "accessKeyId") return {EntityKind::kAccessKeyId, ""};
    if (text == "userName") return {EntityKind::kUserName, ""};
    if (text == "session") return {EntityKind::kSession, ""};
    throw UsageError("--entity \"" + std::string(text) +
                     "\": CloudTrail entities are principalId, arn, accessKeyId, userName, "
                     "session");
  }
  if (text == "user-agent") return {EntityKind::kUserAgent, "user-agent"};
  constexpr std::string_view kHeaderPrefix = "header:";
  if (text.substr(0, kHeaderPrefix.size()) == kHeaderPrefix && text.size() > kHeaderPrefix.size()) {
    std::string name(text.substr(kHeaderPrefix.size()));
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return {EntityKind::kHeader, name};
  }
  throw UsageError("--entity \"" + std::string(text) +
                   "\": WAF entities are user-agent and header:NAME");
}

std::string_view SelectCloudTrailEntity(const CloudTrailIdentity& identity, EntityKind kind) {
  switch (kind) {
    case EntityKind::kPrincipalId:
      return identity.principal_id;
    case EntityKind::kArn:
    case EntityKind::kSession:
      // AssumedRole ARNs already are role + session; other identities are their own session.
      return identity.arn;
    case EntityKind::kAccessKeyId:
      return identity.access_key_id;
    case EntityKind::kUserName:
      return identity.user_name.empty() ? identity.issuer_user_name : identity.user_name;
    case EntityKind::kUserAgent:
    case EntityKind::kHeader:
      break;
  }
  return {};
}

bool HeaderNameEquals(std::string_view name, std::string_view lower_name) {
  if (name.size() != lower_name.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower_name[i]) return false;
  }
  return true;
}

std::string_view WafEntityFromHeaderValue(std::string_view value, EntityKind kind,
                                          std::string* scratch) {
  if (kind != EntityKind::kUserAgent) return value;
  // One branch-free pass: every byte is written, the cursor only advances past kept ones
  // (user agents are full of dots, so a search-then-copy would scan twice).
  scratch->resize(value.size());
  char* out = scratch->data();
  size_t kept = 0;
  for (char c : value) {
    out[kept] = c;
    kept += static_cast<size_t>(c != '.') & static_cast<size_t>(c != ',');
  }
  scratch->resize(kept);
  return *scratch;
}

}  // namespace ipinsights
