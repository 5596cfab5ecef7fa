#include "ipinsights/detect/finding_formats.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "../storage/s3_test_support.h"
#include "../testing/scratch_test.h"
#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"

namespace ipinsights {
namespace {

using ::testing::HasSubstr;

int64_t At(const char* timestamp) { return *ParseTimestamp(timestamp); }

Finding Sample() {
  Finding finding;
  finding.id = "ipinsights/cloudtrail/2026-12-01/0123456789abcdef";
  finding.entity = "AROAEXAMPLE:i-0abc";
  finding.ip = *IpAddress::Parse("203.0.113.7");
  finding.window_start = At("2026-12-01T00:00:00Z");
  finding.window_end = At("2026-12-02T00:00:00Z");
  finding.first_seen = At("2026-12-01T03:04:05Z");
  finding.last_seen = At("2026-12-01T09:00:00Z");
  finding.events = 3;
  finding.sample_event_ids = {"e1", "e2"};
  finding.activities = {"s3.amazonaws.com:GetObject", "sts.amazonaws.com:GetCallerIdentity"};
  finding.activities_truncated = true;
  finding.lowest_score = -2.5f;
  finding.false_positive_rate = 0.0005;
  finding.reasons = {{"instance_credentials_outside_instance",
                      "The instance-role session i-0abc was used from 203.0.113.7.",
                      R"({"instance_id":"i-0abc"})"},
                     {"ip_new_for_entity", "The address is new for the entity.", "{}"}};
  finding.severity = Severity::kHigh;
  finding.account_id = "123456789012";
  finding.region = "eu-west-1";
  finding.identity_type = "AssumedRole";
  finding.credential_type = "temporary";
  finding.user_agent = "aws-cli/2.15";
  finding.network.asn = 64500;
  finding.network.as_org = "Example Net";
  finding.network.country = "NL";
  finding.object = "s3://logs/AWSLogs/a.json.gz";
  finding.record_index = 42;
  return finding;
}

simdjson::dom::element Parse(simdjson::dom::parser& parser, const std::string& json) {
  simdjson::dom::element element;
  EXPECT_EQ(parser.parse(json).get(element), simdjson::SUCCESS) << json;
  return element;
}

std::string Text(simdjson::dom::element element, const char* pointer) {
  std::string_view value;
  EXPECT_EQ(element.at_pointer(pointer).get(value), simdjson::SUCCESS) << pointer;
  return std::string(value);
}

int64_t Integer(simdjson::dom::element element, const char* pointer) {
  int64_t value = 0;
  EXPECT_EQ(element.at_pointer(pointer).get(value), simdjson::SUCCESS) << pointer;
  return value;
}

bool Has(simdjson::dom::element element, const char* pointer) {
  return element.at_pointer(pointer).error() == simdjson::SUCCESS;
}

TEST(ParseFindingFormat, NamesTheAcceptedValues) {
  EXPECT_EQ(ParseFindingFormat("ndjson"), FindingFormat::kNdjson);
  EXPECT_EQ(ParseFindingFormat("asff"), FindingFormat::kAsff);
  EXPECT_EQ(ParseFindingFormat("ocsf"), FindingFormat::kOcsf);
  try {
    ParseFindingFormat("csv");
    FAIL() << "no error";
  } catch (const UsageError& error) {
    EXPECT_THAT(error.what(), HasSubstr("\"csv\" is not one of ndjson, asff, ocsf"));
  }
}

TEST(FindingJson, WritesEveryDocumentedField) {
  simdjson::dom::parser parser;
  const std::string line = FindingJson(Sample());
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto json = Parse(parser, line);
  EXPECT_EQ(Text(json, "/type"), "ipinsights.finding/1");
  EXPECT_EQ(Text(json, "/id"), "ipinsights/cloudtrail/2026-12-01/0123456789abcdef");
  EXPECT_EQ(Text(json, "/kind"), "cloudtrail");
  EXPECT_EQ(Text(json, "/entity"), "AROAEXAMPLE:i-0abc");
  EXPECT_EQ(Text(json, "/ip"), "203.0.113.7");
  EXPECT_EQ(Text(json, "/window/start"), "2026-12-01T00:00:00Z");
  EXPECT_EQ(Text(json, "/window/end"), "2026-12-02T00:00:00Z");
  EXPECT_EQ(Text(json, "/first_seen"), "2026-12-01T03:04:05Z");
  EXPECT_EQ(Text(json, "/last_seen"), "2026-12-01T09:00:00Z");
  EXPECT_EQ(Integer(json, "/events"), 3);
  EXPECT_EQ(Text(json, "/sample_event_ids/1"), "e2");
  EXPECT_EQ(Text(json, "/activities/0"), "s3.amazonaws.com:GetObject");
  bool truncated = false;
  EXPECT_EQ(json.at_pointer("/activities_truncated").get(truncated), simdjson::SUCCESS);
  EXPECT_TRUE(truncated);
  double score = 0, fpr = 0;
  EXPECT_EQ(json.at_pointer("/lowest_score").get(score), simdjson::SUCCESS);
  EXPECT_EQ(score, -2.5);
  EXPECT_EQ(json.at_pointer("/false_positive_rate").get(fpr), simdjson::SUCCESS);
  EXPECT_EQ(fpr, 0.0005);
  EXPECT_EQ(Text(json, "/severity"), "HIGH");
  EXPECT_EQ(Text(json, "/reasons/0/code"), "instance_credentials_outside_instance");
  EXPECT_EQ(Text(json, "/reasons/0/facts/instance_id"), "i-0abc");
  EXPECT_EQ(Text(json, "/reasons/1/message"), "The address is new for the entity.");
  EXPECT_EQ(Text(json, "/account_id"), "123456789012");
  EXPECT_EQ(Text(json, "/region"), "eu-west-1");
  EXPECT_EQ(Text(json, "/identity_type"), "AssumedRole");
  EXPECT_EQ(Text(json, "/credential_type"), "temporary");
  EXPECT_EQ(Text(json, "/user_agent"), "aws-cli/2.15");
  EXPECT_EQ(Integer(json, "/network/asn"), 64500);
  EXPECT_EQ(Text(json, "/network/as_org"), "Example Net");
  EXPECT_EQ(Text(json, "/network/country"), "NL");
  EXPECT_EQ(Text(json, "/origin/object"), "s3://logs/AWSLogs/a.json.gz");
  EXPECT_EQ(Integer(json, "/origin/record_index"), 42);
}

TEST(FindingJson, NetworkOnlyWhenKnownAndHostileTextStaysValidJson) {
  Finding finding = Sample();
  finding.network = NetworkInfo{};
  finding.entity = std::string("evil\"\n\xff\x01", 8);
  finding.reasons[0].facts = "not json";
  simdjson::dom::parser parser;
  auto json = Parse(parser, FindingJson(finding));
  EXPECT_FALSE(Has(json, "/network"));
  EXPECT_EQ(Text(json, "/entity"), "evil\"\n\xef\xbf\xbd\x01");
  EXPECT_TRUE(Has(json, "/reasons/0/facts"));
}

AsffContext Context() {
  return AsffContext{.region = "us-east-1", .account_id = "111122223333", .now = 1796000000};
}

TEST(AsffFindingJson, HasEveryRequiredFieldAndTheMapping) {
  simdjson::dom::parser parser;
  auto json = Parse(parser, AsffFindingJson(Sample(), Context()));
  EXPECT_EQ(Text(json, "/SchemaVersion"), "2018-10-08");
  EXPECT_EQ(Text(json, "/Id"), "ipinsights/cloudtrail/2026-12-01/0123456789abcdef");
  EXPECT_EQ(Text(json, "/ProductArn"),
            "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default");
  EXPECT_EQ(Text(json, "/GeneratorId"), "ipinsights/cloudtrail");
  // The importing account: Security Hub refuses a default-product finding naming another.
  EXPECT_EQ(Text(json, "/AwsAccountId"), "111122223333");
  EXPECT_EQ(Text(json, "/ProductFields/account_id"), "123456789012");  // the event's account
  EXPECT_EQ(Text(json, "/Types/0"), "TTPs/Initial Access/Valid Accounts");
  EXPECT_EQ(Text(json, "/Types/1"), "Unusual Behaviors/User/Unusual IP");
  EXPECT_EQ(Text(json, "/FirstObservedAt"), "2026-12-01T03:04:05Z");
  EXPECT_EQ(Text(json, "/LastObservedAt"), "2026-12-01T09:00:00Z");
  EXPECT_EQ(Text(json, "/CreatedAt"), FormatTimestamp(1796000000));
  EXPECT_EQ(Text(json, "/UpdatedAt"), FormatTimestamp(1796000000));
  EXPECT_EQ(Text(json, "/Severity/Label"), "HIGH");
  EXPECT_THAT(Text(json, "/Title"), HasSubstr("AROAEXAMPLE:i-0abc"));
  EXPECT_THAT(Text(json, "/Description"),
              HasSubstr("The instance-role session i-0abc was used from 203.0.113.7."));
  EXPECT_EQ(Text(json, "/Resources/0/Type"), "AwsIamRole");
  EXPECT_EQ(Text(json, "/Resources/0/Id"), "AROAEXAMPLE:i-0abc");
  EXPECT_EQ(Text(json, "/Resources/0/Region"), "eu-west-1");
  EXPECT_EQ(Text(json, "/Resources/0/Partition"), "aws");
  EXPECT_EQ(Text(json, "/Network/Direction"), "IN");
  EXPECT_EQ(Text(json, "/Network/SourceIpV4"), "203.0.113.7");
  EXPECT_EQ(Text(json, "/ProductFields/entity"), "AROAEXAMPLE:i-0abc");
  EXPECT_EQ(Text(json, "/ProductFields/score"), "-2.5");
  EXPECT_EQ(Text(json, "/ProductFields/false_positive_rate"), "0.0005");
  EXPECT_EQ(Text(json, "/ProductFields/reasons"),
            "instance_credentials_outside_instance,ip_new_for_entity");
  EXPECT_EQ(Text(json, "/ProductFields/events"), "3");
  EXPECT_EQ(Text(json, "/RecordState"), "ACTIVE");
  EXPECT_EQ(Text(json, "/Workflow/Status"), "NEW");
}

TEST(AsffFindingJson, IPv6AccessKeysAndAccountFallback) {
  Finding finding = Sample();
  finding.ip = *IpAddress::Parse("2001:db8::7");
  finding.entity = "AKIAIOSFODNN7EXAMPLE";
  finding.account_id = "";
  finding.region = "";
  finding.reasons = {{"ip_new_for_entity", "New.", "{}"}};
  simdjson::dom::parser parser;
  auto json = Parse(parser, AsffFindingJson(finding, Context()));
  EXPECT_EQ(Text(json, "/Network/SourceIpV6"), "2001:db8::7");
  EXPECT_FALSE(Has(json, "/Network/SourceIpV4"));
  EXPECT_EQ(Text(json, "/Resources/0/Type"), "AwsIamAccessKey");
  EXPECT_EQ(Text(json, "/Resources/0/Region"), "us-east-1");
  EXPECT_EQ(Text(json, "/AwsAccountId"), "111122223333");
  EXPECT_EQ(Text(json, "/Types/0"), "Unusual Behaviors/User/Unusual IP");
  finding.kind = LogKind::kWaf;
  auto waf = Parse(parser, AsffFindingJson(finding, Context()));
  EXPECT_EQ(Text(waf, "/Resources/0/Type"), "Other");
  EXPECT_EQ(Text(waf, "/GeneratorId"), "ipinsights/waf");
}

size_t Utf8Chars(const std::string& text) {
  size_t chars = 0;
  for (unsigned char c : text) chars += (c & 0xc0) != 0x80;
  return chars;
}

TEST(AsffFindingJson, RespectsSecurityHubsLimits) {
  Finding finding = Sample();
  finding.entity = std::string(600, 'e') + "\xc3\xa9";
  finding.user_agent = std::string(5000, 'u');
  for (int i = 0; i < 40; ++i) {
    finding.reasons.push_back({"ip_new_for_entity", std::string(100, 'r') + "\xe2\x82\xac.", "{}"});
  }
  simdjson::dom::parser parser;
  auto json = Parse(parser, AsffFindingJson(finding, Context()));
  const std::string title = Text(json, "/Title");
  const std::string description = Text(json, "/Description");
  EXPECT_LE(Utf8Chars(title), 256u);
  EXPECT_LE(Utf8Chars(description), 1024u);
  EXPECT_EQ(Utf8Chars(description), 1024u);  // cut at the limit, ending in an ellipsis
  EXPECT_EQ(description.substr(description.size() - 3), "\xe2\x80\xa6");
  EXPECT_LE(Utf8Chars(Text(json, "/Resources/0/Id")), 512u);
  EXPECT_EQ(Text(json, "/ProductFields/user_agent").size(), 2047u + 3u);
}

TEST(AsffBatches, AtMostOneHundredPerBatch) {
  std::vector<Finding> findings(250, Sample());
  for (size_t i = 0; i < findings.size(); ++i) findings[i].id += "-" + std::to_string(i);
  std::vector<std::string> batches = AsffBatches(findings, Context());
  ASSERT_EQ(batches.size(), 3u);
  simdjson::dom::parser parser;
  size_t expected[] = {100, 100, 50};
  size_t index = 0;
  for (size_t b = 0; b < 3; ++b) {
    auto json = Parse(parser, batches[b]);
    simdjson::dom::array array;
    ASSERT_EQ(json["Findings"].get(array), simdjson::SUCCESS);
    EXPECT_EQ(array.size(), expected[b]);
    for (auto item : array) {
      std::string_view id;
      ASSERT_EQ(item["Id"].get(id), simdjson::SUCCESS);
      EXPECT_EQ(id, findings[index++].id);
    }
  }
  EXPECT_TRUE(AsffBatches({}, Context()).empty());
}

class AsffServiceModelTest : public testing::ScratchTest {
 protected:
  // Runs asff_validate.py on `lines`; returns its exit status (77: botocore missing).
  int Validate(const std::string& lines, std::string* output) {
    const std::string file = Write("batches.ndjson", lines);
    int status = 0;
    *output = s3test::RunCommand(
        "python3 " + s3test::SourceDir() + "/tests/detect/asff_validate.py " + file + " 2>&1",
        &status);
    return status;
  }
};

TEST_F(AsffServiceModelTest, BatchesPassBotocoresValidationOfTheServiceModel) {
  if (!s3test::PythonHas("botocore")) {
    GTEST_SKIP() << "python3 cannot import botocore (pip install botocore): Security Hub's "
                    "service model is not available to check the ASFF against";
  }
  Finding long_one = Sample();
  long_one.entity = std::string(3000, 'x');
  long_one.user_agent = std::string(3000, 'u');
  long_one.network = NetworkInfo{};
  Finding v6 = Sample();
  v6.ip = *IpAddress::Parse("2001:db8::1");
  v6.kind = LogKind::kWaf;
  v6.reasons.clear();
  std::vector<Finding> findings = {Sample(), long_one, v6};
  for (int i = 0; i < 150; ++i) findings.push_back(Sample());
  std::string lines;
  for (const std::string& batch : AsffBatches(findings, Context())) lines += batch + "\n";
  std::string output;
  EXPECT_EQ(Validate(lines, &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("2 batches, 0 problems"));
}

TEST_F(AsffServiceModelTest, ValidatorRefusesABrokenFinding) {
  if (!s3test::PythonHas("botocore")) {
    GTEST_SKIP() << "python3 cannot import botocore (pip install botocore): Security Hub's "
                    "service model is not available to check the ASFF against";
  }
  std::string batch = AsffBatches({Sample()}, Context()).at(0);
  // Without a Title, and a blank GeneratorId: what the service would refuse.
  std::string broken = batch;
  broken.replace(broken.find("\"Title\""), 7, "\"Tittle\"");
  broken.replace(broken.find("ipinsights/cloudtrail\""), 22, " \"");
  std::string output;
  EXPECT_EQ(Validate(broken + "\n", &output), 1) << output;
  EXPECT_THAT(output, HasSubstr("Title"));
  EXPECT_THAT(output, HasSubstr("GeneratorId"));
}

TEST(OcsfFindingJson, IsADetectionFinding) {
  simdjson::dom::parser parser;
  auto json = Parse(parser, OcsfFindingJson(Sample(), 1796000000));
  EXPECT_EQ(Integer(json, "/class_uid"), 2004);
  EXPECT_EQ(Integer(json, "/category_uid"), 2);
  EXPECT_EQ(Integer(json, "/type_uid"), 200401);
  EXPECT_EQ(Integer(json, "/activity_id"), 1);
  EXPECT_EQ(Integer(json, "/severity_id"), 4);
  EXPECT_EQ(Text(json, "/severity"), "High");
  EXPECT_EQ(Integer(json, "/time"), 1796000000000);
  EXPECT_EQ(Text(json, "/metadata/version"), "1.1.0");
  EXPECT_EQ(Text(json, "/metadata/product/name"), "ipinsights");
  EXPECT_EQ(Text(json, "/metadata/product/vendor_name"), "ipinsights");
  EXPECT_EQ(Text(json, "/finding_info/uid"), "ipinsights/cloudtrail/2026-12-01/0123456789abcdef");
  EXPECT_THAT(Text(json, "/finding_info/title"), HasSubstr("AROAEXAMPLE:i-0abc"));
  EXPECT_THAT(Text(json, "/finding_info/desc"), HasSubstr("3 flagged events"));
  EXPECT_EQ(Integer(json, "/finding_info/first_seen_time"), At("2026-12-01T03:04:05Z") * 1000);
  EXPECT_EQ(Integer(json, "/finding_info/last_seen_time"), At("2026-12-01T09:00:00Z") * 1000);
  EXPECT_EQ(Text(json, "/finding_info/types/0"), "TTPs/Initial Access/Valid Accounts");
  EXPECT_EQ(Text(json, "/actor/user/uid"), "AROAEXAMPLE:i-0abc");
  EXPECT_EQ(Text(json, "/src_endpoint/ip"), "203.0.113.7");
  EXPECT_EQ(Integer(json, "/src_endpoint/autonomous_system/number"), 64500);
  EXPECT_EQ(Text(json, "/src_endpoint/location/country"), "NL");
  EXPECT_EQ(Text(json, "/evidences/0/src_endpoint/ip"), "203.0.113.7");
  EXPECT_EQ(Text(json, "/evidences/0/data/reasons/0/code"),
            "instance_credentials_outside_instance");
  EXPECT_EQ(Text(json, "/status"), "New");
  EXPECT_EQ(Text(json, "/cloud/provider"), "AWS");
  EXPECT_EQ(Text(json, "/cloud/account/uid"), "123456789012");
}

}  // namespace
}  // namespace ipinsights
