// The HTML report's content: the figures it carries (data-* attributes and text) equal the
// evaluation's, every outside string is escaped, nothing is fetched from anywhere; and the
// figures evaluation.h adds for it (ROC for a log axis, training curves, kinds in labels).
#include "ipinsights/eval/report_html.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include "../testing/scratch_test.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/dataset/labels_reader.h"
#include "ipinsights/eval/evaluation.h"

namespace ipinsights {
namespace {

// normal scores 0, 1, ..., 999; anomalous -50, -48, ..., 148 (overlapping the low normals).
EvaluationResult Fixture() {
  std::vector<float> normal, anomalous;
  for (int i = 0; i < 1000; ++i) normal.push_back(static_cast<float>(i));
  for (int i = 0; i < 100; ++i) anomalous.push_back(static_cast<float>(-50 + 2 * i));
  EvaluationResult result;
  result.source = "labels.csv";
  result.model_scores.emplace(normal, anomalous);
  result.model = ComputeFigures(*result.model_scores, EvaluationOptions{});
  return result;
}

// The value of attribute `name` in every element matching `element_regex` (in order).
std::vector<std::string> Attributes(const std::string& html, const std::string& element_regex,
                                    const std::string& name) {
  std::vector<std::string> values;
  const std::regex element(element_regex);
  const std::regex attribute(" " + name + "=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), element);
       it != std::sregex_iterator(); ++it) {
    std::smatch match;
    const std::string text = it->str();
    if (std::regex_search(text, match, attribute)) values.push_back(match[1]);
  }
  return values;
}

std::string Cell(const std::string& series, const std::string& field, double value) {
  return "data-series=\"" + series + "\" data-field=\"" + field + "\" data-value=\"" +
         JsonNumber(value) + "\"";
}

TEST(ReportHtml, TableCarriesTheFiguresAtEachOperatingPoint) {
  const EvaluationResult result = Fixture();
  const std::string html = ReportHtml(result);
  const SeparationFigures& m = result.model;
  // 1% of 1000 normal pairs: the threshold is the 11th normal score, 10; flagged: normal 0..9
  // and the anomalies below 10 (-50..8: 30 of them).
  ASSERT_EQ(m.recommended_threshold, 10.0);
  ASSERT_EQ(m.at_recommended.flagged_normal, 10u);
  ASSERT_EQ(m.at_recommended.flagged_anomalous, 30u);
  EXPECT_NE(html.find(Cell("model", "threshold", 10)), std::string::npos);
  EXPECT_NE(html.find(Cell("model", "recall", 0.3)), std::string::npos);
  EXPECT_NE(html.find(Cell("model", "precision", 30.0 / 40.0)), std::string::npos);
  EXPECT_NE(html.find(Cell("model", "alerts_per_day", 10)), std::string::npos);
  // The table's rows: recommended, then 0.1%, 1%, 3%, 5% FPR.
  EXPECT_EQ(Attributes(html, "<tr data-point=[^>]*>", "data-target-fpr"),
            (std::vector<std::string>{"0.01", "0.001", "0.01", "0.03", "0.05"}));
  for (const RecallAtFpr& r : m.recall_at_fpr) {
    EXPECT_NE(html.find(Cell("model", "recall", r.recall)), std::string::npos) << r.target_fpr;
    EXPECT_NE(html.find(Cell("model", "alerts_per_day", static_cast<double>(r.flagged_normal))),
              std::string::npos)
        << r.target_fpr;
  }
  // 5% of 1000: 50 normal pairs flagged a day.
  EXPECT_EQ(m.recall_at_fpr.back().flagged_normal, 50u);
  EXPECT_NE(html.find("the 1000 normal events of the evaluated day"), std::string::npos);
}

TEST(ReportHtml, HistogramBarsCarryTheCounts) {
  const EvaluationResult result = Fixture();
  const std::string html = ReportHtml(result);
  const std::vector<std::string> counts =
      Attributes(html, "<rect class=\"bar normal\"[^>]*>", "data-count");
  const std::vector<std::string> anomalous =
      Attributes(html, "<rect class=\"bar anomalous\"[^>]*>", "data-count");
  ASSERT_EQ(counts.size(), result.model.histogram.normal.size());
  ASSERT_EQ(anomalous.size(), result.model.histogram.anomalous.size());
  uint64_t normal_total = 0, anomalous_total = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    EXPECT_EQ(counts[i], std::to_string(result.model.histogram.normal[i])) << i;
    EXPECT_EQ(anomalous[i], std::to_string(result.model.histogram.anomalous[i])) << i;
    normal_total += std::stoull(counts[i]);
    anomalous_total += std::stoull(anomalous[i]);
  }
  EXPECT_EQ(normal_total, 1000u);
  EXPECT_EQ(anomalous_total, 100u);
  // From the lowest 0.5% quantile (anomalous -50) to the highest 99.5% quantile (normal 994),
  // 2% wider on each side.
  EXPECT_DOUBLE_EQ(result.model.histogram.low, -50 - 1044 * 0.02);
  EXPECT_DOUBLE_EQ(result.model.histogram.high, 994 + 1044 * 0.02);
  EXPECT_EQ(Attributes(html, "<line class=\"threshold\"[^>]*>", "data-threshold"),
            std::vector<std::string>{"10"});
}

TEST(ReportHtml, HistogramCountsFarOutliersInTheEndBins) {
  // 1000 normal scores in [0, 10) and one at 1e6; anomalies in [-10, 0) and one at -inf.
  std::vector<float> normal, anomalous;
  for (int i = 0; i < 1000; ++i) normal.push_back(static_cast<float>(i) / 100);
  normal.push_back(1e6f);
  for (int i = 0; i < 1000; ++i) anomalous.push_back(-static_cast<float>(i + 1) / 100);
  anomalous.push_back(-std::numeric_limits<float>::infinity());
  LabeledScores scores(normal, anomalous);
  const ScoreHistogram h = ComputeFigures(scores, EvaluationOptions{}).histogram;
  EXPECT_LT(h.high, 11);  // the outlier does not stretch the range
  EXPECT_GT(h.low, -11);
  EXPECT_GE(h.normal.back(), 1u) << "1e6 lands in the last bin";
  EXPECT_GE(h.anomalous.front(), 1u);
  uint64_t normal_total = 0, anomalous_total = 0;
  for (uint64_t c : h.normal) normal_total += c;
  for (uint64_t c : h.anomalous) anomalous_total += c;
  EXPECT_EQ(normal_total, 1001u);
  EXPECT_EQ(anomalous_total, 1001u);
}

TEST(ReportHtml, RocCurveCarriesTheEvaluationsPoints) {
  const EvaluationResult result = Fixture();
  const std::string html = ReportHtml(result);
  std::string fprs, tprs;
  for (const RocPoint& p : result.model.roc) {
    if (!fprs.empty()) fprs += ',', tprs += ',';
    fprs += JsonNumber(p.false_positive_rate);
    tprs += JsonNumber(p.true_positive_rate);
  }
  EXPECT_EQ(Attributes(html, "<polyline class=\"roc-curve\"[^>]*>", "data-fpr"),
            std::vector<std::string>{fprs});
  EXPECT_EQ(Attributes(html, "<polyline class=\"roc-curve\"[^>]*>", "data-tpr"),
            std::vector<std::string>{tprs});
  // No oracle in the evaluation, none on the page.
  EXPECT_EQ(html.find("data-series=\"oracle\""), std::string::npos);
  EXPECT_EQ(html.find("histogram-oracle"), std::string::npos);
}

TEST(ReportHtml, OracleBesideTheModelWhenPresent) {
  EvaluationResult result = Fixture();
  result.oracle_scores.emplace(std::vector<float>{5, 6, 7, 8}, std::vector<float>{1, 2});
  result.oracle = ComputeFigures(*result.oracle_scores, EvaluationOptions{});
  const std::string html = ReportHtml(result);
  EXPECT_NE(html.find("id=\"histogram-oracle\""), std::string::npos);
  EXPECT_EQ(Attributes(html, "<polyline class=\"roc-curve\"[^>]*>", "data-series"),
            (std::vector<std::string>{"model", "oracle"}));
  EXPECT_NE(html.find(Cell("oracle", "recall", result.oracle->at_recommended.recall)),
            std::string::npos);
  EXPECT_NE(html.find("data-oracle=\"1\""), std::string::npos);  // oracle AUC 1
}

TEST(ReportHtml, EscapesFileNamesSourcesAndKinds) {
  EvaluationResult result = Fixture();
  result.source = "<script>alert(\"x\")</script>&'.csv";
  result.model_file = "models/<img src=x>.ipinsights";
  KindFigures kind;
  kind.kind = "<b onmouseover=\"x\">";
  kind.anomalous = 100;
  kind.recall_at_fpr.assign(result.model.recall_at_fpr.size(), 0.5);
  result.model.by_kind.push_back(kind);
  const std::string html = ReportHtml(result);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b "), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;.csv"),
            std::string::npos);
  EXPECT_NE(html.find("data-kind=\"&lt;b onmouseover=&quot;x&quot;&gt;\""), std::string::npos);
  EXPECT_EQ(HtmlEscape("a&b<c>\"d'"), "a&amp;b&lt;c&gt;&quot;d&#39;");
}

TEST(ReportHtml, ReferencesNothingOutsideThePage) {
  EvaluationResult result = Fixture();
  TrainingCurves curves;
  curves.metrics = "model/metrics.json";
  curves.epochs = {{1, 0.7, 0.8}, {2, 0.6, 0.85}};
  result.training = curves;
  std::string html = ReportHtml(result);
  // The SVG namespace is a name, not a request; nothing else may name a URL.
  for (size_t at = 0; (at = html.find("http://www.w3.org/2000/svg", at)) != std::string::npos;) {
    html.erase(at, std::string("http://www.w3.org/2000/svg").size());
  }
  for (const char* reference : {"http:", "https:", "//", "<script", "src=", "url(", "@import",
                                "<img", "<iframe", "<object", "<embed", "<link rel=\"style"}) {
    EXPECT_EQ(html.find(reference), std::string::npos) << reference;
  }
}

TEST(ReportHtml, TrainingCurvesPerEpoch) {
  EvaluationResult result = Fixture();
  TrainingCurves curves;
  curves.metrics = "model/metrics.json";
  curves.epochs = {{1, 0.75, std::nan("")}, {2, 0.5, 0.875}, {3, 0.25, 0.9375}};
  result.training = curves;
  const std::string html = ReportHtml(result);
  EXPECT_EQ(Attributes(html, "<figure [^>]*id=\"training-loss\"[^>]*>", "data-values"),
            std::vector<std::string>{"0.75,0.5,0.25"});
  // An epoch without validation AUC is not plotted.
  EXPECT_EQ(Attributes(html, "<figure [^>]*id=\"training-auc\"[^>]*>", "data-values"),
            std::vector<std::string>{"0.875,0.9375"});
  EXPECT_EQ(Attributes(html, "<figure [^>]*id=\"training-auc\"[^>]*>", "data-epochs"),
            std::vector<std::string>{"2,3"});
  const std::string json = EvaluationJson(result);
  EXPECT_NE(json.find("\"epochs\":[{\"epoch\":1,\"loss\":0.75,\"validation_auc\":null}"),
            std::string::npos)
      << json;
}

class ReportFiles : public testing::ScratchTest {};

TEST_F(ReportFiles, NoteWhenNoMetricsBesideTheModel) {
  EvaluationResult result = Fixture();
  AttachTrainingCurves(&result, Path("model/model.ipinsights"));
  EXPECT_FALSE(result.training.has_value());
  EXPECT_NE(result.training_note.find("no metrics.json beside the model"), std::string::npos);
  const std::string html = ReportHtml(result);
  EXPECT_NE(html.find("<p class=\"note\" id=\"training-note\">no metrics.json beside the model"),
            std::string::npos);
  EXPECT_EQ(html.find("id=\"training-loss\""), std::string::npos);
  const std::string json = EvaluationJson(result);
  EXPECT_NE(json.find("\"training\":null,\"training_note\":\"no metrics.json"), std::string::npos);
}

TEST_F(ReportFiles, ReadsMetricsBesideTheModelAndWritesThePage) {
  Write("model/metrics.json",
        R"({"hyperparameters": {}, "epochs": [
    {"epoch": 1, "loss": 0.69, "accuracy": 0.5, "validation_auc": 0.9, "seconds": 1},
    {"epoch": 2, "loss": 0.41, "accuracy": 0.8, "validation_auc": 0.95, "seconds": 1}]})");
  EvaluationResult result = Fixture();
  AttachTrainingCurves(&result, Path("model/model.ipinsights"));
  ASSERT_TRUE(result.training.has_value());
  ASSERT_EQ(result.training->epochs.size(), 2u);
  EXPECT_EQ(result.training->epochs[1].loss, 0.41);
  EXPECT_EQ(result.training->epochs[1].validation_auc, 0.95);
  EXPECT_EQ(result.model_file, Path("model/model.ipinsights"));
  WriteReportHtml(result, Path("out/report.html"));
  EXPECT_EQ(Read("out/report.html"), ReportHtml(result));
}

TEST_F(ReportFiles, BadMetricsIsAnErrorNamingTheFile) {
  Write("model/metrics.json", R"({"epochs": [{"epoch": 1, "loss": "high"}]})");
  EvaluationResult result = Fixture();
  try {
    AttachTrainingCurves(&result, Path("model/model.ipinsights"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(Path("model/metrics.json") + ": epochs[0]: \"loss\""),
              std::string::npos)
        << e.what();
  }
  Write("model/metrics.json", "{not json");
  EXPECT_THROW(AttachTrainingCurves(&result, Path("model/model.ipinsights")), Error);
}

TEST(RocForLogAxis, KeepsTheEndsOfEveryLogBin) {
  std::vector<float> normal, anomalous;
  for (int i = 0; i < 100000; ++i) normal.push_back(static_cast<float>(i));
  for (int i = 0; i < 5000; ++i) anomalous.push_back(static_cast<float>(i * 7 - 20));
  LabeledScores scores(normal, anomalous);
  const std::vector<RocPoint> full = scores.RocCurve(1u << 30);
  const std::vector<RocPoint> kept = RocForLogAxis(scores, 1e-4, 50);
  // 4 decades of 50 bins, two ends each, plus the bin below 1e-4 and the point (1, 1).
  EXPECT_LE(kept.size(), 2u * (4 * 50 + 2));
  EXPECT_GT(kept.size(), 100u);
  EXPECT_EQ(kept.front().false_positive_rate, 0);
  EXPECT_EQ(kept.front().true_positive_rate, 0);
  EXPECT_EQ(kept.back().false_positive_rate, 1);
  EXPECT_EQ(kept.back().true_positive_rate, 1);
  size_t at = 0;  // every kept point is a point of the full curve, in order
  for (const RocPoint& p : kept) {
    while (at < full.size() && full[at].threshold != p.threshold) ++at;
    ASSERT_LT(at, full.size()) << "kept a point not on the curve";
    EXPECT_EQ(full[at].false_positive_rate, p.false_positive_rate);
    EXPECT_EQ(full[at].true_positive_rate, p.true_positive_rate);
  }
  // The last point below 1e-4 FPR is kept: the recall reached before the axis starts.
  double best_below = 0;
  for (const RocPoint& p : full) {
    if (p.false_positive_rate < 1e-4) best_below = p.true_positive_rate;
  }
  bool found = false;
  for (const RocPoint& p : kept) found |= p.true_positive_rate == best_below;
  EXPECT_TRUE(found);
}

TEST(LabelsKind, ReadsKindsInOrderOfFirstAppearance) {
  LabeledPairs labels = ParseLabels(
      "entity,ip,label,oracle_score,kind\n"
      "a,1.2.3.4,0,5,normal\n"
      "b,1.2.3.5,1,-2,random_ip\n"
      "c,1.2.3.6,1,-3,instance_credentials\n"
      "d,1.2.3.7,1,-1,random_ip\n",
      "labels.csv");
  ASSERT_TRUE(labels.has_kind);
  EXPECT_EQ(labels.kind_names,
            (std::vector<std::string>{"normal", "random_ip", "instance_credentials"}));
  EXPECT_EQ(labels.kinds, (std::vector<uint32_t>{0, 1, 2, 1}));
  LabeledPairs without = ParseLabels("entity,ip,label\na,1.2.3.4,0\n", "labels.csv");
  EXPECT_FALSE(without.has_kind);
  EXPECT_TRUE(without.kinds.empty());
}

TEST(LabelsKind, EmptyKindIsAnError) {
  try {
    ParseLabels("entity,ip,label,kind\na,1.2.3.4,0,normal\nb,1.2.3.5,1,\n", "labels.csv");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "labels.csv:3: empty kind");
  }
}

}  // namespace
}  // namespace ipinsights
