// Entities: which identity of a log record becomes the "entity" of an (entity, IP) pair.
//
// CloudTrail (`--entity`):
//   principalId (default, as the original)  userIdentity.principalId
//   arn                                      userIdentity.arn
//   accessKeyId                              userIdentity.accessKeyId
//   userName                                 userIdentity.userName; for role sessions (which
//                                            have none) sessionContext.sessionIssuer.userName,
//                                            i.e. the role's name
//   session                                  userIdentity.arn: for AssumedRole that is
//                                            "arn:aws:sts::<acct>:assumed-role/<Role>/<session>"
//                                            (role plus session name); FederatedUser's
//                                            "federated-user/<name>"; other types have no
//                                            session and use their own ARN
// An empty or missing field means the record has no such entity (skip reason no_entity).
//
// WAF (`--entity`):
//   user-agent (default)  the User-Agent header, name matched ASCII case-insensitively (HTTP/2
//                         clients send "user-agent"), value with every '.' and ',' removed as
//                         the original did, so its inference clients keep matching
//   header:NAME           the value of header NAME (case-insensitive), unchanged
//
// Thread-safety: pure functions and value types.
//
//   EntitySpec spec = ParseEntitySpec(LogKind::kWaf, "header:X-Api-Key");
//   std::string_view entity = SelectCloudTrailEntity(identity, spec.kind);
#pragma once

#include <string>
#include <string_view>

namespace ipinsights {

enum class LogKind { kCloudTrail, kWaf };

enum class EntityKind {
  kPrincipalId,
  kArn,
  kAccessKeyId,
  kUserName,
  kSession,
  kUserAgent,
  kHeader,
};

struct EntitySpec {
  EntityKind kind = EntityKind::kPrincipalId;
  // For kUserAgent and kHeader: the header name, lower case ("user-agent").
  std::string header_name;
};

// The default entity of each log kind (principalId, user-agent).
EntitySpec DefaultEntitySpec(LogKind kind);

// Parses an --entity value for `kind`; throws UsageError naming the accepted values.
EntitySpec ParseEntitySpec(LogKind kind, std::string_view text);

// The userIdentity fields of a CloudTrail record that entities are chosen from. Views into
// the parser's buffers; empty when absent.
struct CloudTrailIdentity {
  std::string_view type;  // "IAMUser", "AssumedRole", ... (empty when missing)
  std::string_view principal_id;
  std::string_view arn;
  std::string_view access_key_id;
  std::string_view user_name;         // userIdentity.userName
  std::string_view issuer_user_name;  // userIdentity.sessionContext.sessionIssuer.userName
};

// The entity of `identity` for `kind` (a CloudTrail kind); empty when it has none.
std::string_view SelectCloudTrailEntity(const CloudTrailIdentity& identity, EntityKind kind);

// True when `name` equals `lower_name` ignoring ASCII case (`lower_name` is lower case).
bool HeaderNameEquals(std::string_view name, std::string_view lower_name);

// The WAF entity from the raw header value: for kUserAgent the value without '.' and ','
// (written to *scratch, which the result then views), for kHeader the value itself.
std::string_view WafEntityFromHeaderValue(std::string_view value, EntityKind kind,
                                          std::string* scratch);

}  // namespace ipinsights
