// Suppressions: rules that silence findings a team has already judged (a VPN egress, a
// scanner's user agent), from a YAML file (docs/formats/suppressions.md):
//
//   - entity: "AROA*:i-0*"        # glob: * and ?; optional
//     cidr: 198.51.100.0/24       # optional
//     asn: 16509                  # optional (needs --asn-db to match)
//     expires: 2027-01-31         # optional, UTC date; the rule stops matching after it
//     reason: corporate VPN egress  # required
//     owner: secops@example.com     # required
//
// A rule matches a finding when every condition it names matches. Matching findings are
// counted per rule and listed in the summary, never dropped silently. An expired rule is
// reported (once per run) and matches nothing. Errors name file:line:column.
//
// Thread-safety: immutable after Read.
//
//   SuppressionList rules = SuppressionList::Read("suppress.yaml", today);
//   SuppressionResult result = rules.Apply(std::move(findings));
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/detect/finding.h"

namespace ipinsights {

struct SuppressionRule {
  std::string where;           // "suppress.yaml:3:3", for messages
  std::string entity_pattern;  // "" = any
  std::optional<IpAddress> cidr_base;
  uint8_t cidr_prefix_length = 0;
  std::optional<uint32_t> asn;
  std::optional<Date> expires;
  std::string reason;
  std::string owner;
  bool expired = false;  // expires is before the run's date
};

struct RuleCount {
  const SuppressionRule* rule = nullptr;
  uint64_t findings = 0;
};

struct SuppressionResult {
  std::vector<Finding> kept;
  uint64_t suppressed = 0;
  std::vector<RuleCount> by_rule;    // every rule, in file order, with its count
  std::vector<std::string> expired;  // "suppress.yaml:9:3: rule expired 2026-11-30 (owner, reason)"
};

class SuppressionList {
 public:
  SuppressionList() = default;
  // Reads a local or s3:// file; `today` decides which rules have expired. Throws
  // UsageError naming file:line:column for a bad rule.
  static SuppressionList Read(const std::string& location, Date today);
  static SuppressionList Parse(std::string_view yaml, const std::string& name, Date today);

  const std::vector<SuppressionRule>& rules() const { return rules_; }
  // The first live rule matching `finding`, or nullptr.
  const SuppressionRule* Match(const Finding& finding) const;
  SuppressionResult Apply(std::vector<Finding> findings) const;
  // One finding at a time (a stream of them): NewResult lists every rule with no finding and
  // the expired ones; Suppress counts `finding` in `result` when a live rule matches it and
  // then returns true (`result->kept` is left alone).
  SuppressionResult NewResult() const;
  bool Suppress(const Finding& finding, SuppressionResult* result) const;

 private:
  std::vector<SuppressionRule> rules_;
};

// Glob match with * and ? (no character classes).
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace ipinsights
