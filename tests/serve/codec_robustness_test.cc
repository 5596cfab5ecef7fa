// Random and mutated inputs through every request-side parser: no crash, and each call
// either fails with a message or returns as many entities as IPs. (A quick in-suite stand-in
// for a coverage-guided fuzzer; the seed corpus is the valid bodies below.)
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "ipinsights/serve/media_type.h"
#include "ipinsights/serve/request_codec.h"
#include "ipinsights/serve/sigv4_verifier.h"

namespace ipinsights {
namespace {

const char* const kSeeds[] = {
    "user1,1.2.3.4\nuser2, 2001:db8::1\r\n\"q,\"\"x\"\"\",10.0.0.1\n",
    R"({"instances": [{"data": {"features": {"values": ["e1", "192.168.1.2"]}}}, {"features": ["e2", "10.10.1.2"]}]})",
    "{\"features\": [\"a\", \"1.2.3.4\"]}\n{\"data\": {\"features\": {\"values\": [\"b\", "
    "\"::1\"]}}}\n",
};

std::string Mutate(std::string text, std::mt19937& random) {
  int edits = 1 + random() % 8;
  for (int i = 0; i < edits && !text.empty(); ++i) {
    size_t at = random() % text.size();
    switch (random() % 4) {
      case 0:
        text[at] = static_cast<char>(random());
        break;
      case 1:
        text.erase(at, 1 + random() % 4);
        break;
      case 2:
        text.insert(at, 1, "\",\n{}[]:\\\r "[random() % 12]);
        break;
      case 3:
        text = text.substr(0, at);
        break;
    }
  }
  return text;
}

TEST(CodecRobustness, MutatedBodiesNeverCrashAndStayConsistent) {
  std::mt19937 random(12345);
  for (int round = 0; round < 20000; ++round) {
    std::string body = Mutate(kSeeds[round % 3], random);
    for (RequestFormat format :
         {RequestFormat::kCsv, RequestFormat::kJson, RequestFormat::kJsonLines}) {
      PairBatch batch;
      std::optional<std::string> error = DecodeRequest(format, body, &batch);
      if (error) {
        EXPECT_FALSE(error->empty());
      } else {
        EXPECT_EQ(batch.entities.size(), batch.ips.size());
      }
    }
  }
}

TEST(CodecRobustness, RandomBytesNeverCrash) {
  std::mt19937 random(99);
  for (int round = 0; round < 5000; ++round) {
    std::string bytes(random() % 200, '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    for (RequestFormat format :
         {RequestFormat::kCsv, RequestFormat::kJson, RequestFormat::kJsonLines}) {
      PairBatch batch;
      DecodeRequest(format, bytes, &batch);
      EXPECT_EQ(batch.entities.size(), batch.ips.size());
    }
    ParseAccept(bytes);
    ParseContentType(bytes);
    SignedRequestView request;
    request.method = "POST";
    request.target = bytes;
    std::string authorization = "AWS4-HMAC-SHA256 " + bytes;
    request.headers = {{"Authorization", authorization}, {"X-Amz-Date", bytes}, {"Host", "h"}};
    EXPECT_TRUE(SigV4Verifier(std::map<std::string, std::string>{{"AKID", "secret"}})
                    .Verify(request, 0)
                    .has_value());
  }
}

}  // namespace
}  // namespace ipinsights
