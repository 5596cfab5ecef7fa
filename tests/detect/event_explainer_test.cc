// EventExplainer: reasons from the training history, and the instance rule.
#include "ipinsights/detect/event_explainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ipinsights/base/civil_time.h"

namespace ipinsights {
namespace {

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

std::vector<std::string> Codes(const std::vector<Reason>& reasons) {
  std::vector<std::string> codes;
  for (const Reason& reason : reasons) codes.push_back(reason.code);
  return codes;
}

bool Has(const std::vector<Reason>& reasons, const std::string& code) {
  const std::vector<std::string> codes = Codes(reasons);
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

const Reason* Find(const std::vector<Reason>& reasons, const std::string& code) {
  for (const Reason& reason : reasons) {
    if (reason.code == code) return &reason;
  }
  return nullptr;
}

constexpr const char* kInstance = "AROAEXAMPLEROLEID0001:i-0a1b2c3d4e5f60718";

class EventExplainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HistoryBuilder builder;
    const int32_t day = static_cast<int32_t>(DaysFromCivil(Date{2024, 3, 1}));
    // alice: mostly 198.51.100.0/24, sometimes 203.0.113.0/24.
    for (int i = 0; i < 80; ++i) builder.Add("alice", Ip("198.51.100.7"), day);
    for (int i = 0; i < 20; ++i) builder.Add("alice", Ip("203.0.113.9"), day + 2);
    // bob shares alice's second network: it is used by two entities.
    builder.Add("bob", Ip("203.0.113.50"), day);
    // carol alone on 192.0.2.0/24: a rare network.
    builder.Add("carol", Ip("192.0.2.1"), day);
    // An instance session from its elastic IP.
    for (int i = 0; i < 10; ++i) builder.Add(kInstance, Ip("54.240.1.10"), day);
    history_ = std::move(builder).Finish();
  }

  EntityHistory history_;
};

TEST_F(EventExplainerTest, UnseenEntityIsSaid) {
  EventExplainer explainer(&history_, nullptr, EntityKind::kPrincipalId);
  const std::vector<Reason> reasons =
      explainer.Explain("mallory", Ip("198.51.100.7"), -3, true, -1, 0.001, {});
  EXPECT_TRUE(Has(reasons, "entity_unseen"));
  EXPECT_TRUE(Has(reasons, "score_below_threshold"));
  EXPECT_FALSE(Has(reasons, "ip_new_for_entity"));
}

TEST_F(EventExplainerTest, NewAddressInAKnownNetworkIsOnlyANewAddress) {
  EventExplainer explainer(&history_, nullptr, EntityKind::kPrincipalId);
  const std::vector<Reason> reasons =
      explainer.Explain("alice", Ip("198.51.100.99"), -2, true, -1, 0.005, {});
  EXPECT_TRUE(Has(reasons, "ip_new_for_entity"));
  EXPECT_FALSE(Has(reasons, "fine_network_new_for_entity"));
  EXPECT_FALSE(Has(reasons, "coarse_network_new_for_entity"));
  const Reason* nearest = Find(reasons, "nearest_known_network");
  ASSERT_NE(nearest, nullptr);
  EXPECT_NE(nearest->facts.find("\"network\":\"198.51.100.0/24\""), std::string::npos)
      << nearest->facts;
  EXPECT_NE(nearest->facts.find("\"share\":0.8"), std::string::npos) << nearest->facts;
  EXPECT_NE(nearest->facts.find("\"first_day\":\"2024-03-01\""), std::string::npos)
      << nearest->facts;
}

TEST_F(EventExplainerTest, NewNetworksForTheEntityAndForEveryone) {
  EventExplainer explainer(&history_, nullptr, EntityKind::kPrincipalId);
  const std::vector<Reason> reasons =
      explainer.Explain("alice", Ip("100.64.9.9"), -5, true, -1, 0.0001, {});
  EXPECT_TRUE(Has(reasons, "ip_new_for_entity"));
  EXPECT_TRUE(Has(reasons, "fine_network_new_for_entity"));
  EXPECT_TRUE(Has(reasons, "coarse_network_new_for_entity"));
  EXPECT_TRUE(Has(reasons, "network_new_across_entities"));
  const Reason* coarse = Find(reasons, "coarse_network_new_for_entity");
  ASSERT_NE(coarse, nullptr);
  EXPECT_NE(coarse->facts.find("100.64.0.0/16"), std::string::npos) << coarse->facts;
}

TEST_F(EventExplainerTest, RareNetworkAcrossEntities) {
  EventExplainer explainer(&history_, nullptr, EntityKind::kPrincipalId);
  const std::vector<Reason> reasons =
      explainer.Explain("alice", Ip("192.0.2.77"), -5, true, -1, 0.0001, {});
  const Reason* rare = Find(reasons, "network_rare_across_entities");
  ASSERT_NE(rare, nullptr);
  EXPECT_NE(rare->facts.find("\"entities\":1"), std::string::npos) << rare->facts;
  EXPECT_FALSE(Has(reasons, "network_new_across_entities"));
}

TEST_F(EventExplainerTest, NotAnomalousHasNoScoreReason) {
  EventExplainer explainer(&history_, nullptr, EntityKind::kPrincipalId);
  EXPECT_FALSE(Has(explainer.Explain("alice", Ip("100.64.9.9"), 2, false, -1, 0.5, {}),
                   "score_below_threshold"));
}

TEST_F(EventExplainerTest, OwnerFromNetworkInfo) {
  EventExplainer explainer(&history_, nullptr, EntityKind::kPrincipalId);
  NetworkInfo network;
  network.asn = 64500;
  network.as_org = "Example Hosting";
  network.country = "NL";
  const std::vector<Reason> reasons =
      explainer.Explain("alice", Ip("100.64.9.9"), -5, true, -1, 0.0001, network);
  const Reason* owner = Find(reasons, "address_owner");
  ASSERT_NE(owner, nullptr);
  EXPECT_NE(owner->message.find("AS64500 Example Hosting in NL"), std::string::npos)
      << owner->message;
}

TEST(InstanceSession, RecognisesInstanceIds) {
  EXPECT_TRUE(IsInstanceSession("AROAEXAMPLE:i-0a1b2c3d4e5f60718"));
  EXPECT_TRUE(IsInstanceSession("AROAEXAMPLE:i-0a1b2c3d"));
  EXPECT_FALSE(IsInstanceSession("AROAEXAMPLE:i-0A1B2C3D"));         // upper case: not an id
  EXPECT_FALSE(IsInstanceSession("AROAEXAMPLE:alice@example.com"));  // a person's session
  EXPECT_FALSE(IsInstanceSession("AIDAEXAMPLE"));
  EXPECT_FALSE(IsInstanceSession("AROAEXAMPLE:i-0a1b2c3d4e5f6071"));  // 16 hex digits
}

TEST_F(EventExplainerTest, InstanceRuleFiresOutsideTheInstanceOnly) {
  EventExplainer explainer(&history_, nullptr, EntityKind::kPrincipalId);
  EXPECT_FALSE(explainer.InstanceCredentialsOutside(kInstance, kInstance, Ip("54.240.1.10")));
  EXPECT_TRUE(explainer.InstanceCredentialsOutside(kInstance, kInstance, Ip("203.0.113.200")));
  // Even from the instance's own /24: a session's addresses are its instance's.
  EXPECT_TRUE(explainer.InstanceCredentialsOutside(kInstance, kInstance, Ip("54.240.1.11")));
  // A session the history does not know: no address to compare with.
  const char* fresh = "AROAEXAMPLEROLEID0001:i-0ffffffffffffffff";
  EXPECT_FALSE(explainer.InstanceCredentialsOutside(fresh, fresh, Ip("203.0.113.200")));
  // Not an instance session.
  EXPECT_FALSE(explainer.InstanceCredentialsOutside("alice", "AIDAALICE", Ip("203.0.113.200")));
  const Reason reason = explainer.InstanceCredentialsReason(kInstance, Ip("203.0.113.200"), {});
  EXPECT_EQ(reason.code, "instance_credentials_outside_instance");
  EXPECT_NE(reason.facts.find("54.240.1.10"), std::string::npos) << reason.facts;
}

TEST_F(EventExplainerTest, InstanceRuleNeedsOneEntityPerSession) {
  // Entities by role name: every instance of the role shares one entity, so one entity's
  // addresses are many instances'; the rule would be wrong and stays off.
  EventExplainer explainer(&history_, nullptr, EntityKind::kUserName);
  EXPECT_FALSE(explainer.InstanceCredentialsOutside(kInstance, kInstance, Ip("203.0.113.200")));
}

TEST(EventExplainerWithoutHistory, OnlyTheScoreSpeaks) {
  EventExplainer explainer(nullptr, nullptr, EntityKind::kPrincipalId);
  EXPECT_EQ(Codes(explainer.Explain("alice", Ip("198.51.100.7"), -3, true, -1, 0.001, {})),
            std::vector<std::string>{"score_below_threshold"});
  EXPECT_FALSE(explainer.InstanceCredentialsOutside(kInstance, kInstance, Ip("203.0.113.200")));
}

}  // namespace
}  // namespace ipinsights
