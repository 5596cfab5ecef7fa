#include "ipinsights/detect/suppression.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "ipinsights/base/error.h"

namespace ipinsights {
namespace {

using ::testing::HasSubstr;

constexpr Date kToday{2026, 12, 7};

std::string ErrorOf(const std::string& yaml) {
  try {
    SuppressionList::Parse(yaml, "s.yaml", kToday);
  } catch (const UsageError& error) {
    return error.what();
  }
  return "(no error)";
}

Finding FindingFor(const std::string& entity, const char* ip, uint32_t asn = 0) {
  Finding finding;
  finding.entity = entity;
  finding.ip = *IpAddress::Parse(ip);
  finding.network.asn = asn;
  return finding;
}

TEST(GlobMatch, StarAndQuestionMark) {
  EXPECT_TRUE(GlobMatch("AROA*:i-0*", "AROAEXAMPLE:i-0abc"));
  EXPECT_FALSE(GlobMatch("AROA*:i-0*", "AROAEXAMPLE:alice"));
  EXPECT_TRUE(GlobMatch("a?c", "abc"));
  EXPECT_FALSE(GlobMatch("a?c", "ac"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("*b*b*", "abxxbyy"));
  EXPECT_FALSE(GlobMatch("*b*b*", "abxx"));
  EXPECT_TRUE(GlobMatch("exact", "exact"));
  EXPECT_FALSE(GlobMatch("exact", "exactly"));
  // Many stars on a long text stay fast (no exponential backtracking).
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*a*a*b", std::string(5000, 'a')));
}

TEST(SuppressionList, ParsesEveryFieldWithItsPosition) {
  SuppressionList list = SuppressionList::Parse(R"(# a comment
- entity: "AROA*:i-0*"
  cidr: 198.51.100.0/24
  asn: AS16509
  expires: 2027-01-31
  reason: corporate VPN egress
  owner: secops@example.com
- cidr: 2001:db8::/32
  reason: lab
  owner: lab@example.com
)",
                                                "s.yaml", kToday);
  ASSERT_EQ(list.rules().size(), 2u);
  const SuppressionRule& rule = list.rules()[0];
  EXPECT_EQ(rule.where, "s.yaml:2:3");
  EXPECT_EQ(rule.entity_pattern, "AROA*:i-0*");
  EXPECT_EQ(rule.cidr_base->ToString(), "198.51.100.0");
  EXPECT_EQ(rule.cidr_prefix_length, 24);
  EXPECT_EQ(*rule.asn, 16509u);
  EXPECT_EQ(*rule.expires, (Date{2027, 1, 31}));
  EXPECT_FALSE(rule.expired);
  EXPECT_EQ(rule.reason, "corporate VPN egress");
  EXPECT_EQ(rule.owner, "secops@example.com");
  EXPECT_EQ(list.rules()[1].where, "s.yaml:8:3");
  EXPECT_EQ(list.rules()[1].cidr_prefix_length, 32);
}

TEST(SuppressionList, EmptyFileHasNoRules) {
  EXPECT_TRUE(SuppressionList::Parse("", "s.yaml", kToday).rules().empty());
  EXPECT_TRUE(SuppressionList::Parse("# nothing yet\n", "s.yaml", kToday).rules().empty());
}

TEST(SuppressionList, UnknownKeyNamesLineAndColumn) {
  EXPECT_THAT(ErrorOf("- cidr: 10.0.0.0/8\n  reason: r\n  owner: o\n  entty: x\n"),
              HasSubstr("s.yaml:4:3: unknown key \"entty\""));
}

TEST(SuppressionList, DuplicateKeyIsAnError) {
  EXPECT_THAT(ErrorOf("- cidr: 10.0.0.0/8\n  reason: r\n  owner: o\n  cidr: 11.0.0.0/8\n"),
              HasSubstr("s.yaml:4:3: \"cidr\" appears twice"));
}

TEST(SuppressionList, HostBitsSetNamesTheFix) {
  EXPECT_THAT(ErrorOf("- cidr: 198.51.100.7/24\n  reason: r\n  owner: o\n"),
              HasSubstr("s.yaml:1:9: cidr \"198.51.100.7/24\" has host bits set; write "
                        "198.51.100.0/24 for the network, or 198.51.100.7/32"));
  EXPECT_THAT(ErrorOf("- cidr: 2001:db8::1/64\n  reason: r\n  owner: o\n"),
              HasSubstr("write 2001:db8::/64"));
}

TEST(SuppressionList, BadCidrIsAnError) {
  EXPECT_THAT(ErrorOf("- cidr: 198.51.100.0/33\n  reason: r\n  owner: o\n"),
              HasSubstr("s.yaml:1:9: cidr \"198.51.100.0/33\": the prefix length must be 0..32"));
  EXPECT_THAT(ErrorOf("- cidr: vpn.example.com/24\n  reason: r\n  owner: o\n"),
              HasSubstr("s.yaml:1:9: cidr \"vpn.example.com/24\" is not an address"));
}

TEST(SuppressionList, BadAsnIsAnError) {
  EXPECT_THAT(ErrorOf("- asn: amazon\n  reason: r\n  owner: o\n"),
              HasSubstr("s.yaml:1:8: asn \"amazon\" is not an AS number"));
  EXPECT_THAT(ErrorOf("- asn: 4294967296\n  reason: r\n  owner: o\n"),
              HasSubstr("is not an AS number"));
}

TEST(SuppressionList, BadDateIsAnError) {
  EXPECT_THAT(ErrorOf("- asn: 1\n  expires: 2026-02-30\n  reason: r\n  owner: o\n"),
              HasSubstr("s.yaml:2:12: expires \"2026-02-30\" is not a YYYY-MM-DD date"));
}

TEST(SuppressionList, MissingReasonOrOwnerIsAnError) {
  EXPECT_THAT(ErrorOf("- asn: 1\n  owner: o\n"),
              HasSubstr("s.yaml:1:3: the rule has no reason: (every rule needs one)"));
  EXPECT_THAT(ErrorOf("- asn: 1\n  reason: r\n"), HasSubstr("s.yaml:1:3: the rule has no owner:"));
  EXPECT_THAT(ErrorOf("- asn: 1\n  reason: r\n  owner: ''\n"), HasSubstr("owner is empty"));
}

TEST(SuppressionList, RuleWithoutConditionIsAnError) {
  EXPECT_THAT(ErrorOf("- reason: r\n  owner: o\n"),
              HasSubstr("s.yaml:1:3: the rule names no condition"));
}

TEST(SuppressionList, NotAListOrNotYamlIsAnError) {
  EXPECT_THAT(ErrorOf("cidr: 10.0.0.0/8\n"), HasSubstr("s.yaml:1:1: a suppression file is a list"));
  EXPECT_THAT(ErrorOf("- cidr: [10.0.0.0/8\n"), HasSubstr("not valid YAML"));
}

TEST(SuppressionList, UnquotedLeadingStarSaysToQuote) {
  EXPECT_THAT(ErrorOf("- entity: *:i-0*\n  reason: r\n  owner: o\n"),
              HasSubstr("s.yaml:1:11: not valid YAML"));
  EXPECT_THAT(ErrorOf("- entity: *:i-0*\n  reason: r\n  owner: o\n"),
              HasSubstr("quote an entity pattern that starts with *"));
}

TEST(SuppressionList, RuleMatchesWhenEveryConditionMatches) {
  SuppressionList list = SuppressionList::Parse(R"(- entity: "AROA*:i-0*"
  cidr: 198.51.100.0/24
  reason: vpn
  owner: o
- asn: 16509
  reason: aws
  owner: o
)",
                                                "s.yaml", kToday);
  EXPECT_EQ(list.Match(FindingFor("AROAX:i-0abc", "198.51.100.9")), &list.rules()[0]);
  EXPECT_EQ(list.Match(FindingFor("AROAX:alice", "198.51.100.9")), nullptr);
  EXPECT_EQ(list.Match(FindingFor("AROAX:i-0abc", "198.51.101.9")), nullptr);
  EXPECT_EQ(list.Match(FindingFor("AROAX:i-0abc", "2001:db8::1")), nullptr);
  EXPECT_EQ(list.Match(FindingFor("bob", "203.0.113.1", 16509)), &list.rules()[1]);
  EXPECT_EQ(list.Match(FindingFor("bob", "203.0.113.1", 0)), nullptr);  // ASN unknown
}

TEST(SuppressionList, ApplyCountsPerRuleAndKeepsTheRest) {
  SuppressionList list = SuppressionList::Parse(R"(- cidr: 198.51.100.0/24
  reason: vpn
  owner: o
- cidr: 2001:db8::/32
  reason: lab
  owner: o
)",
                                                "s.yaml", kToday);
  SuppressionResult result =
      list.Apply({FindingFor("a", "198.51.100.1"), FindingFor("b", "198.51.100.2"),
                  FindingFor("c", "203.0.113.1"), FindingFor("d", "2001:db8:1::5")});
  EXPECT_EQ(result.suppressed, 3u);
  ASSERT_EQ(result.kept.size(), 1u);
  EXPECT_EQ(result.kept[0].entity, "c");
  ASSERT_EQ(result.by_rule.size(), 2u);
  EXPECT_EQ(result.by_rule[0].findings, 2u);
  EXPECT_EQ(result.by_rule[0].rule, &list.rules()[0]);
  EXPECT_EQ(result.by_rule[1].findings, 1u);
  EXPECT_TRUE(result.expired.empty());
}

TEST(SuppressionList, ExpiredRuleIsReportedAndNeverMatches) {
  SuppressionList list = SuppressionList::Parse(R"(- cidr: 198.51.100.0/24
  expires: 2026-11-30
  reason: old vpn
  owner: secops
- cidr: 203.0.113.0/24
  expires: 2026-12-07
  reason: today is the last day
  owner: secops
)",
                                                "s.yaml", kToday);
  EXPECT_TRUE(list.rules()[0].expired);
  EXPECT_FALSE(list.rules()[1].expired);
  SuppressionResult result =
      list.Apply({FindingFor("a", "198.51.100.1"), FindingFor("b", "203.0.113.1")});
  EXPECT_EQ(result.suppressed, 1u);
  ASSERT_EQ(result.kept.size(), 1u);
  EXPECT_EQ(result.kept[0].entity, "a");
  ASSERT_EQ(result.expired.size(), 1u);
  EXPECT_EQ(result.expired[0], "s.yaml:1:3: rule expired 2026-11-30 (secops, old vpn)");
}

TEST(SuppressionList, ReadsAFile) {
  const std::string path = ::testing::TempDir() + "/suppress_read_test.yaml";
  std::ofstream(path) << "- cidr: 10.0.0.0/8\n  reason: r\n  owner: o\n";
  SuppressionList list = SuppressionList::Read(path, kToday);
  ASSERT_EQ(list.rules().size(), 1u);
  EXPECT_EQ(list.rules()[0].where, path + ":1:3");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace ipinsights
