#include "ipinsights/serve/router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>

#include "ipinsights/base/error.h"
#include "ipinsights/serve/response_codec.h"
#include "serve_test_util.h"

namespace ipinsights {
namespace {

using serve_test::Get;
using serve_test::Post;
using serve_test::SmallScorer;
using ::testing::HasSubstr;

// Two models; the loader builds a real (randomly initialised) model whose seed is the
// location's number plus a generation bumped by every reload, so reloads change scores.
class RouterTest : public ::testing::Test {
 protected:
  RouterTest()
      : metrics_({"ct", "waf"}),
        registry_(
            {{"ct", "1"}, {"waf", "2"}},
            [this](const std::string& location) -> std::shared_ptr<const Scorer> {
              if (fail_loads_) throw Error(location + ": truncated model file");
              return SmallScorer(std::stoi(location) + 100 * generation_);
            },
            &metrics_) {
    registry_.LoadAll();
  }

  HttpResponse Handle(const HttpRequestView& request, RouterOptions options = {}) {
    Router router(&registry_, &metrics_, std::move(options));
    HttpResponse response;
    router.Handle(request, &response);
    return response;
  }

  std::string Expected(uint64_t seed, std::string_view entity, std::string_view ip) {
    std::shared_ptr<const Scorer> scorer = SmallScorer(seed);
    IpAddress address = *IpAddress::Parse(ip);
    float score = 0;
    scorer->ScoreBatch(&entity, &address, 1, &score);
    std::string text;
    AppendFloat(score, &text);
    return text;
  }

  // The value of the response header `name`, or "(absent)".
  static std::string Header(const HttpResponse& response, std::string_view name) {
    for (const auto& [key, value] : response.headers) {
      if (key == name) return value;
    }
    return "(absent)";
  }

  ServerMetrics metrics_;
  std::atomic<int> generation_{0};
  std::atomic<bool> fail_loads_{false};
  ModelRegistry registry_;
};

TEST_F(RouterTest, PingIsOkWhenModelsLoaded) {
  HttpResponse response = Handle(Get("/ping"));
  EXPECT_EQ(response.status, 200);
}

TEST_F(RouterTest, InvocationsCsvScoresWithFirstModel) {
  HttpResponse response = Handle(Post("/invocations", "text/csv", "user1,1.2.3.4\n"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_STREQ(response.content_type, "application/json");
  EXPECT_EQ(response.body,
            "{\"predictions\":[{\"dot_product\":" + Expected(1, "user1", "1.2.3.4") + "}]}");
}

TEST_F(RouterTest, EndpointPathPicksModelByName) {
  HttpResponse response =
      Handle(Post("/endpoints/waf/invocations", "text/csv", "user1, 2001:db8::7"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body,
            "{\"predictions\":[{\"dot_product\":" + Expected(2, "user1", "2001:db8::7") + "}]}");
}

TEST_F(RouterTest, UnknownModelIs404) {
  HttpResponse response = Handle(Post("/endpoints/nope/invocations", "text/csv", "a,1.2.3.4"));
  EXPECT_EQ(response.status, 404);
  // SageMaker Runtime's error shape ("message" and x-amzn-ErrorType, which boto3 reads),
  // with "error" kept for curl users.
  EXPECT_EQ(
      response.body,
      "{\"error\":\"no model named \\\"nope\\\"\",\"message\":\"no model named \\\"nope\\\"\"}");
  EXPECT_EQ(Header(response, "x-amzn-ErrorType"), "ValidationError");
  EXPECT_EQ(response.error, "no model named \"nope\"");
}

TEST_F(RouterTest, UnknownRouteIs404) { EXPECT_EQ(Handle(Get("/nothing")).status, 404); }

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  HttpResponse response = Handle(Get("/invocations"));
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.headers.size(), 2u);
  EXPECT_EQ(Header(response, "Allow"), "POST");
  EXPECT_EQ(Header(response, "x-amzn-ErrorType"), "ValidationError");
  EXPECT_EQ(Handle(Post("/ping", "text/csv", "")).status, 405);
}

TEST_F(RouterTest, UnsupportedAcceptIs406) {
  HttpResponse response = Handle(Post("/invocations", "text/csv", "a,1.2.3.4", "text/html"));
  EXPECT_EQ(response.status, 406);
  EXPECT_THAT(response.body, HasSubstr("unsupported Accept"));
}

TEST_F(RouterTest, UnsupportedContentTypeIs415) {
  HttpResponse response = Handle(Post("/invocations", "application/x-protobuf", "a,1.2.3.4"));
  EXPECT_EQ(response.status, 415);
  EXPECT_THAT(response.body, HasSubstr("unsupported Content-Type"));
}

TEST_F(RouterTest, BodyOverLimitIs413) {
  RouterOptions options;
  options.max_body_bytes = 8;
  EXPECT_EQ(Handle(Post("/invocations", "text/csv", "user1,1.2.3.4"), options).status, 413);
}

TEST_F(RouterTest, BadLineIs400NamingIt) {
  HttpResponse response = Handle(Post("/invocations", "text/csv", "a,1.2.3.4\nb,300.1.1.1\n"));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body,
            "{\"error\":\"line 2: bad IP \\\"300.1.1.1\\\"\",\"message\":\"line 2: bad IP "
            "\\\"300.1.1.1\\\"\"}");
}

TEST_F(RouterTest, InvalidJsonIs400) {
  HttpResponse response = Handle(Post("/invocations", "application/json", "{\"instances\": [}"));
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(response.body, HasSubstr("invalid JSON"));
}

TEST_F(RouterTest, EmptyBodyIs400) {
  EXPECT_EQ(Handle(Post("/invocations", "text/csv", "")).status, 400);
}

TEST_F(RouterTest, JsonInJsonLinesOut) {
  HttpResponse response =
      Handle(Post("/invocations", "application/json",
                  R"({"instances": [{"data": {"features": {"values": ["u1", "1.2.3.4"]}}},
                                                        {"features": ["u2", "10.0.0.1"]}]})",
                  "application/jsonlines"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_STREQ(response.content_type, "application/jsonlines");
  EXPECT_EQ(response.body, "{\"dot_product\":" + Expected(1, "u1", "1.2.3.4") +
                               "}\n{\"dot_product\":" + Expected(1, "u2", "10.0.0.1") + "}\n");
}

TEST_F(RouterTest, JsonLinesInJsonOut) {
  HttpResponse response = Handle(
      Post("/invocations", "application/jsonlines",
           "{\"features\": [\"u1\", \"1.2.3.4\"]}\n{\"features\": [\"u2\", \"::1\"]}\n", "*/*"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body, "{\"predictions\":[{\"dot_product\":" + Expected(1, "u1", "1.2.3.4") +
                               "},{\"dot_product\":" + Expected(1, "u2", "::1") + "}]}");
}

// verbose=True: the embeddings are the model's, and dot_product is exactly their dot
// product as a client computes it from the printed numbers (double sum, rounded once).
TEST_F(RouterTest, VerboseDotProductEqualsDotOfEmbeddings) {
  for (std::string_view accept :
       {"application/json; verbose=True", "application/json;verbose=True"}) {
    HttpResponse response =
        Handle(Post("/invocations", "text/csv", "u1,1.2.3.4\nu2,2001:db8::1\n", accept));
    ASSERT_EQ(response.status, 200) << response.body;
    simdjson::dom::parser parser;
    simdjson::dom::element root = parser.parse(response.body);
    size_t count = 0;
    for (simdjson::dom::element prediction : root["predictions"].get_array()) {
      std::vector<double> entity, ip;
      for (double v : prediction["entity_embedding"].get_array()) entity.push_back(v);
      for (double v : prediction["ip_embedding"].get_array()) ip.push_back(v);
      ASSERT_EQ(entity.size(), 8u);
      ASSERT_EQ(ip.size(), 8u);
      double dot = 0;
      for (size_t k = 0; k < entity.size(); ++k)
        dot += static_cast<double>(static_cast<float>(entity[k])) * static_cast<float>(ip[k]);
      EXPECT_EQ(static_cast<float>(static_cast<double>(prediction["dot_product"])),
                static_cast<float>(dot));
      ++count;
    }
    EXPECT_EQ(count, 2u);
  }
}

TEST_F(RouterTest, HugeVerboseAnswerIs413) {
  std::string body;
  for (int i = 0; i < (1 << 20) + 1; ++i) body += "u,::\n";  // 2^20 pairs x 2 x 8 floats > 2^24
  HttpResponse response =
      Handle(Post("/invocations", "text/csv", body, "application/json;verbose=True"));
  EXPECT_EQ(response.status, 413);
  EXPECT_THAT(response.body, HasSubstr("send at most 1048576 pairs per verbose request"));
}

TEST_F(RouterTest, ExecutionParameters) {
  HttpResponse response = Handle(Get("/execution-parameters"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body,
            R"({"MaxConcurrentTransforms":4,"BatchStrategy":"MULTI_RECORD","MaxPayloadInMB":6})");
}

TEST_F(RouterTest, MetricsCountRequestsPairsAndErrors) {
  Handle(Post("/invocations", "text/csv", "a,1.2.3.4\nb,1.2.3.5\n"));
  Handle(Post("/endpoints/waf/invocations", "text/csv", "a,1.2.3.4\n"));
  Handle(Post("/invocations", "text/csv", "a,bad\n"));
  HttpResponse response = Handle(Get("/metrics"));
  ASSERT_EQ(response.status, 200);
  EXPECT_THAT(response.content_type, HasSubstr("text/plain"));
  EXPECT_THAT(response.body,
              HasSubstr("ipinsights_requests_total{route=\"/invocations\",status=\"200\"} 1\n"));
  EXPECT_THAT(response.body,
              HasSubstr("ipinsights_requests_total{route=\"/invocations\",status=\"400\"} 1\n"));
  EXPECT_THAT(response.body,
              HasSubstr("ipinsights_request_errors_total{route=\"/invocations\"} 1\n"));
  EXPECT_THAT(response.body, HasSubstr("ipinsights_pairs_scored_total{model=\"ct\"} 2\n"));
  EXPECT_THAT(response.body, HasSubstr("ipinsights_pairs_scored_total{model=\"waf\"} 1\n"));
  EXPECT_THAT(response.body, HasSubstr("ipinsights_request_duration_seconds_count{route=\"/"
                                       "endpoints/{name}/invocations\"} 1\n"));
}

TEST_F(RouterTest, AdminReloadOffWithoutToken) {
  EXPECT_EQ(Handle(Post("/admin/reload", "", "")).status, 404);
}

TEST_F(RouterTest, AdminReloadNeedsTheToken) {
  RouterOptions options;
  options.admin_token = "s3cret";
  HttpRequestView request = Post("/admin/reload", "", "");
  request.authorization = "Bearer wrong";
  EXPECT_EQ(Handle(request, options).status, 403);
}

TEST_F(RouterTest, AdminReloadSwapsModels) {
  RouterOptions options;
  options.admin_token = "s3cret";
  std::string before = Handle(Post("/invocations", "text/csv", "u,1.2.3.4")).body;
  generation_ = 1;
  HttpRequestView request = Post("/admin/reload", "", "");
  request.authorization = "Bearer s3cret";
  HttpResponse reload = Handle(request, options);
  EXPECT_EQ(reload.status, 200);
  EXPECT_EQ(reload.body, R"({"reloaded":["ct","waf"],"failed":[]})");
  std::string after = Handle(Post("/invocations", "text/csv", "u,1.2.3.4")).body;
  EXPECT_NE(before, after);
  EXPECT_EQ(after, "{\"predictions\":[{\"dot_product\":" + Expected(101, "u", "1.2.3.4") + "}]}");
}

TEST_F(RouterTest, FailedReloadKeepsOldModelAndIsReported) {
  std::string before = Handle(Post("/invocations", "text/csv", "u,1.2.3.4")).body;
  fail_loads_ = true;
  generation_ = 1;
  ModelRegistry::ReloadResult result = registry_.Reload();
  ASSERT_EQ(result.failed.size(), 2u);
  EXPECT_EQ(result.failed[0], "ct: 1: truncated model file");
  EXPECT_EQ(Handle(Post("/invocations", "text/csv", "u,1.2.3.4")).body, before);
  std::string metrics = Handle(Get("/metrics")).body;
  EXPECT_THAT(metrics, HasSubstr("ipinsights_model_load_failures_total{model=\"ct\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("ipinsights_model_last_load_failed{model=\"ct\"} 1\n"));
}

TEST(ModelSpec, NameFromStemOrExplicit) {
  EXPECT_EQ(ParseModelSpec("models/ct.ipinsights").name, "ct");
  EXPECT_EQ(ParseModelSpec("waf=/x/y.ipinsights").name, "waf");
  EXPECT_EQ(ParseModelSpec("waf=/x/y.ipinsights").location, "/x/y.ipinsights");
  EXPECT_THROW(ParseModelSpec("=x"), UsageError);
  EXPECT_THROW(ParseModelSpec("a b=x"), UsageError);
}

}  // namespace
}  // namespace ipinsights
