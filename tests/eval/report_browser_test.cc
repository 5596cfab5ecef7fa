// `evaluate --report` end to end through the real binary: a simulated world, a trained
// model, then the page loaded in headless Chromium (tests/eval/report_browser.py: no console
// error, no network request, a screenshot that is not blank, axes and legends in the DOM,
// the plotted figures equal to `evaluate --json`). Where Chromium is not installed the
// browser half skips, saying why (scripts/install-deps.sh installs Debian's `chromium`);
// the figures per kind are checked against `score --pairs` on every machine.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../storage/s3_test_support.h"
#include "../testing/command.h"
#include "../testing/scratch_test.h"

namespace ipinsights {
namespace {

using testing::CommandResult;
using testing::RunIpinsights;

class ReportBrowser : public testing::ScratchTest {
 protected:
  void Run(const std::string& args) {
    CommandResult run = RunIpinsights(dir_, args);
    ASSERT_EQ(run.exit_code, 0) << args << "\n" << run.err;
  }
  // A small CloudTrail world (kinds and oracle in its labels) and a model trained on it.
  void TrainModel() {
    Run("simulate cloudtrail --out sim --users 200 --days 4 --attacks 150 --seed 9 --json");
    Run("prepare cloudtrail --input sim/AWSLogs --to 2024-03-03 --split-at 2024-03-03 "
        "--output train.csv --validation-output val.csv --quiet");
    Run("train --train train.csv --validation val.csv --model-dir model --num-entity-vectors "
        "1000 --vector-dim 16 --epochs 3 --seed 1 --threads 2 --quiet");
  }
  // Runs the browser check on `report` against `json`; skips the test when Chromium is
  // missing.
  void CheckInBrowser(const std::string& report, const std::string& json) {
    const std::string script = std::string(IPINSIGHTS_SOURCE_DIR) + "/tests/eval/report_browser.py";
    CommandResult run = testing::RunShell("cd '" + dir_.string() + "' && python3 '" + script +
                                          "' '" + report + "' '" + json + "' 2>&1");
    if (run.exit_code == 77) GTEST_SKIP() << run.out;
    EXPECT_EQ(run.exit_code, 0) << run.out;
    std::printf("%s", run.out.c_str());
  }
};

TEST_F(ReportBrowser, LabelsWithOracleAndKindsRenderTheFiguresOfTheJson) {
  TrainModel();
  CommandResult json = RunIpinsights(
      dir_,
      "evaluate --model model/model.ipinsights --labels sim/labels.csv --json --report "
      "model/report.html --threads 2");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.err.find("report: model/report.html"), std::string::npos) << json.err;
  Write("evaluation.json", json.out);
  // The page carries what the JSON has: kinds, oracle and training curves are all there.
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(json.out);
  EXPECT_EQ(root["by_kind"].get_array().size(), 3u);
  EXPECT_EQ(root["oracle"]["by_kind"].get_array().size(), 3u);
  EXPECT_EQ(root["training"]["epochs"].get_array().size(), 3u);
  CheckInBrowser("model/report.html", "evaluation.json");
}

TEST_F(ReportBrowser, HeldOutPairsWithoutMetricsSayWhyNoTrainingCurves) {
  TrainModel();
  // The model alone, away from its metrics.json.
  std::filesystem::create_directories(dir_ / "alone");
  std::filesystem::copy_file(dir_ / "model/model.ipinsights", dir_ / "alone/model.ipinsights");
  CommandResult json = RunIpinsights(
      dir_,
      "evaluate --model alone/model.ipinsights --test val.csv --random-attacks 500 --json "
      "--report 'alone/a <b> & c.html' --threads 2");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  Write("evaluation.json", json.out);
  EXPECT_NE(json.out.find("\"training\":null,\"training_note\":\"no metrics.json beside"),
            std::string::npos);
  EXPECT_EQ(json.out.find("\"by_kind\""), std::string::npos);
  const std::string page = Read("alone/a <b> & c.html");
  EXPECT_NE(page.find("id=\"training-note\""), std::string::npos);
  CheckInBrowser("alone/a <b> & c.html", "evaluation.json");
}

// Recall per kind recomputed from each pair's own score (`score --pairs`): the share of the
// kind's anomalies scoring below the recommended threshold.
TEST_F(ReportBrowser, RecallPerKindMatchesThePairsScores) {
  TrainModel();
  CommandResult json = RunIpinsights(
      dir_, "evaluate --model model/model.ipinsights --labels sim/labels.csv --json --threads 2");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  // labels.csv -> entity,ip pairs in the same order, with their kinds.
  std::istringstream labels(Read("sim/labels.csv"));
  std::string line, pairs;
  std::vector<std::string> kinds;
  std::getline(labels, line);
  ASSERT_EQ(line, "entity,ip,label,oracle_score,kind");
  while (std::getline(labels, line)) {
    // Simulated entities hold no comma, so plain splitting is exact here.
    std::vector<std::string> fields;
    std::stringstream split(line);
    for (std::string field; std::getline(split, field, ',');) fields.push_back(field);
    ASSERT_EQ(fields.size(), 5u) << line;
    pairs += fields[0] + "," + fields[1] + "\n";
    kinds.push_back(fields[2] == "1" ? fields[4] : "");
  }
  Write("pairs.csv", pairs);
  CommandResult scored =
      RunIpinsights(dir_, "score --model model/model.ipinsights --pairs pairs.csv --threads 2");
  ASSERT_EQ(scored.exit_code, 0) << scored.err;
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(json.out);
  const double threshold = root["recommended_threshold"].get_double();
  std::map<std::string, std::pair<uint64_t, uint64_t>> flagged_of;  // kind -> (flagged, all)
  std::istringstream lines(scored.out);
  size_t row = 0;
  for (std::string text; std::getline(lines, text); ++row) {
    ASSERT_LT(row, kinds.size());
    if (kinds[row].empty()) continue;
    // Scores are floats printed shortest: read them back as floats, exactly.
    const size_t at = text.find("\"score\":");
    ASSERT_NE(at, std::string::npos) << text;
    const float score = std::strtof(text.c_str() + at + 8, nullptr);
    auto& [flagged, all] = flagged_of[kinds[row]];
    flagged += static_cast<double>(score) < threshold;
    ++all;
  }
  ASSERT_EQ(row, kinds.size());
  size_t seen = 0;
  for (simdjson::dom::element kind : root["by_kind"].get_array()) {
    const std::string name(kind["kind"].get_string().value());
    ASSERT_TRUE(flagged_of.count(name)) << name;
    const auto [flagged, all] = flagged_of[name];
    EXPECT_EQ(kind["anomalous"].get_uint64().value(), all) << name;
    EXPECT_EQ(kind["recall"].get_double().value(),
              static_cast<double>(flagged) / static_cast<double>(all))
        << name;
    ++seen;
  }
  EXPECT_EQ(seen, flagged_of.size());
}

// --report s3://...: the same page, written to S3 (moto_server) and read back with the AWS CLI.
TEST_F(ReportBrowser, WritesTheReportToS3) {
  if (!s3test::OnPath("moto_server") || !s3test::OnPath("aws")) {
    GTEST_SKIP() << "moto_server or the AWS CLI is not installed (pip install 'moto[server]' "
                    "awscli): no local S3 to write the report to";
  }
  std::optional<s3test::LocalServer> moto =
      s3test::StartServer({"moto_server", "-H", "127.0.0.1"}, {}, "-p");
  ASSERT_TRUE(moto) << "moto_server did not start";
  const std::string environment =
      "AWS_ACCESS_KEY_ID=AKIAIPINSIGHTSTEST01 AWS_SECRET_ACCESS_KEY=secret "
      "AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 "
      "AWS_ENDPOINT_URL=" +
      moto->url() + " ";
  CommandResult bucket = testing::RunShell(environment + "aws s3 mb s3://reports 2>&1");
  ASSERT_EQ(bucket.exit_code, 0) << bucket.out;
  TrainModel();
  const std::string evaluate =
      "evaluate --model model/model.ipinsights --labels sim/labels.csv --threads 2 --report ";
  CommandResult local = RunIpinsights(dir_, evaluate + "local.html");
  ASSERT_EQ(local.exit_code, 0) << local.err;
  CommandResult remote =
      RunIpinsights(dir_, evaluate + "s3://reports/job/report.html", "", environment);
  ASSERT_EQ(remote.exit_code, 0) << remote.err;
  EXPECT_EQ(remote.out, local.out);
  CommandResult read_back = testing::RunShell(
      environment + "aws s3 cp s3://reports/job/report.html '" + Path("from-s3.html") + "' 2>&1");
  ASSERT_EQ(read_back.exit_code, 0) << read_back.out;
  EXPECT_EQ(Read("from-s3.html"), Read("local.html"));
  EXPECT_GT(Read("local.html").size(), 10000u);
}

// A metrics.json that is not train's costs the curves, not the evaluation.
TEST_F(ReportBrowser, ForeignMetricsBesideTheModelIsNotedNotFatal) {
  TrainModel();
  Write("model/metrics.json", "{\"epochs\": 3}");
  CommandResult run = RunIpinsights(
      dir_,
      "evaluate --model model/model.ipinsights --labels sim/labels.csv --json --report r.html");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("warning: model/metrics.json: no \"epochs\" array"), std::string::npos)
      << run.err;
  EXPECT_NE(run.out.find("\"training\":null,\"training_note\":\"model/metrics.json: no"),
            std::string::npos)
      << run.out;
  EXPECT_NE(Read("r.html").find("id=\"training-note\">model/metrics.json: no"), std::string::npos);
}

// `demo` writes each model's report beside it and prints where.
TEST_F(ReportBrowser, DemoWritesTheReportBesideEachModel) {
  CommandResult run = RunIpinsights(
      dir_,
      "demo --dir work --users 50 --days 3 --attacks 50 --vector-dim 8 --epochs 2 --threads 2");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const char* kind : {"cloudtrail", "waf"}) {
    const std::string report =
        (std::filesystem::canonical(dir_) / "work" / kind / "model/report.html").string();
    EXPECT_NE(run.out.find("report (open in a browser): " + report + "\n"), std::string::npos)
        << run.out;
    const std::string page = testing::ReadFileBytes(report);
    EXPECT_NE(page.find("id=\"by-kind\""), std::string::npos) << kind;
    EXPECT_NE(page.find("id=\"histogram-oracle\""), std::string::npos) << kind;
    EXPECT_NE(page.find("id=\"training-loss\""), std::string::npos) << kind;
  }
}

}  // namespace
}  // namespace ipinsights
