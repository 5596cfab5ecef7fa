#include "ipinsights/detect/suppression.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <set>

#include "ipinsights/base/error.h"
#include "ipinsights/base/strings.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

const std::set<std::string> kRuleKeys = {"entity", "cidr", "asn", "expires", "reason", "owner"};

// Every message names the file and the node's position (yaml-cpp counts from 0).
class RuleReader {
 public:
  explicit RuleReader(std::string name) : name_(std::move(name)) {}

  std::string Where(const YAML::Node& node) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) return name_;
    return fmt::format("{}:{}:{}", name_, mark.line + 1, mark.column + 1);
  }

  [[noreturn]] void Fail(const YAML::Node& node, const std::string& message) const {
    throw UsageError(Where(node) + ": " + message);
  }

  void CheckKeys(const YAML::Node& map) const {
    std::set<std::string> seen;
    for (const auto& entry : map) {
      if (!entry.first.IsScalar()) Fail(entry.first, "a key must be a plain name");
      const std::string key = entry.first.Scalar();
      // YAML forbids duplicate keys, but yaml-cpp keeps the first silently.
      if (!seen.insert(key).second) {
        Fail(entry.first, fmt::format("{} appears twice in one rule", QuoteForMessage(key)));
      }
      if (kRuleKeys.count(key) == 0) {
        Fail(entry.first,
             fmt::format("unknown key {} in a suppression rule; known: asn, cidr, entity, "
                         "expires, owner, reason",
                         QuoteForMessage(key)));
      }
    }
  }

  std::string Text(const YAML::Node& node, const std::string& what) const {
    if (!node.IsScalar()) Fail(node, what + " must be a single value");
    return node.Scalar();
  }

 private:
  std::string name_;
};

// "198.51.100.0/24", "2001:db8::/32", or a bare address (a /32 or /128).
void ParseCidr(const RuleReader& reader, const YAML::Node& node, SuppressionRule* rule) {
  const std::string text = reader.Text(node, "cidr");
  const size_t slash = text.find('/');
  const std::string address_text = text.substr(0, slash);
  std::optional<IpAddress> base = IpAddress::Parse(address_text);
  if (!base) {
    reader.Fail(node, fmt::format("cidr {} is not an address/prefix-length (198.51.100.0/24, "
                                  "2001:db8::/32)",
                                  QuoteForMessage(text)));
  }
  const int max_length = base->is_v4() ? 32 : 128;
  int length = max_length;
  if (slash != std::string::npos) {
    const std::string length_text = text.substr(slash + 1);
    auto [end, error] =
        std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
    if (length_text.empty() || error != std::errc() ||
        end != length_text.data() + length_text.size() || length < 0 || length > max_length) {
      reader.Fail(node, fmt::format("cidr {}: the prefix length must be 0..{}",
                                    QuoteForMessage(text), max_length));
    }
  }
  // Host bits set usually means a typo in the prefix length or the address; say which
  // network the rule would cover instead of guessing.
  std::array<uint8_t, 16> bytes = base->bytes();
  const int total = base->is_v4() ? 96 + length : length;
  bool host_bits = false;
  for (int bit = total; bit < 128; ++bit) {
    const uint8_t mask = static_cast<uint8_t>(0x80u >> (bit % 8));
    if (bytes[bit / 8] & mask) {
      host_bits = true;
      bytes[bit / 8] &= static_cast<uint8_t>(~mask);
    }
  }
  if (host_bits) {
    reader.Fail(node,
                fmt::format("cidr {} has host bits set; write {}/{} for the network, or {}/{} "
                            "for the one address",
                            QuoteForMessage(text), IpAddress::FromBytes(bytes).ToString(), length,
                            address_text, max_length));
  }
  rule->cidr_base = *base;
  rule->cidr_prefix_length = static_cast<uint8_t>(length);
}

uint32_t ParseAsn(const RuleReader& reader, const YAML::Node& node) {
  const std::string text = reader.Text(node, "asn");
  std::string_view digits = text;
  if (digits.size() > 2 && (digits.substr(0, 2) == "AS" || digits.substr(0, 2) == "as")) {
    digits.remove_prefix(2);
  }
  uint64_t value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
      value == 0 || value > 4294967295ULL) {
    reader.Fail(node, fmt::format("asn {} is not an AS number (1..4294967295, e.g. 16509 or "
                                  "AS16509)",
                                  QuoteForMessage(text)));
  }
  return static_cast<uint32_t>(value);
}

bool InCidr(const SuppressionRule& rule, const IpAddress& ip) {
  const IpAddress& base = *rule.cidr_base;
  if (base.is_v4() != ip.is_v4()) return false;
  const int total = base.is_v4() ? 96 + rule.cidr_prefix_length : rule.cidr_prefix_length;
  const auto& a = base.bytes();
  const auto& b = ip.bytes();
  int bit = 0;
  for (; bit + 8 <= total; bit += 8) {
    if (a[bit / 8] != b[bit / 8]) return false;
  }
  if (bit < total) {
    const uint8_t mask = static_cast<uint8_t>(0xFFu << (8 - (total - bit)));
    if ((a[bit / 8] & mask) != (b[bit / 8] & mask)) return false;
  }
  return true;
}

SuppressionRule ReadRule(const RuleReader& reader, const YAML::Node& item, Date today) {
  if (!item.IsMap()) {
    reader.Fail(item, "every rule is a mapping (entity:, cidr:, asn:, expires:, reason:, owner:)");
  }
  reader.CheckKeys(item);
  SuppressionRule rule;
  rule.where = reader.Where(item);
  if (const YAML::Node node = item["entity"]) {
    rule.entity_pattern = reader.Text(node, "entity");
    if (rule.entity_pattern.empty()) reader.Fail(node, "entity is empty (leave it out for any)");
  }
  if (const YAML::Node node = item["cidr"]) ParseCidr(reader, node, &rule);
  if (const YAML::Node node = item["asn"]) rule.asn = ParseAsn(reader, node);
  if (const YAML::Node node = item["expires"]) {
    const std::string text = reader.Text(node, "expires");
    rule.expires = ParseDate(text);
    if (!rule.expires) {
      reader.Fail(node, fmt::format("expires {} is not a YYYY-MM-DD date", QuoteForMessage(text)));
    }
    // The rule still matches on its expiry day.
    rule.expired = *rule.expires < today;
  }
  for (const char* key : {"reason", "owner"}) {
    const YAML::Node node = item[key];
    if (!node) reader.Fail(item, fmt::format("the rule has no {}: (every rule needs one)", key));
    std::string value(TrimWhitespace(reader.Text(node, key)));
    if (value.empty()) reader.Fail(node, fmt::format("{} is empty", key));
    (std::string_view(key) == "reason" ? rule.reason : rule.owner) = std::move(value);
  }
  if (rule.entity_pattern.empty() && !rule.cidr_base && !rule.asn) {
    reader.Fail(item,
                "the rule names no condition (entity, cidr or asn) and would silence "
                "every finding");
  }
  return rule;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Iterative matching with one backtrack point: the last '*' seen and where the text
  // stood then (linear for patterns with one star, never exponential).
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

SuppressionList SuppressionList::Parse(std::string_view yaml, const std::string& name, Date today) {
  RuleReader reader(name);
  SuppressionList list;
  try {
    std::vector<YAML::Node> documents = YAML::LoadAll(std::string(yaml));
    if (documents.size() > 1) {
      throw UsageError(fmt::format("{}: {} YAML documents (---); a suppression file is one list",
                                   name, documents.size()));
    }
    if (documents.empty() || documents.front().IsNull()) return list;
    const YAML::Node& root = documents.front();
    if (!root.IsSequence()) {
      reader.Fail(root, "a suppression file is a list of rules (lines starting with \"- \")");
    }
    for (const YAML::Node& item : root) list.rules_.push_back(ReadRule(reader, item, today));
  } catch (const YAML::Exception& error) {
    // An unquoted glob starting with '*' reads as a YAML alias: say how to write it.
    const bool alias = error.msg.find("anchor") != std::string::npos;
    throw UsageError(fmt::format("{}:{}:{}: not valid YAML: {}{}", name, error.mark.line + 1,
                                 error.mark.column + 1, error.msg,
                                 alias ? " (quote an entity pattern that starts with *: "
                                         "entity: \"*:i-0*\")"
                                       : ""));
  }
  return list;
}

SuppressionList SuppressionList::Read(const std::string& location, Date today) {
  return Parse(ReadWholeObject(location), location, today);
}

const SuppressionRule* SuppressionList::Match(const Finding& finding) const {
  for (const SuppressionRule& rule : rules_) {
    if (rule.expired) continue;
    if (!rule.entity_pattern.empty() && !GlobMatch(rule.entity_pattern, finding.entity)) continue;
    if (rule.cidr_base && !InCidr(rule, finding.ip)) continue;
    // ASN 0 is "unknown" (no --asn-db): it never matches a rule's ASN.
    if (rule.asn && (finding.network.asn == 0 || finding.network.asn != *rule.asn)) continue;
    return &rule;
  }
  return nullptr;
}

SuppressionResult SuppressionList::NewResult() const {
  SuppressionResult result;
  for (const SuppressionRule& rule : rules_) {
    result.by_rule.push_back({&rule, 0});
    if (rule.expired) {
      result.expired.push_back(fmt::format("{}: rule expired {} ({}, {})", rule.where,
                                           FormatDate(*rule.expires), rule.owner, rule.reason));
    }
  }
  return result;
}

bool SuppressionList::Suppress(const Finding& finding, SuppressionResult* result) const {
  const SuppressionRule* rule = Match(finding);
  if (rule == nullptr) return false;
  ++result->suppressed;
  ++result->by_rule[static_cast<size_t>(rule - rules_.data())].findings;
  return true;
}

SuppressionResult SuppressionList::Apply(std::vector<Finding> findings) const {
  SuppressionResult result = NewResult();
  for (Finding& finding : findings) {
    if (!Suppress(finding, &result)) result.kept.push_back(std::move(finding));
  }
  return result;
}

}  // namespace ipinsights
