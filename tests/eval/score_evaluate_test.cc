// `score` and `evaluate` against hand-computed values on a tiny model whose weights are set
// by hand, run through the real binary (IPINSIGHTS_BINARY) in a temporary folder.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "../testing/command.h"
#include "../testing/sanitized.h"
#include "../testing/scratch_test.h"
#include "ipinsights/base/bad_record.h"
#include "ipinsights/dataset/pair_reader.h"
#include "ipinsights/eval/evaluation.h"
#include "ipinsights/eval/pair_scoring.h"
#include "ipinsights/model/ip_encoder.h"
#include "ipinsights/model/model.h"
#include "ipinsights/model/model_impl.h"
#include "ipinsights/serve/request_codec.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

namespace fs = std::filesystem;

using testing::CommandResult;
using testing::ReadFileBytes;

class TinyModel : public testing::ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    model_path_ = (dir_ / "model.ipinsights").string();
    BuildModel()->Save(model_path_);
  }
  // vector_dim 4, no encoder layers: score = entity row . (sum of the IP's prefix rows).
  //   alice (1, 2, 0, 0)   bob (0, 0, 1, -1)   anyone else: zero row
  //   10.0.0.1 -> (1, 0, 2, 0)   20.0.0.1 -> (0, 3, 0, 1)   any other address: zero
  // so alice/10.0.0.1 = 1, alice/20.0.0.1 = 6, bob/10.0.0.1 = 2, bob/20.0.0.1 = -1.
  std::shared_ptr<Model> BuildModel() {
    Hyperparameters hp;
    hp.num_entity_vectors = 1000;
    hp.vector_dim = 4;
    hp.num_ip_encoder_layers = 0;
    hp.ip_hash_buckets = 1024;
    std::shared_ptr<Model> model = Model::Create(hp, 7);
    Model::Impl& impl = model->impl();
    std::fill(impl.entity_table.begin(), impl.entity_table.end(), 0.0f);
    std::fill(impl.prefix_table.begin(), impl.prefix_table.end(), 0.0f);
    auto set_entity = [&](const char* entity, std::vector<float> v) {
      float* row = impl.EntityVector(impl.EntityRowOfHash(impl.EntityHash(entity)));
      std::copy(v.begin(), v.end(), row);
    };
    uint64_t alice = impl.EntityRowOfHash(impl.EntityHash("alice"));
    uint64_t bob = impl.EntityRowOfHash(impl.EntityHash("bob"));
    uint64_t carol = impl.EntityRowOfHash(impl.EntityHash("carol"));
    EXPECT_TRUE(alice != bob && carol != alice && carol != bob) << "hash collision: pick names";
    set_entity("alice", {1, 2, 0, 0});
    set_entity("bob", {0, 0, 1, -1});
    std::vector<uint32_t> used;
    auto set_ip = [&](const char* text, std::vector<float> sum) {
      uint32_t rows[kMaxIpPrefixes];
      int n = IpPrefixRows(*IpAddress::Parse(text), impl.hash_seed, 1024, rows);
      for (int k = 0; k < n; ++k) {
        for (uint32_t u : used) EXPECT_NE(u, rows[k]) << "prefix row collision: pick addresses";
        used.push_back(rows[k]);
        float* row = impl.PrefixVector(rows[k]);
        for (int d = 0; d < 4; ++d) row[d] = sum[d] / static_cast<float>(n);
      }
    };
    set_ip("10.0.0.1", {1, 0, 2, 0});
    set_ip("20.0.0.1", {0, 3, 0, 1});
    for (const char* other : {"30.0.0.1", "2001:db8::1"}) {
      uint32_t rows[kMaxIpPrefixes];
      int n = IpPrefixRows(*IpAddress::Parse(other), impl.hash_seed, 1024, rows);
      for (int k = 0; k < n; ++k) {
        for (uint32_t u : used) EXPECT_NE(u, rows[k]) << other << " shares a prefix row";
      }
    }
    return model;
  }

  // `shell_prefix` runs first in the same shell (for example a ulimit).
  CommandResult Ipinsights(const std::string& args, const std::string& shell_prefix = "") {
    return testing::RunIpinsights(dir_, args, "", shell_prefix);
  }

  std::string model_path_;
};

TEST_F(TinyModel, ScoresMatchHandComputedValues) {
  std::shared_ptr<const Model> model = Model::Load(model_path_);
  EXPECT_EQ(model->Score("alice", *IpAddress::Parse("10.0.0.1")), 1.0f);
  EXPECT_EQ(model->Score("alice", *IpAddress::Parse("20.0.0.1")), 6.0f);
  EXPECT_EQ(model->Score("bob", *IpAddress::Parse("10.0.0.1")), 2.0f);
  EXPECT_EQ(model->Score("bob", *IpAddress::Parse("20.0.0.1")), -1.0f);
  EXPECT_EQ(model->Score("carol", *IpAddress::Parse("10.0.0.1")), 0.0f);
}

TEST_F(TinyModel, ScoreWritesNdjsonInInputOrderAndSkipsBadRows) {
  Write("pairs.csv",
        "alice,10.0.0.1\n"
        "bob, 20.0.0.1\n"
        "bob,1.2.3\n"
        "\"al\"\"ice\",2001:db8::1\n"
        "carol,10.0.0.1,extra\n"
        "alice,20.0.0.1\r\n");
  CommandResult run =
      Ipinsights("score --model model.ipinsights --pairs pairs.csv --threshold 0.5");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "{\"entity\":\"alice\",\"ip\":\"10.0.0.1\",\"score\":1,\"anomalous\":false}\n"
            "{\"entity\":\"bob\",\"ip\":\"20.0.0.1\",\"score\":-1,\"anomalous\":true}\n"
            "{\"entity\":\"al\\\"ice\",\"ip\":\"2001:db8::1\",\"score\":0,\"anomalous\":true}\n"
            "{\"entity\":\"alice\",\"ip\":\"20.0.0.1\",\"score\":6,\"anomalous\":false}\n");
  EXPECT_NE(run.err.find("pairs.csv:3: bad IP \"1.2.3\""), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("pairs.csv:5: expected 2 fields (entity,ip), got 3"), std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("2 bad rows skipped"), std::string::npos) << run.err;
}

TEST_F(TinyModel, ScoreDefaultThresholdIsZeroAndOnlyAnomaliesFilters) {
  Write("pairs.csv", "alice,10.0.0.1\nbob,20.0.0.1\ncarol,10.0.0.1\n");
  CommandResult run = Ipinsights(
      "score --model model.ipinsights --pairs pairs.csv --only-anomalies --output out.ndjson "
      "--json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(ReadFileBytes(dir_ / "out.ndjson"),
            "{\"entity\":\"bob\",\"ip\":\"20.0.0.1\",\"score\":-1,\"anomalous\":true}\n");
  simdjson::dom::parser parser;
  simdjson::dom::element summary = parser.parse(run.out);
  EXPECT_EQ(uint64_t(summary["scored"]), 3u);
  EXPECT_EQ(uint64_t(summary["anomalous"]), 1u);
  EXPECT_EQ(uint64_t(summary["written"]), 1u);
  EXPECT_EQ(uint64_t(summary["bad_rows"]), 0u);
}

TEST_F(TinyModel, ScoreKeepsInputOrderAcrossManyChunksOnTwoThreads) {
  std::string text;
  std::string expected;
  const char* entities[] = {"alice", "bob", "carol"};
  const char* ips[] = {"10.0.0.1", "20.0.0.1"};
  const char* scores[3][2] = {{"1", "6"}, {"2", "-1"}, {"0", "0"}};
  for (int i = 0; i < 150000; ++i) {
    int e = i % 3, p = (i / 3) % 2;
    if (i % 50000 == 49999) {
      text += "bad row without comma\n";
      continue;
    }
    text += std::string(entities[e]) + "," + ips[p] + "\n";
    expected += std::string("{\"entity\":\"") + entities[e] + "\",\"ip\":\"" + ips[p] +
                "\",\"score\":" + scores[e][p] +
                ",\"anomalous\":" + (scores[e][p][0] == '-' ? "true" : "false") + "}\n";
  }
  Write("pairs.csv", text);
  CommandResult run = Ipinsights("score --model model.ipinsights --pairs pairs.csv --threads 2");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(run.out == expected) << "output differs from the input order";
  EXPECT_NE(run.err.find("pairs.csv:50000: expected 2 fields"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("pairs.csv:100000: expected 2 fields"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("pairs.csv:150000: expected 2 fields"), std::string::npos) << run.err;
}

TEST_F(TinyModel, ScoreExitCodes) {
  Write("pairs.csv", "alice,10.0.0.1\n");
  EXPECT_EQ(Ipinsights("score --pairs pairs.csv").exit_code, 2);         // no --model
  EXPECT_EQ(Ipinsights("score --model model.ipinsights").exit_code, 2);  // no --pairs
  EXPECT_EQ(Ipinsights("score --model missing.ipinsights --pairs pairs.csv").exit_code, 1);
  EXPECT_EQ(Ipinsights("score --model model.ipinsights --pairs missing.csv").exit_code, 1);
  Write("garbage.ipinsights", "not a model");
  EXPECT_EQ(Ipinsights("score --model garbage.ipinsights --pairs pairs.csv").exit_code, 1);
}

TEST_F(TinyModel, ScoreRefusesAModelWithNanWeights) {
  std::shared_ptr<Model> model = BuildModel();
  std::fill(model->impl().entity_table.begin(), model->impl().entity_table.end(),
            std::numeric_limits<float>::quiet_NaN());
  model->Save((dir_ / "nan.ipinsights").string());
  Write("pairs.csv", "alice,10.0.0.1\nbob,20.0.0.1\n");
  CommandResult run = Ipinsights("score --model nan.ipinsights --pairs pairs.csv --only-anomalies");
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_NE(run.err.find("nan.ipinsights"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("non-finite weight"), std::string::npos) << run.err;
  EXPECT_EQ(run.out, "");
}

// Review L12: a thread that cannot start (here: 200 threads of 8 MB stacks in 400 MB of
// address space) is a clear error with exit 1, not std::terminate and a core dump.
TEST_F(TinyModel, ThreadsThatCannotStartAreAnErrorNotACrash) {
  if (testing::kSanitized)
    GTEST_SKIP() << "sanitizer builds reserve more address space than the limit below";
  std::string pairs;
  for (int i = 0; i < 400; ++i)
    pairs += "user" + std::to_string(i % 20) + ",10.0." + std::to_string(i % 7) + ".1\n";
  Write("pairs.csv", pairs);
  const std::string limit = "ulimit -v 400000; ";
  CommandResult score =
      Ipinsights("score --model model.ipinsights --pairs pairs.csv --threads 200", limit);
  EXPECT_EQ(score.exit_code, 1) << score.err;
  EXPECT_NE(score.err.find("cannot start"), std::string::npos) << score.err;
  CommandResult train = Ipinsights(
      "train --train pairs.csv --model-dir m --threads 200 --num-entity-vectors 40 --vector-dim 4 "
      "--epochs 1 --quiet",
      limit + "timeout 120 ");
  EXPECT_EQ(train.exit_code, 1) << train.err;
  EXPECT_NE(train.err.find("cannot start"), std::string::npos) << train.err;
  EXPECT_FALSE(fs::exists(dir_ / "m" / "model.ipinsights"));
}

TEST_F(TinyModel, ScoreRefusesToOverwriteItsInput) {
  const std::string pairs = "alice,10.0.0.1\nbob,20.0.0.1\n";
  Write("pairs.csv", pairs);
  fs::create_directories(dir_ / "sub");
  for (const char* output : {"pairs.csv", "./pairs.csv", "sub/../pairs.csv"}) {
    SCOPED_TRACE(output);
    CommandResult run = Ipinsights(
        std::string("score --model model.ipinsights --pairs pairs.csv --output ") + output);
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_NE(run.err.find("is both an input and an output"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find(output), std::string::npos) << run.err;
    EXPECT_EQ(ReadFileBytes(dir_ / "pairs.csv"), pairs);
  }
}

TEST_F(TinyModel, ScoreOverAFolderSkipsItsOwnEarlierOutput) {
  fs::create_directories(dir_ / "in");
  Write("in/pairs.csv", "alice,10.0.0.1\nbob,20.0.0.1\n");
  CommandResult first =
      Ipinsights("score --model model.ipinsights --pairs in --output in/out.ndjson");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string scores = ReadFileBytes(dir_ / "in/out.ndjson");
  CommandResult second = Ipinsights(
      "score --model model.ipinsights --pairs ./in --output in/out.ndjson --json "
      "--threshold 0");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.err.find("warning"), std::string::npos) << second.err;
  EXPECT_NE(second.out.find("\"scored\":2,"), std::string::npos) << second.out;
  EXPECT_NE(second.out.find("\"bad_rows\":0,"), std::string::npos) << second.out;
  EXPECT_EQ(ReadFileBytes(dir_ / "in/out.ndjson"), scores);
}

// normal: alice/20 = 6, bob/10 = 2, alice/10 = 1; anomalous: bob/20 = -1, carol/10 = 0,
// bob/10 = 2 (a tie with a normal pair).
constexpr const char* kLabels =
    "entity,ip,label,oracle_score\n"
    "alice,20.0.0.1,0,5\n"
    "bob,10.0.0.1,0,4\n"
    "alice,10.0.0.1,0,3\n"
    "bob,20.0.0.1,1,-5\n"
    "carol,10.0.0.1,1,-4\n"
    "bob,10.0.0.1,1,3.5\n";

TEST_F(TinyModel, EvaluateMatchesHandComputedFigures) {
  Write("labels.csv", kLabels);
  CommandResult run = Ipinsights(
      "evaluate --model model.ipinsights --labels labels.csv --threshold 0 --threshold 1.5 "
      "--json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  simdjson::dom::parser parser;
  simdjson::dom::element r = parser.parse(run.out);
  EXPECT_EQ(uint64_t(r["normal"]), 3u);
  EXPECT_EQ(uint64_t(r["anomalous"]), 3u);
  // 6 beats all three; 2 beats -1 and 0 and ties 2; 1 beats -1 and 0: 7.5 of 9.
  EXPECT_DOUBLE_EQ(double(r["auc"]), 7.5 / 9);
  // Threshold 0: only -1 is flagged.
  EXPECT_DOUBLE_EQ(double(r["recall"]), 1.0 / 3);
  EXPECT_DOUBLE_EQ(double(r["precision"]), 1.0);
  EXPECT_DOUBLE_EQ(double(r["false_positive_rate"]), 0.0);
  simdjson::dom::array thresholds = r["thresholds"];
  ASSERT_EQ(thresholds.size(), 2u);
  simdjson::dom::element second = thresholds.at(1);
  EXPECT_DOUBLE_EQ(double(second["threshold"]), 1.5);
  EXPECT_DOUBLE_EQ(double(second["recall"]), 2.0 / 3);     // -1, 0
  EXPECT_DOUBLE_EQ(double(second["precision"]), 2.0 / 3);  // and the normal 1
  EXPECT_DOUBLE_EQ(double(second["false_positive_rate"]), 1.0 / 3);
  // FPR <= 1% of three normal pairs: flag none; the largest such threshold is the lowest
  // normal score.
  EXPECT_DOUBLE_EQ(double(r["recommended_threshold"]), 1.0);
  simdjson::dom::element oracle = r["oracle"];
  EXPECT_DOUBLE_EQ(double(oracle["auc"]), 8.0 / 9);  // 3 vs 3.5 is the one loss
  EXPECT_DOUBLE_EQ(double(oracle["recall"]), 2.0 / 3);
  EXPECT_DOUBLE_EQ(double(oracle["recommended_threshold"]), 3.0);
}

TEST_F(TinyModel, EvaluatePrintsATableWithTheOracleBeside) {
  Write("labels.csv", kLabels);
  CommandResult run = Ipinsights("evaluate --model model.ipinsights --labels labels.csv");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("3 normal pairs, 3 anomalous pairs"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("auc                                      0.8333      0.8889"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("recall at 3% FPR"), std::string::npos) << run.out;
}

TEST_F(TinyModel, EvaluateWithRandomAttacksPairsKnownEntitiesWithPublicAddresses) {
  std::string normal;
  for (int i = 0; i < 20; ++i) normal += i % 2 ? "alice,20.0.0.1\n" : "bob,10.0.0.1\n";
  normal += "bob,not-an-ip\n";
  Write("test.csv", normal);
  CommandResult run = Ipinsights(
      "evaluate --model model.ipinsights --test test.csv --random-attacks 40 --seed 3 --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("test.csv:21"), std::string::npos) << run.err;
  simdjson::dom::parser parser;
  simdjson::dom::element r = parser.parse(run.out);
  EXPECT_EQ(uint64_t(r["normal"]), 20u);
  EXPECT_EQ(uint64_t(r["anomalous"]), 40u);
  // Normal scores are 6 and 2; random public addresses share no prefix row with 10/8 or
  // 20/8 except by hash collision, so nearly every attack scores 0 and AUC is close to 1.
  EXPECT_GT(double(r["auc"]), 0.9);
  CommandResult again = Ipinsights(
      "evaluate --model model.ipinsights --test test.csv --random-attacks 40 --seed 3 --json");
  EXPECT_EQ(again.out, run.out);
}

TEST_F(TinyModel, EvaluateErrors) {
  Write("labels.csv", kLabels);
  Write("bad_labels.csv", "entity,ip,label\nalice,10.0.0.1,0\nbob,10.0.0.1,maybe\n");
  Write("one_class.csv", "entity,ip,label\nalice,10.0.0.1,0\n");
  EXPECT_EQ(Ipinsights("evaluate --model model.ipinsights").exit_code, 2);
  EXPECT_EQ(Ipinsights("evaluate --model model.ipinsights --labels labels.csv --test labels.csv")
                .exit_code,
            2);
  EXPECT_EQ(Ipinsights("evaluate --model model.ipinsights --test labels.csv").exit_code, 2);
  EXPECT_EQ(
      Ipinsights("evaluate --model model.ipinsights --labels labels.csv --target-fpr 2").exit_code,
      2);
  CommandResult bad = Ipinsights("evaluate --model model.ipinsights --labels bad_labels.csv");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("bad_labels.csv:3: bad label \"maybe\" (expected 0 or 1)"),
            std::string::npos)
      << bad.err;
  CommandResult one = Ipinsights("evaluate --model model.ipinsights --labels one_class.csv");
  EXPECT_EQ(one.exit_code, 1);
  EXPECT_NE(one.err.find("needs both normal and anomalous pairs"), std::string::npos) << one.err;
}

// Issue 11's table: the same file gives the same rows and the same bad-row verdicts to
// `train` / `evaluate --test` (PairReader), `score --pairs` (the binary) and serve's
// text/csv decoder.
struct CsvCase {
  const char* text;
  std::vector<std::string> rows;  // "entity|ip"
  std::string first_bad;          // "LINE: reason", empty when every row is good
};

std::vector<CsvCase> IssueTable() {
  return {
      {"entity,ip\nalice,10.0.0.1\n", {"alice|10.0.0.1"}, ""},
      {"alice,10.0.0.1\nentity,ip\n", {"alice|10.0.0.1"}, "2: bad IP \"ip\""},
      {"a\"b,10.0.0.1\n", {"a\"b|10.0.0.1"}, ""},
      {",10.0.0.1\nbob,20.0.0.1\n", {"bob|20.0.0.1"}, "1: empty entity"},
      {"alice,10.0.0.1,x\n", {}, "1: expected 2 fields (entity,ip), got 3"},
      {"alice\n", {}, "1: expected 2 fields (entity,ip), got 1"},
      {"\"al\"x,10.0.0.1\nbob,20.0.0.1\n", {"bob|20.0.0.1"}, "1: text after a closing quote"},
      {"\"open,10.0.0.1\nbob,20.0.0.1\n", {"bob|20.0.0.1"}, "1: unterminated quoted field"},
      {" \t\n\"a,b\", 10.0.0.1 \r\n", {"a,b|10.0.0.1"}, ""},
  };
}

TEST_F(TinyModel, CsvVerdictsAgreeAcrossTrainScoreAndServe) {
  for (const CsvCase& c : IssueTable()) {
    SCOPED_TRACE(c.text);
    const std::string path = Write("case.csv", c.text);
    // train, evaluate --test
    BadRecordLog log;
    PairReader reader(path, &log);
    std::vector<std::string> rows;
    std::string_view entity;
    IpAddress ip;
    while (reader.Next(&entity, &ip)) rows.push_back(std::string(entity) + "|" + ip.ToString());
    EXPECT_EQ(rows, c.rows);
    const std::vector<std::string> messages = log.messages();
    EXPECT_EQ(messages.empty() ? "" : messages[0],
              c.first_bad.empty() ? "" : path + ":" + c.first_bad);
    // score --pairs
    // --allow-empty: a case whose only row is bad scores nothing, which is its verdict here.
    CommandResult run = Ipinsights(
        "score --model model.ipinsights --pairs case.csv --json --output out.ndjson --allow-empty "
        "--threshold 0");
    ASSERT_EQ(run.exit_code, 0) << run.err;
    std::vector<std::string> scored;
    std::istringstream lines(ReadFileBytes(dir_ / "out.ndjson"));
    simdjson::dom::parser parser;
    for (std::string line; std::getline(lines, line);) {
      simdjson::dom::element row = parser.parse(line);
      scored.push_back(std::string(std::string_view(row["entity"])) + "|" +
                       std::string(std::string_view(row["ip"])));
    }
    EXPECT_EQ(scored, c.rows);
    if (c.first_bad.empty()) {
      EXPECT_EQ(run.err.find("warning"), std::string::npos) << run.err;
    } else {
      EXPECT_NE(run.err.find("warning: case.csv:" + c.first_bad + " (row skipped)"),
                std::string::npos)
          << run.err;
    }
    // serve: all good and the same rows, or a 400 naming the first bad row.
    PairBatch batch;
    std::optional<std::string> error = DecodeCsv(c.text, &batch);
    if (c.first_bad.empty()) {
      ASSERT_FALSE(error.has_value()) << *error;
      std::vector<std::string> decoded;
      for (size_t i = 0; i < batch.size(); ++i) {
        decoded.push_back(std::string(batch.entities[i]) + "|" + batch.ips[i].ToString());
      }
      EXPECT_EQ(decoded, c.rows);
    } else {
      EXPECT_EQ(error.value_or(""), "line " + c.first_bad);
    }
  }
}

TEST_F(TinyModel, StrictMakesTheFirstBadRowFatalInTrainEvaluateAndScore) {
  Write("pairs.csv", "alice,10.0.0.1\nbob,20.0.0.1\nbob,1.2.3\nalice,20.0.0.1\n");
  const std::string expected = "pairs.csv:3: bad IP \"1.2.3\"";
  for (const std::string& command :
       {std::string("score --model model.ipinsights --pairs pairs.csv --output out.ndjson"),
        std::string("evaluate --model model.ipinsights --test pairs.csv --random-attacks 10"),
        std::string("train --train pairs.csv --model-dir trained --epochs 1 --vector-dim 4 "
                    "--num-entity-vectors 10 --quiet")}) {
    SCOPED_TRACE(command);
    CommandResult lenient = Ipinsights(command);
    EXPECT_EQ(lenient.exit_code, 0) << lenient.err;
    CommandResult strict = Ipinsights(command + " --strict");
    EXPECT_EQ(strict.exit_code, 1) << strict.err;
    EXPECT_NE(strict.err.find(expected), std::string::npos) << strict.err;
  }
}

}  // namespace
}  // namespace ipinsights

namespace ipinsights {
namespace {

// The pipeline itself, with tiny chunks so thousands of them race through three workers.
TEST_F(TinyModel, ScorePairsPipelineKeepsOrderWithTinyChunks) {
  std::shared_ptr<const Model> model = Model::Load(model_path_);
  std::string text, expected;
  for (int i = 0; i < 20000; ++i) {
    if (i % 997 == 0) {
      text += "\"broken quote,10.0.0.1\n";
      continue;
    }
    const bool alice = i % 3 != 0;
    const char* ip = i % 2 ? "10.0.0.1" : "20.0.0.1";
    text += std::string(alice ? "alice" : "bob") + "," + ip + "\n";
    float score = model->Score(alice ? "alice" : "bob", *IpAddress::Parse(ip));
    expected += fmt::format("{{\"entity\":\"{}\",\"ip\":\"{}\",\"score\":{},\"anomalous\":{}}}\n",
                            alice ? "alice" : "bob", ip, score, score < 0 ? "true" : "false");
  }
  std::string input = Write("pairs.csv", text);
  std::string output = (dir_ / "scores.ndjson").string();
  auto writer = OpenStorage(output).OpenWritable(output);
  ScorePairsOptions options;
  options.threads = 3;
  options.chunk_bytes = 100;
  std::vector<uint64_t> bad_lines;
  struct LineReporter : BadRecordReporter {
    std::vector<uint64_t>* lines;
    std::string location;
    void Report(const BadRecord& bad) override {
      EXPECT_EQ(bad.location, location);
      lines->push_back(bad.value);
    }
  } reporter;
  reporter.lines = &bad_lines;
  reporter.location = input;
  ScorePairsSummary summary = ScorePairs(
      OpenStorage(input).OpenSequential(input), input, writer.get(),
      [&](const std::string_view* e, const IpAddress* ip, size_t n, float* s) {
        model->ScoreBatch(e, ip, n, s);
      },
      options, &reporter, nullptr);
  writer->Close();
  EXPECT_TRUE(ReadFileBytes(output) == expected) << "order or content differs";
  ASSERT_EQ(bad_lines.size(), 21u);
  for (size_t k = 0; k < bad_lines.size(); ++k) EXPECT_EQ(bad_lines[k], 997 * k + 1);
  EXPECT_EQ(summary.bad_rows, 21u);
  EXPECT_EQ(summary.scored, 20000u - 21u);
  EXPECT_EQ(summary.bytes_read, text.size());
}

}  // namespace
}  // namespace ipinsights
