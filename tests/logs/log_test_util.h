// Helpers for the log reader tests: gzip, a collecting sink, record builders.
#pragma once

#include <zlib.h>

#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/base/error.h"
#include "ipinsights/logs/log_reader.h"

namespace ipinsights::testing {

// One gzip member holding `text`. Level 0 makes stored blocks: the text appears as is, so a
// test can change one byte of it and leave the deflate stream valid (only the CRC fails).
inline std::string Gzip(std::string_view text, int level = 6) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw Error("deflateInit2");
  }
  std::string out(deflateBound(&zs, text.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int ret = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (ret != Z_STREAM_END) throw Error("deflate");
  out.resize(zs.total_out);
  return out;
}

struct Pair {
  std::string entity;
  std::string ip;
  bool has_time = false;
  int64_t time = 0;
  bool operator==(const Pair& o) const { return entity == o.entity && ip == o.ip; }
};

class CollectingSink : public EventSink {
 public:
  void Add(const LogEvent& event) override {
    pairs.push_back({std::string(event.entity), event.ip.ToString(), event.has_time, event.time});
  }
  std::vector<std::string> Rows() const {
    std::vector<std::string> rows;
    for (const Pair& p : pairs) rows.push_back(p.entity + "," + p.ip);
    return rows;
  }
  std::vector<Pair> pairs;
};

// A CloudTrail record for an IAM user.
inline std::string IamUserRecord(std::string_view principal, std::string_view ip,
                                 std::string_view time = "2024-05-01T12:00:00Z") {
  return std::string(R"({"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":")") +
         std::string(principal) + R"(","arn":"arn:aws:iam::111122223333:user/)" +
         std::string(principal) + R"(","accountId":"111122223333","accessKeyId":"AKIA)" +
         std::string(principal) + R"(","userName":"u)" + std::string(principal) +
         R"("},"eventTime":")" + std::string(time) +
         R"(","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":")" +
         std::string(ip) +
         R"(","userAgent":"aws-cli/2.0","requestParameters":{"bucketName":"b","key":"k"},"responseElements":null,"requestID":"R1","eventID":"E1","readOnly":true,"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"111122223333"})";
}

// A WAF record with the given headers JSON array text.
inline std::string WafRecord(std::string_view ip, std::string_view headers_json,
                             int64_t timestamp_ms = 1714564800000) {
  return std::string(R"({"timestamp":)") + std::to_string(timestamp_ms) +
         R"(,"formatVersion":1,"webaclId":"arn:aws:wafv2:us-east-1:111122223333:regional/webacl/w/1","terminatingRuleId":"Default_Action","terminatingRuleType":"REGULAR","action":"ALLOW","ruleGroupList":[],"rateBasedRuleList":[],"nonTerminatingMatchingRules":[],"httpSourceName":"ALB","httpSourceId":"alb","httpRequest":{"clientIp":")" +
         std::string(ip) + R"(","country":"US","headers":)" + std::string(headers_json) +
         R"(,"uri":"/","args":"","httpVersion":"HTTP/1.1","httpMethod":"GET","requestId":"r1"}})";
}

}  // namespace ipinsights::testing
