// ScoreLogs: every pair-yielding record scored once, in listing order, with its fields,
// whatever the thread count; flagged events handed on in order with their reasons.
#include "ipinsights/detect/log_scorer.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../testing/scratch_test.h"
#include "ipinsights/model/hyperparameters.h"

namespace ipinsights {
namespace {

std::string CloudTrailRecord(int i, const std::string& principal, const std::string& key,
                             const std::string& ip) {
  return "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"principalId\":\"" +
         principal +
         "\",\"arn\":\"arn:aws:iam::123456789012:user/u\",\"accountId\":"
         "\"123456789012\",\"accessKeyId\":\"" +
         key + "\"},\"eventTime\":\"2024-03-01T10:00:" + (i < 10 ? "0" : "") + std::to_string(i) +
         "Z\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\",\"awsRegion\":"
         "\"us-east-1\",\"sourceIPAddress\":\"" +
         ip + "\",\"userAgent\":\"aws-cli/2.15.0\",\"eventID\":\"id-" + std::to_string(i) +
         "\",\"recipientAccountId\":\"123456789012\"}";
}

class LogScorerTest : public testing::ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    Hyperparameters hp;
    hp.num_entity_vectors = 64;
    hp.vector_dim = 8;
    model_ = Model::Create(hp, 7);
    // Two objects: 30 records each, every third one from an AWS service (skipped).
    for (int object = 0; object < 2; ++object) {
      std::string records;
      for (int i = 0; i < 30; ++i) {
        if (!records.empty()) records += ",";
        if (i % 3 == 2) {
          records +=
              "{\"userIdentity\":{\"type\":\"AWSService\",\"invokedBy\":\"s3.amazonaws.com\"},"
              "\"eventTime\":\"2024-03-01T10:00:00Z\",\"sourceIPAddress\":\"s3.amazonaws.com\"}";
        } else {
          records += CloudTrailRecord(i, "AIDAUSER" + std::to_string(i % 4),
                                      i % 2 ? "AKIAEXAMPLE" : "ASIAEXAMPLE",
                                      "198.51.100." + std::to_string(i + object * 30));
        }
      }
      Write("logs/object" + std::to_string(object) + ".json", "{\"Records\":[" + records + "]}");
    }
  }

  // Scores the logs with `threads` workers into a string; `threshold` decides what is flagged.
  std::string Score(size_t threads, float threshold, bool only_flagged,
                    std::vector<ScoredEvent>* flagged, LogScoreSummary* summary) {
    auto output = OpenStorage(Path("out.ndjson")).OpenWritable(Path("out.ndjson"));
    LogScoreOptions options;
    options.inputs = {Path("logs")};
    options.threads = threads;
    options.model = model_.get();
    options.threshold = threshold;
    options.output = output.get();
    options.only_flagged = only_flagged;
    EventExplainer explainer(nullptr, nullptr, EntityKind::kPrincipalId);
    options.explainer = &explainer;
    options.on_flagged = [&](ScoredEvent&& event) { flagged->push_back(std::move(event)); };
    *summary = ScoreLogs(options);
    output->Close();
    return Read("out.ndjson");
  }

  std::shared_ptr<Model> model_;
};

TEST_F(LogScorerTest, EveryPairYieldingRecordOnceWithItsFields) {
  std::vector<ScoredEvent> flagged;
  LogScoreSummary summary;
  const std::string out = Score(1, -1e9f, false, &flagged, &summary);
  EXPECT_EQ(summary.records, 60u);
  EXPECT_EQ(summary.scored, 40u);
  EXPECT_EQ(summary.skipped[SkipReason::kAwsService], 20u);
  EXPECT_EQ(summary.written, 40u);
  EXPECT_TRUE(flagged.empty());
  simdjson::dom::parser parser;
  std::istringstream lines(out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    simdjson::dom::element event = parser.parse(line);
    // Listing order, record order: object 0's records 0,1,3,4,... then object 1's.
    const int object = n / 20;
    const int i = (n % 20) / 2 * 3 + (n % 2);
    EXPECT_EQ(std::string_view(event["eventID"]), "id-" + std::to_string(i)) << line;
    EXPECT_EQ(int64_t(event["record_index"]), i) << line;
    EXPECT_NE(std::string_view(event["object"]).find("object" + std::to_string(object) + ".json"),
              std::string_view::npos);
    EXPECT_EQ(std::string_view(event["ip"]), "198.51.100." + std::to_string(i + object * 30));
    EXPECT_EQ(std::string_view(event["eventName"]), "GetObject");
    EXPECT_EQ(std::string_view(event["eventSource"]), "s3.amazonaws.com");
    EXPECT_EQ(std::string_view(event["awsRegion"]), "us-east-1");
    EXPECT_EQ(std::string_view(event["recipientAccountId"]), "123456789012");
    EXPECT_EQ(std::string_view(event["userAgent"]), "aws-cli/2.15.0");
    EXPECT_EQ(std::string_view(event["credential_type"]), i % 2 ? "long_term" : "temporary");
    EXPECT_EQ(bool(event["anomalous"]), false);
    EXPECT_TRUE(event["false_positive_rate_at_score"].is_null());  // an uncalibrated model
    EXPECT_EQ(static_cast<float>(double(event["score"])),
              model_->Score("AIDAUSER" + std::to_string(i % 4),
                            *IpAddress::Parse("198.51.100." + std::to_string(i + object * 30))));
    ++n;
  }
  EXPECT_EQ(n, 40);
}

TEST_F(LogScorerTest, FlaggedEventsInOrderWithReasonsAndFieldsWhateverTheThreads) {
  std::vector<ScoredEvent> one, two;
  LogScoreSummary summary_one, summary_two;
  const std::string out_one = Score(1, 1e9f, true, &one, &summary_one);
  const std::string out_two = Score(2, 1e9f, true, &two, &summary_two);
  EXPECT_EQ(out_one, out_two);
  ASSERT_EQ(one.size(), 40u);
  ASSERT_EQ(two.size(), 40u);
  EXPECT_EQ(summary_one.anomalous, 40u);
  for (size_t k = 0; k < one.size(); ++k) {
    EXPECT_EQ(one[k].event_id, two[k].event_id);
    EXPECT_TRUE(one[k].anomalous);
    EXPECT_TRUE(one[k].has_time);
    EXPECT_EQ(one[k].event_name, "GetObject");
    EXPECT_EQ(one[k].account_id, "123456789012");
    EXPECT_FALSE(one[k].object.empty());
  }
  EXPECT_EQ(one[0].event_id, "id-0");
  EXPECT_EQ(one[39].event_id, "id-28");
  EXPECT_NE(out_one.find("\"reasons\":[{\"code\":\"score_below_threshold\""), std::string::npos)
      << out_one.substr(0, 500);
}

}  // namespace
}  // namespace ipinsights
