// LogReaderOptions::want_event_fields: each event's own fields (LogEvent::fields), as
// `score` over logs shows them. Records are real AWS shapes (CloudTrail records as
// delivered in {"Records":[...]} objects, WAF v2 records as Firehose delivers them).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "ipinsights/logs/log_reader.h"
#include "ipinsights/storage/storage.h"
#include "log_test_util.h"

namespace ipinsights {
namespace {

using ::ipinsights::testing::Gzip;

// EventFields copied out of Add() (the views die with the call).
struct Fields {
  std::string entity;
  std::string ip;
  bool has_time = false;
  int64_t time = 0;
  bool has_fields = false;
  std::string object;
  uint64_t record_index = 0;
  std::string event_time, event_name, event_source, aws_region, recipient_account_id, event_id,
      user_agent, identity_type, access_key_id, principal_id, arn, uri, http_method, action,
      request_id, country, web_acl_id;
};

class FieldsSink : public EventSink {
 public:
  void Add(const LogEvent& event) override {
    Fields f;
    f.entity = std::string(event.entity);
    f.ip = event.ip.ToString();
    f.has_time = event.has_time;
    f.time = event.time;
    if (const EventFields* e = event.fields) {
      f.has_fields = true;
      f.object = std::string(e->object);
      f.record_index = e->record_index;
      f.event_time = std::string(e->event_time);
      f.event_name = std::string(e->event_name);
      f.event_source = std::string(e->event_source);
      f.aws_region = std::string(e->aws_region);
      f.recipient_account_id = std::string(e->recipient_account_id);
      f.event_id = std::string(e->event_id);
      f.user_agent = std::string(e->user_agent);
      f.identity_type = std::string(e->identity_type);
      f.access_key_id = std::string(e->access_key_id);
      f.principal_id = std::string(e->principal_id);
      f.arn = std::string(e->arn);
      f.uri = std::string(e->uri);
      f.http_method = std::string(e->http_method);
      f.action = std::string(e->action);
      f.request_id = std::string(e->request_id);
      f.country = std::string(e->country);
      f.web_acl_id = std::string(e->web_acl_id);
    }
    events.push_back(std::move(f));
  }
  std::vector<Fields> events;
};

LogReaderOptions WithFields(LogKind kind) {
  LogReaderOptions options;
  options.kind = kind;
  options.entity = DefaultEntitySpec(kind);
  options.want_event_fields = true;
  return options;
}

LogReaderOptions Streaming(LogReaderOptions options) {
  options.memory_budget = 1;
  options.stream_chunk = 97;
  return options;
}

std::vector<Fields> Read(const LogReaderOptions& options, std::string_view bytes,
                         std::string_view name, FileReport* report = nullptr) {
  LogFileReader reader(options);
  FieldsSink sink;
  FileReport r = reader.ReadBytes(name, bytes, sink);
  if (report) *report = r;
  return sink.events;
}

// An AWS service acting on its own behalf: skipped (aws_service), yet it is record 0.
constexpr std::string_view kServiceRecord =
    R"({"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com"},"eventTime":"2024-11-02T00:19:58Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","awsRegion":"us-east-1","sourceIPAddress":"ec2.amazonaws.com","userAgent":"ec2.amazonaws.com","requestParameters":{"roleArn":"arn:aws:iam::111122223333:role/web","roleSessionName":"i-0a1b2c3d4e5f60718"},"responseElements":null,"requestID":"1e0c2a4b-7f1d-4c55-9d0e-3b8a6f2d9c11","eventID":"7c5b3e1a-2d4f-4a6b-8c9d-0e1f2a3b4c5d","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"})";

// An IAM user's long-term key (elastic-integrations test-get-caller-identity, anonymised).
constexpr std::string_view kIamUserRecord =
    R"({"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAQ7EXAMPLE4USER01","arn":"arn:aws:iam::111122223333:user/terraformer","accountId":"111122223333","accessKeyId":"AKIAQ7EXAMPLE4KEY001","userName":"terraformer"},"eventTime":"2024-11-02T00:20:40Z","eventSource":"sts.amazonaws.com","eventName":"GetCallerIdentity","awsRegion":"us-east-1","sourceIPAddress":"216.160.83.56","userAgent":"aws-sdk-nodejs/2.1384.0 darwin/v20.16.0 promise","requestParameters":null,"responseElements":null,"requestID":"12ab45a7-ecba-479c-890e-87c5e40cba71","eventID":"b62fe3ff-ae80-496c-a2e9-32abb2a1281d","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111122223333","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"sts.us-east-1.amazonaws.com"}})";

// An EC2 instance-role session (temporary ASIA key), fields in another order.
constexpr std::string_view kInstanceRoleRecord =
    R"({"eventVersion":"1.09","eventTime":"2024-11-02T00:21:05Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","userIdentity":{"type":"AssumedRole","principalId":"AROAQ7EXAMPLEROLE001:i-0a1b2c3d4e5f60718","arn":"arn:aws:sts::111122223333:assumed-role/web/i-0a1b2c3d4e5f60718","accountId":"111122223333","accessKeyId":"ASIAQ7EXAMPLE4TEMP01","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAQ7EXAMPLEROLE001","arn":"arn:aws:iam::111122223333:role/web","accountId":"111122223333","userName":"web"},"webIdFederationData":{},"attributes":{"creationDate":"2024-11-01T23:55:00Z","mfaAuthenticated":"false"},"ec2RoleDelivery":"2.0"}},"awsRegion":"eu-west-1","sourceIPAddress":"2001:db8::7","userAgent":"aws-sdk-java/1.12.600 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9","requestParameters":{"Host":"s3.amazonaws.com"},"responseElements":null,"requestID":"T4Z1M8Q0","eventID":"3f1e0d2c-9b8a-4c7d-8e6f-5a4b3c2d1e0f","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"444455556666","eventCategory":"Management"})";

std::string RecordsFile() {
  return std::string(R"({"Records":[)") + std::string(kServiceRecord) + "," +
         std::string(kIamUserRecord) + "," + std::string(kInstanceRoleRecord) + "]}";
}

TEST(EventFields, CloudTrailRecordsFileGivesEveryField) {
  for (bool stream : {false, true}) {
    SCOPED_TRACE(stream ? "streamed" : "whole");
    LogReaderOptions options = WithFields(LogKind::kCloudTrail);
    if (stream) options = Streaming(options);
    const std::string name =
        "s3://trail/AWSLogs/111122223333/CloudTrail/us-east-1/2024/11/02/"
        "111122223333_CloudTrail_us-east-1_20241102T0025Z_a1b2.json.gz";
    FileReport report;
    std::vector<Fields> events = Read(options, Gzip(RecordsFile()), name, &report);
    EXPECT_EQ(report.records, 3u);
    EXPECT_EQ(report.skipped[SkipReason::kAwsService], 1u);
    ASSERT_EQ(events.size(), 2u);

    const Fields& user = events[0];
    ASSERT_TRUE(user.has_fields);
    EXPECT_EQ(user.entity, "AIDAQ7EXAMPLE4USER01");
    EXPECT_EQ(user.ip, "216.160.83.56");
    EXPECT_EQ(user.object, name);
    EXPECT_EQ(user.record_index, 1u) << "the skipped AWSService record is record 0";
    EXPECT_EQ(user.event_time, "2024-11-02T00:20:40Z");
    EXPECT_TRUE(user.has_time) << "want_event_fields implies the event time";
    EXPECT_EQ(user.time, 1730506840);
    EXPECT_EQ(user.event_name, "GetCallerIdentity");
    EXPECT_EQ(user.event_source, "sts.amazonaws.com");
    EXPECT_EQ(user.aws_region, "us-east-1");
    EXPECT_EQ(user.recipient_account_id, "111122223333");
    EXPECT_EQ(user.event_id, "b62fe3ff-ae80-496c-a2e9-32abb2a1281d");
    EXPECT_EQ(user.user_agent, "aws-sdk-nodejs/2.1384.0 darwin/v20.16.0 promise");
    EXPECT_EQ(user.identity_type, "IAMUser");
    EXPECT_EQ(user.access_key_id, "AKIAQ7EXAMPLE4KEY001");
    EXPECT_EQ(user.principal_id, "AIDAQ7EXAMPLE4USER01");
    EXPECT_EQ(user.arn, "arn:aws:iam::111122223333:user/terraformer");
    // WAF's fields stay empty on a CloudTrail record.
    EXPECT_EQ(user.uri + user.http_method + user.action + user.request_id + user.country +
                  user.web_acl_id,
              "");

    const Fields& role = events[1];
    ASSERT_TRUE(role.has_fields);
    EXPECT_EQ(role.entity, "AROAQ7EXAMPLEROLE001:i-0a1b2c3d4e5f60718");
    EXPECT_EQ(role.ip, "2001:db8::7");
    EXPECT_EQ(role.record_index, 2u);
    EXPECT_EQ(role.event_time, "2024-11-02T00:21:05Z");
    EXPECT_EQ(role.event_name, "ListBuckets");
    EXPECT_EQ(role.event_source, "s3.amazonaws.com");
    EXPECT_EQ(role.aws_region, "eu-west-1");
    EXPECT_EQ(role.recipient_account_id, "444455556666");
    EXPECT_EQ(role.event_id, "3f1e0d2c-9b8a-4c7d-8e6f-5a4b3c2d1e0f");
    EXPECT_EQ(role.user_agent, "aws-sdk-java/1.12.600 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9");
    EXPECT_EQ(role.identity_type, "AssumedRole");
    EXPECT_EQ(role.access_key_id, "ASIAQ7EXAMPLE4TEMP01");
    EXPECT_EQ(role.principal_id, "AROAQ7EXAMPLEROLE001:i-0a1b2c3d4e5f60718");
    EXPECT_EQ(role.arn, "arn:aws:sts::111122223333:assumed-role/web/i-0a1b2c3d4e5f60718");
  }
}

TEST(EventFields, ObjectIsTheLocationRead) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("ipi_event_fields_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "trail.json.gz").string();
  const std::string bytes = Gzip(RecordsFile());
  std::ofstream(path, std::ios::binary) << bytes;
  LogFileReader reader(WithFields(LogKind::kCloudTrail));
  FieldsSink sink;
  reader.Read(OpenStorage(path), ObjectInfo{path, bytes.size()}, sink);
  fs::remove_all(dir);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].object, path);
  EXPECT_EQ(sink.events[1].object, path);
}

TEST(EventFields, CloudTrailMissingAndNonStringFieldsAreEmpty) {
  // eventName a number, awsRegion null, userAgent an object, eventSource/eventID/
  // recipientAccountId/eventTime missing, userIdentity without accessKeyId and with a
  // numeric arn.
  const std::string record =
      R"({"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAQ7EXAMPLE4USER02","arn":42,"accountId":"111122223333","userName":"ci"},"eventName":123,"awsRegion":null,"sourceIPAddress":"198.51.100.9","userAgent":{"name":"cli"},"requestParameters":null,"responseElements":null,"readOnly":true,"eventType":"AwsApiCall"})";
  std::vector<Fields> events =
      Read(WithFields(LogKind::kCloudTrail), record + "\n", "trail/2024/one.json");
  ASSERT_EQ(events.size(), 1u);
  const Fields& f = events[0];
  ASSERT_TRUE(f.has_fields);
  EXPECT_EQ(f.record_index, 0u);
  EXPECT_FALSE(f.has_time);
  EXPECT_EQ(f.event_time, "");
  EXPECT_EQ(f.event_name, "");
  EXPECT_EQ(f.event_source, "");
  EXPECT_EQ(f.aws_region, "");
  EXPECT_EQ(f.recipient_account_id, "");
  EXPECT_EQ(f.event_id, "");
  EXPECT_EQ(f.user_agent, "");
  EXPECT_EQ(f.access_key_id, "");
  EXPECT_EQ(f.arn, "");
  EXPECT_EQ(f.identity_type, "IAMUser");
  EXPECT_EQ(f.principal_id, "AIDAQ7EXAMPLE4USER02");
}

// A WAF v2 record as Firehose delivers it (elastic-integrations test-waf.log, first record).
constexpr std::string_view kWafRecord =
    R"({"timestamp":1576280412771,"formatVersion":1,"webaclId":"arn:aws:wafv2:ap-southeast-2:111122223333:regional/webacl/STMTest/1EXAMPLE-2ARN-3ARN-4ARN-123456EXAMPLE","terminatingRuleId":"STMTest_SQLi_XSS","terminatingRuleType":"REGULAR","action":"BLOCK","terminatingRuleMatchDetails":[{"conditionType":"SQL_INJECTION","location":"HEADER","matchedData":["10","AND","1"]}],"httpSourceName":"-","httpSourceId":"-","ruleGroupList":[],"rateBasedRuleList":[],"nonTerminatingMatchingRules":[],"httpRequest":{"clientIp":"89.160.20.156","country":"AU","headers":[{"name":"Host","value":"localhost:1989"},{"name":"User-Agent","value":"curl/7.61.1"},{"name":"Accept","value":"*/*"},{"name":"x-stm-test","value":"10 AND 1=1"}],"uri":"/foo","args":"","httpVersion":"HTTP/1.1","httpMethod":"GET","requestId":"rid-1"},"labels":[{"name":"value"}]})";

// An HTTP/2 client: lower-case header names, a text timestamp (some exports), request id first.
constexpr std::string_view kWafHttp2Record =
    R"({"timestamp":"2024-03-20T10:30:00.123Z","formatVersion":1,"webaclId":"arn:aws:wafv2:us-east-1:111122223333:global/webacl/cf/9f8e","terminatingRuleId":"Default_Action","terminatingRuleType":"REGULAR","action":"ALLOW","httpSourceName":"CF","httpSourceId":"E2ABCDEF","ruleGroupList":[],"rateBasedRuleList":[],"nonTerminatingMatchingRules":[],"httpRequest":{"requestId":"Xk9_q1","clientIp":"2001:db8:5::1","country":"DE","headers":[{"name":"host","value":"shop.example.com"},{"value":"Mozilla/5.0 (X11; Linux x86_64) Firefox/123.0","name":"USER-AGENT"}],"uri":"/api/cart","args":"id=7","httpVersion":"HTTP/2.0","httpMethod":"POST"}})";

TEST(EventFields, WafNdjsonGivesEveryFieldAndCountsEveryRecord) {
  for (bool stream : {false, true}) {
    SCOPED_TRACE(stream ? "streamed" : "whole");
    LogReaderOptions options = WithFields(LogKind::kWaf);
    if (stream) options = Streaming(options);
    // Record 0 malformed, record 1 without a client IP (not_an_ip), then two good ones.
    const std::string text = std::string(R"({"timestamp":1576280412000,"action":})") + "\n" +
                             R"({"timestamp":1576280412500,"httpRequest":{"country":"AU"}})" +
                             "\n" + std::string(kWafRecord) + "\n" + std::string(kWafHttp2Record) +
                             "\n";
    const std::string name = "AWSLogs/waf/2019/12/13/23/aws-waf-logs-acl-1-2019-12-13-23-40-00-x";
    FileReport report;
    std::vector<Fields> events = Read(options, text, name, &report);
    EXPECT_EQ(report.records, 4u);
    EXPECT_EQ(report.skipped[SkipReason::kMalformed], 1u);
    EXPECT_EQ(report.skipped[SkipReason::kNotAnIp], 1u);
    ASSERT_EQ(events.size(), 2u);

    const Fields& a = events[0];
    ASSERT_TRUE(a.has_fields);
    EXPECT_EQ(a.entity, "curl/7611");
    EXPECT_EQ(a.ip, "89.160.20.156");
    EXPECT_EQ(a.object, name);
    EXPECT_EQ(a.record_index, 2u) << "the malformed and the skipped records count";
    EXPECT_EQ(a.event_time, "2019-12-13T23:40:12.771Z");
    EXPECT_TRUE(a.has_time);
    EXPECT_EQ(a.time, 1576280412);
    EXPECT_EQ(a.uri, "/foo");
    EXPECT_EQ(a.http_method, "GET");
    EXPECT_EQ(a.action, "BLOCK");
    EXPECT_EQ(a.request_id, "rid-1");
    EXPECT_EQ(a.country, "AU");
    EXPECT_EQ(a.web_acl_id,
              "arn:aws:wafv2:ap-southeast-2:111122223333:regional/webacl/STMTest/"
              "1EXAMPLE-2ARN-3ARN-4ARN-123456EXAMPLE");
    EXPECT_EQ(a.user_agent, "curl/7.61.1") << "the header as written, not the entity";
    // CloudTrail's fields stay empty on a WAF record.
    EXPECT_EQ(a.event_name + a.event_source + a.aws_region + a.recipient_account_id + a.event_id +
                  a.identity_type + a.access_key_id + a.principal_id + a.arn,
              "");

    const Fields& b = events[1];
    ASSERT_TRUE(b.has_fields);
    EXPECT_EQ(b.record_index, 3u);
    EXPECT_EQ(b.event_time, "2024-03-20T10:30:00.123Z") << "a text timestamp as written";
    EXPECT_EQ(b.time, 1710930600);
    EXPECT_EQ(b.user_agent, "Mozilla/5.0 (X11; Linux x86_64) Firefox/123.0")
        << "header name in any case, value before name";
    EXPECT_EQ(b.uri, "/api/cart");
    EXPECT_EQ(b.http_method, "POST");
    EXPECT_EQ(b.action, "ALLOW");
    EXPECT_EQ(b.request_id, "Xk9_q1");
    EXPECT_EQ(b.country, "DE");
    EXPECT_EQ(b.web_acl_id, "arn:aws:wafv2:us-east-1:111122223333:global/webacl/cf/9f8e");
  }
}

TEST(EventFields, WafTimestampBeforeTheEpochAndMillisecondsRender) {
  std::string record(kWafRecord);
  record.replace(record.find("1576280412771"), 13, "-1");
  std::vector<Fields> events = Read(WithFields(LogKind::kWaf), record + "\n", "waf.log");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_time, "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(events[0].time, -1);
}

TEST(EventFields, WafMissingAndNonStringFieldsAreEmpty) {
  // action a number, webaclId null, no uri/httpMethod/requestId, country an array, the
  // User-Agent value a number (so the entity comes from nowhere: a custom header entity).
  const std::string record =
      R"({"timestamp":1710930600000,"webaclId":null,"action":5,"httpRequest":{"clientIp":"203.0.113.4","country":["US"],"headers":[{"name":"x-api-key","value":"team-a"},{"name":"User-Agent","value":7}]}})";
  LogReaderOptions options = WithFields(LogKind::kWaf);
  options.entity = ParseEntitySpec(LogKind::kWaf, "header:x-api-key");
  std::vector<Fields> events = Read(options, record + "\n", "waf.log");
  ASSERT_EQ(events.size(), 1u);
  const Fields& f = events[0];
  ASSERT_TRUE(f.has_fields);
  EXPECT_EQ(f.entity, "team-a");
  EXPECT_EQ(f.event_time, "2024-03-20T10:30:00.000Z");
  EXPECT_EQ(f.action, "");
  EXPECT_EQ(f.web_acl_id, "");
  EXPECT_EQ(f.uri, "");
  EXPECT_EQ(f.http_method, "");
  EXPECT_EQ(f.request_id, "");
  EXPECT_EQ(f.country, "");
  EXPECT_EQ(f.user_agent, "");
}

TEST(EventFields, WafUserAgentFoundBesideAnotherEntityHeader) {
  std::string record(kWafRecord);
  LogReaderOptions options = WithFields(LogKind::kWaf);
  options.entity = ParseEntitySpec(LogKind::kWaf, "header:x-stm-test");
  std::vector<Fields> events = Read(options, record + "\n", "waf.log");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].entity, "10 AND 1=1");
  EXPECT_EQ(events[0].user_agent, "curl/7.61.1");
}

TEST(EventFields, NullWithoutTheOption) {
  LogReaderOptions cloudtrail;
  std::vector<Fields> events = Read(cloudtrail, Gzip(RecordsFile()), "trail.json.gz");
  ASSERT_EQ(events.size(), 2u);
  for (const Fields& f : events) EXPECT_FALSE(f.has_fields);
  EXPECT_FALSE(events[0].has_time) << "no time parsed unless asked for";

  LogReaderOptions waf;
  waf.kind = LogKind::kWaf;
  waf.entity = DefaultEntitySpec(LogKind::kWaf);
  events = Read(waf, std::string(kWafRecord) + "\n" + std::string(kWafHttp2Record) + "\n", "w");
  ASSERT_EQ(events.size(), 2u);
  for (const Fields& f : events) EXPECT_FALSE(f.has_fields);
}

}  // namespace
}  // namespace ipinsights
