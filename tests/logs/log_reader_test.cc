#include "ipinsights/logs/log_reader.h"

#include <gtest/gtest.h>

#include <string>

#include "log_test_util.h"

namespace ipinsights {
namespace {

using ::ipinsights::testing::CollectingSink;
using ::ipinsights::testing::Gzip;
using ::ipinsights::testing::IamUserRecord;
using ::ipinsights::testing::WafRecord;

LogReaderOptions CloudTrail() { return LogReaderOptions(); }

LogReaderOptions Waf() {
  LogReaderOptions options;
  options.kind = LogKind::kWaf;
  options.entity = DefaultEntitySpec(LogKind::kWaf);
  return options;
}

// Small budgets force the streaming path through every container.
LogReaderOptions Streaming(LogReaderOptions options) {
  options.memory_budget = 1;
  options.stream_chunk = 97;  // odd, tiny chunks: records straddle every boundary
  return options;
}

struct Result {
  FileReport report;
  std::vector<std::string> rows;
  std::vector<std::string> problems;  // what the reader reported, formatted
};

Result ReadText(const LogReaderOptions& options, std::string_view bytes,
                std::string_view name = "logs/test.json") {
  LogFileReader reader(options);
  CollectingSink sink;
  BadRecordLog bad_records(1000);
  Result result;
  result.report = reader.ReadBytes(name, bytes, sink, &bad_records);
  result.rows = sink.Rows();
  result.problems = bad_records.messages();
  EXPECT_EQ(bad_records.count(), result.report.skipped[SkipReason::kMalformed]);
  return result;
}

std::string ThreeRecords(std::string_view separator) {
  return IamUserRecord("A1", "192.0.2.1") + std::string(separator) +
         IamUserRecord("A2", "192.0.2.2") + std::string(separator) +
         IamUserRecord("A3", "2001:db8::3");
}

const std::vector<std::string> kThreeRows = {"A1,192.0.2.1", "A2,192.0.2.2", "A3,2001:db8::3"};

void ExpectThreeRows(const Result& result) {
  EXPECT_EQ(result.rows, kThreeRows);
  EXPECT_EQ(result.report.records, 3u);
  EXPECT_EQ(result.report.pairs, 3u);
  EXPECT_TRUE(result.problems.empty()) << result.problems.front();
}

TEST(LogFileReader, ReadsRecordsContainer) {
  ExpectThreeRows(ReadText(CloudTrail(), "{\"Records\":[" + ThreeRecords(",") + "]}"));
}

TEST(LogFileReader, ReadsTopLevelArray) {
  ExpectThreeRows(ReadText(CloudTrail(), "[" + ThreeRecords(",") + "]"));
}

TEST(LogFileReader, ReadsNewlineDelimitedRecords) {
  ExpectThreeRows(ReadText(CloudTrail(), ThreeRecords("\n") + "\n"));
}

TEST(LogFileReader, ReadsObjectsConcatenatedWithoutSeparator) {
  ExpectThreeRows(ReadText(CloudTrail(), ThreeRecords("")));
}

TEST(LogFileReader, ReadsPrettyPrintedRecordsFile) {
  std::string text = "{\n  \"Records\": [\n    " + ThreeRecords(",\n    ") + "\n  ]\n}\n";
  ExpectThreeRows(ReadText(CloudTrail(), text));
}

TEST(LogFileReader, ReadsEveryContainerWhenStreaming) {
  for (const std::string& text :
       {"{\"Records\":[" + ThreeRecords(",") + "]}", "[" + ThreeRecords(" , ") + "]",
        ThreeRecords("\n"), ThreeRecords(""),
        "{\n \"Records\" : [\n" + ThreeRecords(",\n") + "\n]\n}"}) {
    SCOPED_TRACE(text.substr(0, 20));
    ExpectThreeRows(ReadText(Streaming(CloudTrail()), text));
    ExpectThreeRows(ReadText(Streaming(CloudTrail()), Gzip(text)));
  }
}

TEST(LogFileReader, GzipAndPlainGiveTheSameRows) {
  std::string text = "{\"Records\":[" + ThreeRecords(",") + "]}";
  Result plain = ReadText(CloudTrail(), text, "a.json");
  Result gzipped = ReadText(CloudTrail(), Gzip(text), "a.json");  // no .gz: content decides
  EXPECT_EQ(plain.rows, gzipped.rows);
  EXPECT_EQ(gzipped.report.json_bytes, text.size());
  EXPECT_LT(gzipped.report.stored_bytes, text.size());
}

TEST(LogFileReader, ReadsMultiMemberGzip) {
  std::string text = Gzip(IamUserRecord("A1", "192.0.2.1") + "\n") +
                     Gzip(IamUserRecord("A2", "192.0.2.2") + "\n") +
                     Gzip(IamUserRecord("A3", "2001:db8::3") + "\n");
  ExpectThreeRows(ReadText(CloudTrail(), text));
  ExpectThreeRows(ReadText(Streaming(CloudTrail()), text));
}

TEST(LogFileReader, TruncatedGzipIsAnErrorNamingTheFile) {
  std::string text;
  for (int i = 0; i < 200; ++i) text += IamUserRecord("A" + std::to_string(i), "192.0.2.1") + "\n";
  std::string gz = Gzip(text);
  gz.resize(gz.size() / 2);
  Result result = ReadText(CloudTrail(), gz, "logs/cut.json.gz");
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_NE(result.problems[0].find("logs/cut.json.gz: truncated gzip data"), std::string::npos)
      << result.problems[0];
  EXPECT_EQ(result.report.skipped[SkipReason::kMalformed], 1u);
  // What decoded before the cut is kept.
  EXPECT_GT(result.rows.size(), 20u);
  EXPECT_LT(result.rows.size(), 200u);
}

TEST(LogFileReader, BadLineInNewlineDelimitedFileSkipsOnlyThatLine) {
  std::string first = IamUserRecord("A1", "192.0.2.1") + "\n";
  std::string bad = "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\"}, oops}\n";
  std::string text = first + bad + IamUserRecord("A3", "192.0.2.3") + "\n";
  for (const LogReaderOptions& options : {CloudTrail(), Streaming(CloudTrail())}) {
    Result result = ReadText(options, text, "logs/mixed.json");
    EXPECT_EQ(result.rows, (std::vector<std::string>{"A1,192.0.2.1", "A3,192.0.2.3"}));
    ASSERT_EQ(result.problems.size(), 1u);
    size_t offset = first.size() + bad.find("oops");
    EXPECT_EQ(result.problems[0],
              "logs/mixed.json: byte " + std::to_string(offset) +
                  ": malformed JSON (expected a quoted object key, found unexpected 'o')");
    EXPECT_EQ(result.report.records, 3u);
    EXPECT_EQ(result.report.skipped[SkipReason::kMalformed], 1u);
  }
}

TEST(LogFileReader, ErrorInRecordsFileKeepsRecordsBeforeIt) {
  std::string head = "{\"Records\":[" + IamUserRecord("A1", "192.0.2.1") + "," +
                     IamUserRecord("A2", "192.0.2.2") + ",";
  std::string text = head + "{\"userIdentity\":{\"type\":\"IAMUser\" \"x\":1}}," +
                     IamUserRecord("A4", "192.0.2.4") + "]}";
  for (const LogReaderOptions& options : {CloudTrail(), Streaming(CloudTrail())}) {
    Result result = ReadText(options, text, "logs/broken.json");
    EXPECT_EQ(result.rows, (std::vector<std::string>{"A1,192.0.2.1", "A2,192.0.2.2"}));
    ASSERT_EQ(result.problems.size(), 1u);
    size_t offset = head.size() + std::string("{\"userIdentity\":{\"type\":\"IAMUser\" ").size();
    EXPECT_EQ(result.problems[0],
              "logs/broken.json: byte " + std::to_string(offset) +
                  ": malformed JSON (expected ',' or '}' after an object member, found "
                  "unexpected '\"')");
  }
}

TEST(LogFileReader, EmptyInputHasNoRecordsAndNoProblems) {
  for (std::string text : {"", "   \n\r\n", "{\"Records\":[]}", "[]", "\xEF\xBB\xBF"}) {
    for (const LogReaderOptions& options : {CloudTrail(), Streaming(CloudTrail())}) {
      Result result = ReadText(options, text);
      EXPECT_EQ(result.report.records, 0u);
      EXPECT_TRUE(result.problems.empty()) << result.problems.front();
      Result gz = ReadText(options, Gzip(text));
      EXPECT_EQ(gz.report.records, 0u);
      EXPECT_TRUE(gz.problems.empty()) << gz.problems.front();
    }
  }
}

TEST(LogFileReader, ReadsARecordOfSeveralMegabytes) {
  std::string big(5 << 20, 'x');
  std::string record =
      R"({"userIdentity":{"type":"IAMUser","principalId":"BIG"},"requestParameters":{"policy":")" +
      big + R"("},"sourceIPAddress":"198.51.100.7"})";
  std::string text = IamUserRecord("A1", "192.0.2.1") + "\n" + record + "\n" +
                     IamUserRecord("A2", "192.0.2.2") + "\n";
  std::vector<std::string> expected = {"A1,192.0.2.1", "BIG,198.51.100.7", "A2,192.0.2.2"};
  EXPECT_EQ(ReadText(CloudTrail(), text).rows, expected);
  EXPECT_EQ(ReadText(CloudTrail(), Gzip(text)).rows, expected);
  LogReaderOptions streaming = CloudTrail();
  streaming.memory_budget = 1;
  EXPECT_EQ(ReadText(streaming, Gzip(text)).rows, expected);
}

TEST(LogFileReader, AcceptsByteOrderMarkAndCrlf) {
  std::string text = "\xEF\xBB\xBF" + ThreeRecords("\r\n") + "\r\n";
  ExpectThreeRows(ReadText(CloudTrail(), text));
  ExpectThreeRows(ReadText(Streaming(CloudTrail()), Gzip(text)));
  ExpectThreeRows(
      ReadText(CloudTrail(), "\xEF\xBB\xBF{\"Records\":[\r\n" + ThreeRecords(",\r\n") + "]}\r\n"));
}

TEST(LogFileReader, SkipsDigestFilesByKeyAndByShape) {
  Result by_key = ReadText(CloudTrail(), ThreeRecords("\n"),
                           "AWSLogs/1/CloudTrail-Digest/us-east-1/2024/05/01/x.json.gz");
  EXPECT_TRUE(by_key.report.digest);
  EXPECT_EQ(by_key.report.records, 0u);
  EXPECT_EQ(by_key.report.skipped[SkipReason::kDigest], 1u);
  std::string digest =
      R"({"awsAccountId":"111122223333","digestStartTime":"2024-05-01T00:00:00Z","digestEndTime":"2024-05-01T01:00:00Z","digestS3Bucket":"b","digestS3Object":"k","logFiles":[]})";
  Result by_shape = ReadText(CloudTrail(), Gzip(digest), "other/name.json.gz");
  EXPECT_TRUE(by_shape.report.digest);
  EXPECT_EQ(by_shape.report.records, 0u);
  EXPECT_TRUE(by_shape.rows.empty());
}

std::string Record(std::string_view identity, std::string_view ip) {
  return std::string(R"({"eventTime":"2024-05-01T00:00:00Z","userIdentity":)") +
         std::string(identity) + R"(,"sourceIPAddress":")" + std::string(ip) + "\"}";
}

TEST(LogFileReader, CountsEverySkipReason) {
  const std::string user = R"({"type":"IAMUser","principalId":"P"})";
  std::string text =
      Record(R"({"type":"AWSService","invokedBy":"ec2.amazonaws.com"})", "ec2.amazonaws.com") +
      "\n" + Record(user, "ec2.amazonaws.com") + "\n" + Record(user, "AWS Internal") + "\n" +
      Record(user, "30.*.0.210") + "\n" + Record(user, "81.2.69.142, 192.168.10.10") + "\n" +
      Record(user, "010.1.2.3") + "\n" +
      R"({"userIdentity":{"type":"IAMUser","principalId":"P"}})" + "\n" +
      Record(R"({"type":"IdentityCenterUser","arn":""})", "192.0.2.1") + "\n" +
      Record(R"({"type":"IAMUser","principalId":""})", "192.0.2.1") + "\n" +
      R"({"sourceIPAddress":"192.0.2.1"})" + "\n" + Record(user, "2001:db8::1") + "\n" +
      Record(user, "192.0.2.9") + "\n" + "not json\n";
  LogReaderOptions options = CloudTrail();
  options.ipv4_only = true;
  Result result = ReadText(options, text);
  const SkipCounts& s = result.report.skipped;
  EXPECT_EQ(s[SkipReason::kAwsService], 1u);
  EXPECT_EQ(s[SkipReason::kNotAnIp], 6u);  // host name, AWS Internal, masked, list, 010, missing
  EXPECT_EQ(s[SkipReason::kNoEntity], 3u);
  EXPECT_EQ(s[SkipReason::kIpv6], 1u);
  EXPECT_EQ(s[SkipReason::kMalformed], 1u);
  EXPECT_EQ(result.rows, (std::vector<std::string>{"P,192.0.2.9"}));
  EXPECT_EQ(result.report.records, 13u);
  EXPECT_EQ(result.report.records, result.report.pairs + s.Total());
  // Without --ipv4-only, IPv6 is a pair.
  EXPECT_EQ(ReadText(CloudTrail(), text).rows,
            (std::vector<std::string>{"P,2001:db8::1", "P,192.0.2.9"}));
}

TEST(LogFileReader, FiltersRecordsByTheirOwnEventTime) {
  std::string text = IamUserRecord("A1", "192.0.2.1", "2024-04-30T23:59:59Z") + "\n" +
                     IamUserRecord("A2", "192.0.2.2", "2024-05-01T00:00:00Z") + "\n" +
                     IamUserRecord("A3", "192.0.2.3", "2024-05-02T23:59:59.999Z") + "\n" +
                     IamUserRecord("A4", "192.0.2.4", "2024-05-03T00:00:00Z") + "\n";
  LogReaderOptions options = CloudTrail();
  options.from_seconds = int64_t{1714521600};            // 2024-05-01
  options.to_seconds = int64_t{1714521600} + 2 * 86400;  // through 2024-05-02
  Result result = ReadText(options, text);
  EXPECT_EQ(result.rows, (std::vector<std::string>{"A2,192.0.2.2", "A3,192.0.2.3"}));
  EXPECT_EQ(result.report.skipped[SkipReason::kOutOfRange], 2u);

  LogReaderOptions waf = Waf();
  waf.from_seconds = options.from_seconds;
  waf.to_seconds = options.to_seconds;
  const char* ua = R"([{"name":"User-Agent","value":"ua"}])";
  std::string waf_text = WafRecord("192.0.2.1", ua, 1714521599999) + "\n" +
                         WafRecord("192.0.2.2", ua, 1714521600000) + "\n";
  Result waf_result = ReadText(waf, waf_text);
  EXPECT_EQ(waf_result.rows, (std::vector<std::string>{"ua,192.0.2.2"}));
  EXPECT_EQ(waf_result.report.skipped[SkipReason::kOutOfRange], 1u);
}

TEST(LogFileReader, ReportsEventTimeWhenAsked) {
  LogReaderOptions options = CloudTrail();
  options.want_event_time = true;
  LogFileReader reader(options);
  testing::CollectingSink sink;
  reader.ReadBytes("t.json", IamUserRecord("A1", "192.0.2.1", "2024-05-01T12:00:00Z"), sink);
  ASSERT_EQ(sink.pairs.size(), 1u);
  EXPECT_TRUE(sink.pairs[0].has_time);
  EXPECT_EQ(sink.pairs[0].time, 1714564800);
}

TEST(LogFileReader, WafUserAgentHeaderNameIsCaseInsensitiveAndDotsAndCommasGo) {
  std::string text =
      WafRecord(
          "192.0.2.1",
          R"j([{"name":"Host","value":"x"},{"name":"User-Agent","value":"Mozilla/5.0 (X11, Linux)"}])j") +
      "\n" + WafRecord("192.0.2.2", R"([{"name":"user-agent","value":"curl/7.61.1"}])") + "\n" +
      WafRecord("192.0.2.3", R"([{"name":"USER-AGENT","value":"a\/b.c"}])") + "\n" +
      WafRecord("192.0.2.4", R"([{"name":"Host","value":"x"}])") + "\n" +
      WafRecord("192.0.2.5", R"([{"name":"User-Agent","value":"..,"}])") + "\n";
  Result result = ReadText(Waf(), text);
  EXPECT_EQ(result.rows, (std::vector<std::string>{"Mozilla/50 (X11 Linux),192.0.2.1",
                                                   "curl/7611,192.0.2.2", "a/bc,192.0.2.3"}));
  EXPECT_EQ(result.report.skipped[SkipReason::kNoEntity], 2u);
}

TEST(LogFileReader, WafHeaderEntityKeepsTheValue) {
  LogReaderOptions options = Waf();
  options.entity = ParseEntitySpec(LogKind::kWaf, "header:X-Api-Key");
  std::string text = WafRecord("192.0.2.1", R"([{"name":"x-api-key","value":"k.1,2"}])");
  EXPECT_EQ(ReadText(options, text).rows, (std::vector<std::string>{"k.1,2,192.0.2.1"}));
}

TEST(LogFileReader, WafTimestampAsTextIsAccepted) {
  LogReaderOptions options = Waf();
  options.want_event_time = true;
  LogFileReader reader(options);
  testing::CollectingSink sink;
  std::string text =
      R"({"timestamp": "2024-03-20T10:30:00.000Z", "httpRequest": {"clientIp": "192.0.2.1", "headers": [{"name": "User-Agent", "value": "ua"}]}})";
  reader.ReadBytes("w", text, sink);
  ASSERT_EQ(sink.pairs.size(), 1u);
  EXPECT_EQ(sink.pairs[0].time, 1710930600);
}

// Entity extraction for every userIdentity shape real logs have.
struct ShapeCase {
  const char* name;
  const char* identity;
  const char* principal_id;
  const char* arn;
  const char* access_key_id;
  const char* user_name;
  const char* session;
};

TEST(LogFileReader, ExtractsEntitiesForEveryUserIdentityShape) {
  const ShapeCase cases[] = {
      {"IAMUser",
       R"({"type":"IAMUser","principalId":"AIDAEX","arn":"arn:aws:iam::1:user/alice","accountId":"1","accessKeyId":"AKIAEX","userName":"alice"})",
       "AIDAEX", "arn:aws:iam::1:user/alice", "AKIAEX", "alice", "arn:aws:iam::1:user/alice"},
      {"AssumedRole",
       R"({"type":"AssumedRole","principalId":"AROAEX:i-0abc","arn":"arn:aws:sts::1:assumed-role/Web/i-0abc","accountId":"1","accessKeyId":"ASIAEX","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEX","arn":"arn:aws:iam::1:role/Web","accountId":"1","userName":"Web"},"attributes":{"creationDate":"2024-05-01T00:00:00Z","mfaAuthenticated":"false"},"ec2RoleDelivery":"2.0"}})",
       "AROAEX:i-0abc", "arn:aws:sts::1:assumed-role/Web/i-0abc", "ASIAEX", "Web",
       "arn:aws:sts::1:assumed-role/Web/i-0abc"},
      {"FederatedUser",
       R"({"type":"FederatedUser","principalId":"1:bob","arn":"arn:aws:sts::1:federated-user/bob","accountId":"1","accessKeyId":"ASIAFED","sessionContext":{"sessionIssuer":{"type":"IAMUser","principalId":"AIDAX","arn":"arn:aws:iam::1:user/fed","accountId":"1","userName":"fed"}}})",
       "1:bob", "arn:aws:sts::1:federated-user/bob", "ASIAFED", "fed",
       "arn:aws:sts::1:federated-user/bob"},
      {"Root",
       R"({"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333","accessKeyId":"ASIAROOT"})",
       "111122223333", "arn:aws:iam::111122223333:root", "ASIAROOT", "",
       "arn:aws:iam::111122223333:root"},
      {"AWSAccount",
       R"({"type":"AWSAccount","principalId":"AIDAOTHER:x","accountId":"444455556666"})",
       "AIDAOTHER:x", "", "", "", ""},
      {"SAMLUser",
       R"({"type":"SAMLUser","principalId":"SAMPLE:user@example.com","userName":"user@example.com","identityProvider":"arn:aws:iam::1:saml-provider/idp"})",
       "SAMPLE:user@example.com", "", "", "user@example.com", ""},
      {"IdentityCenterUser",
       R"({"type":"IdentityCenterUser","arn":"","accountId":"1","accessKeyId":"","onBehalfOf":{"userId":"u-1","identityStoreArn":"arn:aws:identitystore::1:identitystore/d-1"},"credentialId":"c"})",
       "", "", "", "", ""},
      {"missing type", R"({"principalId":"ANON","arn":"arn:aws:iam::1:user/x"})", "ANON",
       "arn:aws:iam::1:user/x", "", "", "arn:aws:iam::1:user/x"},
  };
  const std::pair<const char*, const char * ShapeCase::*> kinds[] = {
      {"principalId", &ShapeCase::principal_id},
      {"arn", &ShapeCase::arn},
      {"accessKeyId", &ShapeCase::access_key_id},
      {"userName", &ShapeCase::user_name},
      {"session", &ShapeCase::session}};
  for (const ShapeCase& c : cases) {
    for (const auto& [kind, member] : kinds) {
      SCOPED_TRACE(std::string(c.name) + " / " + kind);
      LogReaderOptions options = CloudTrail();
      options.entity = ParseEntitySpec(LogKind::kCloudTrail, kind);
      Result result = ReadText(options, Record(c.identity, "203.0.113.5"));
      std::string expected = c.*member;
      if (expected.empty()) {
        EXPECT_TRUE(result.rows.empty());
        EXPECT_EQ(result.report.skipped[SkipReason::kNoEntity], 1u);
      } else {
        EXPECT_EQ(result.rows, (std::vector<std::string>{expected + ",203.0.113.5"}));
      }
    }
  }
  // AWSService callers are skipped whatever the entity.
  Result service =
      ReadText(CloudTrail(),
               Record(R"({"type":"AWSService","invokedBy":"lambda.amazonaws.com"})", "192.0.2.1"));
  EXPECT_EQ(service.report.skipped[SkipReason::kAwsService], 1u);
  EXPECT_TRUE(service.rows.empty());
}

TEST(LogFileReader, NonObjectRecordIsMalformedWithItsOffset) {
  std::string text = "{\"Records\":[" + IamUserRecord("A1", "192.0.2.1") + ",42]}";
  Result result = ReadText(CloudTrail(), text, "n.json");
  EXPECT_EQ(result.rows, (std::vector<std::string>{"A1,192.0.2.1"}));
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0], "n.json: byte " + std::to_string(text.find(",42") + 1) +
                                    ": malformed JSON (a record that is not a JSON object)");
}

TEST(LogFileReader, OutputsCanonicalIpText) {
  Result result = ReadText(CloudTrail(), IamUserRecord("A1", "2001:DB8:0:0:0:0:0:1") + "\n" +
                                             IamUserRecord("A2", "::ffff:192.0.2.1"));
  EXPECT_EQ(result.rows, (std::vector<std::string>{"A1,2001:db8::1", "A2,192.0.2.1"}));
}

// A strict reporter stops the read at the first bad record, with that record's message;
// the same reader then reads the next object normally.
TEST(LogFileReader, AStrictReporterStopsTheReadAndTheReaderGoesOn) {
  LogFileReader reader(CloudTrail());
  CollectingSink sink;
  BadRecordLog strict(BadRecordLog::kDefaultCap, /*strict=*/true);
  const std::string bad = IamUserRecord("A1", "192.0.2.1") + "\n{\"broken\": }\n" +
                          IamUserRecord("A2", "192.0.2.2") + "\n";
  try {
    reader.ReadBytes("logs/bad.json", bad, sink, &strict);
    FAIL() << "no Error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("logs/bad.json: byte ", 0), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find(": malformed JSON ("), std::string::npos) << e.what();
  }
  CollectingSink next;
  FileReport report = reader.ReadBytes("logs/good.json", ThreeRecords("\n"), next, &strict);
  EXPECT_EQ(next.Rows(), kThreeRows);
  EXPECT_EQ(report.records, 3u);
}

}  // namespace
}  // namespace ipinsights
