#include "ipinsights/pairs/entity.h"

#include <gtest/gtest.h>

#include "ipinsights/base/error.h"

namespace ipinsights {
namespace {

TEST(EntitySpec, DefaultsAreThoseOfTheOriginal) {
  EXPECT_EQ(DefaultEntitySpec(LogKind::kCloudTrail).kind, EntityKind::kPrincipalId);
  EntitySpec waf = DefaultEntitySpec(LogKind::kWaf);
  EXPECT_EQ(waf.kind, EntityKind::kUserAgent);
  EXPECT_EQ(waf.header_name, "user-agent");
}

TEST(EntitySpec, ParsesEveryCloudTrailEntity) {
  EXPECT_EQ(ParseEntitySpec(LogKind::kCloudTrail, "principalId").kind, EntityKind::kPrincipalId);
  EXPECT_EQ(ParseEntitySpec(LogKind::kCloudTrail, "arn").kind, EntityKind::kArn);
  EXPECT_EQ(ParseEntitySpec(LogKind::kCloudTrail, "accessKeyId").kind, EntityKind::kAccessKeyId);
  EXPECT_EQ(ParseEntitySpec(LogKind::kCloudTrail, "userName").kind, EntityKind::kUserName);
  EXPECT_EQ(ParseEntitySpec(LogKind::kCloudTrail, "session").kind, EntityKind::kSession);
}

TEST(EntitySpec, HeaderNameIsLowerCased) {
  EntitySpec spec = ParseEntitySpec(LogKind::kWaf, "header:X-Forwarded-For");
  EXPECT_EQ(spec.kind, EntityKind::kHeader);
  EXPECT_EQ(spec.header_name, "x-forwarded-for");
}

TEST(EntitySpec, RejectsUnknownEntitiesWithTheAcceptedList) {
  try {
    ParseEntitySpec(LogKind::kCloudTrail, "user-agent");
    FAIL() << "no UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("principalId, arn, accessKeyId, userName, session"),
              std::string::npos);
  }
  EXPECT_THROW(ParseEntitySpec(LogKind::kWaf, "principalId"), UsageError);
  EXPECT_THROW(ParseEntitySpec(LogKind::kWaf, "header:"), UsageError);
}

TEST(SelectCloudTrailEntity, UserNameFallsBackToTheRoleNameForSessions) {
  CloudTrailIdentity role;
  role.type = "AssumedRole";
  role.issuer_user_name = "WebRole";
  EXPECT_EQ(SelectCloudTrailEntity(role, EntityKind::kUserName), "WebRole");
  CloudTrailIdentity user;
  user.user_name = "alice";
  user.issuer_user_name = "ignored";
  EXPECT_EQ(SelectCloudTrailEntity(user, EntityKind::kUserName), "alice");
}

TEST(SelectCloudTrailEntity, SessionIsTheAssumedRoleArn) {
  CloudTrailIdentity role;
  role.arn = "arn:aws:sts::1:assumed-role/Web/i-0abc";
  role.principal_id = "AROA:i-0abc";
  EXPECT_EQ(SelectCloudTrailEntity(role, EntityKind::kSession), role.arn);
  EXPECT_EQ(SelectCloudTrailEntity(role, EntityKind::kPrincipalId), "AROA:i-0abc");
  EXPECT_EQ(SelectCloudTrailEntity(CloudTrailIdentity(), EntityKind::kSession), "");
}

TEST(HeaderNameEquals, IgnoresAsciiCaseOnly) {
  EXPECT_TRUE(HeaderNameEquals("User-Agent", "user-agent"));
  EXPECT_TRUE(HeaderNameEquals("USER-AGENT", "user-agent"));
  EXPECT_FALSE(HeaderNameEquals("User-Agents", "user-agent"));
  EXPECT_FALSE(HeaderNameEquals("User_Agent", "user-agent"));
}

TEST(WafEntityFromHeaderValue, UserAgentLosesEveryDotAndComma) {
  std::string scratch;
  EXPECT_EQ(WafEntityFromHeaderValue("Mozilla/5.0 (A, B) x.y,z", EntityKind::kUserAgent, &scratch),
            "Mozilla/50 (A B) xyz");
  EXPECT_EQ(WafEntityFromHeaderValue("plain", EntityKind::kUserAgent, &scratch), "plain");
  EXPECT_EQ(WafEntityFromHeaderValue("a.b,c", EntityKind::kHeader, &scratch), "a.b,c");
}

}  // namespace
}  // namespace ipinsights
