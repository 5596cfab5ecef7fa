#include "ipinsights/eval/evaluation.h"

#include <fmt/format.h>

#include <cmath>
#include <iterator>

#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/base/parallel.h"

namespace ipinsights {
namespace {

constexpr size_t kScoreBlock = 4096;

void AppendFigures(std::string* out, const SeparationFigures& f) {
  auto key = [&](const char* name) {
    out->append("\"");
    out->append(name);
    out->append("\":");
  };
  auto number = [&](const char* name, double value) {
    key(name);
    AppendJsonNumber(out, value);
    out->push_back(',');
  };
  auto count = [&](const char* name, uint64_t value) {
    key(name);
    out->append(std::to_string(value));
    out->push_back(',');
  };
  count("normal", f.normal);
  count("anomalous", f.anomalous);
  number("auc", f.auc);
  const ThresholdMetrics& first = f.at_thresholds.front();
  number("threshold", first.threshold);
  number("recall", first.recall);
  number("precision", first.precision);
  number("false_positive_rate", first.false_positive_rate);
  key("thresholds");
  out->push_back('[');
  for (size_t i = 0; i < f.at_thresholds.size(); ++i) {
    const ThresholdMetrics& m = f.at_thresholds[i];
    if (i > 0) out->push_back(',');
    out->push_back('{');
    number("threshold", m.threshold);
    number("recall", m.recall);
    number("precision", m.precision);
    number("false_positive_rate", m.false_positive_rate);
    count("flagged_anomalous", m.flagged_anomalous);
    key("flagged_normal");
    out->append(std::to_string(m.flagged_normal));
    out->push_back('}');
  }
  out->append("],");
  number("target_fpr", f.target_fpr);
  number("recommended_threshold", f.recommended_threshold);
  key("recall_at_fpr");
  out->push_back('[');
  for (size_t i = 0; i < f.recall_at_fpr.size(); ++i) {
    const RecallAtFpr& r = f.recall_at_fpr[i];
    if (i > 0) out->push_back(',');
    out->push_back('{');
    number("target_fpr", r.target_fpr);
    number("threshold", r.threshold);
    number("recall", r.recall);
    key("false_positive_rate");
    AppendJsonNumber(out, r.false_positive_rate);
    out->push_back('}');
  }
  out->push_back(']');
}

std::string Fixed(double value, int decimals) {
  if (std::isnan(value)) return "n/a";
  if (std::isinf(value)) return value > 0 ? "+inf" : "-inf";
  return fmt::format("{:.{}f}", value, decimals);
}

std::string Percent(double value) { return fmt::format("{:g}%", value * 100); }

}  // namespace

SeparationFigures ComputeFigures(const LabeledScores& scores, const EvaluationOptions& options) {
  IPI_CHECK(!options.thresholds.empty());
  SeparationFigures f;
  f.normal = scores.normal_count();
  f.anomalous = scores.anomalous_count();
  f.auc = scores.Auc();
  for (double t : options.thresholds) f.at_thresholds.push_back(scores.AtThreshold(t));
  f.target_fpr = options.target_fpr;
  f.recommended_threshold = scores.RecommendedThreshold(options.target_fpr);
  for (double fpr : options.fixed_fprs) {
    RecallAtFpr r;
    r.target_fpr = fpr;
    r.threshold = scores.RecommendedThreshold(fpr);
    ThresholdMetrics m = scores.AtThreshold(r.threshold);
    r.recall = m.recall;
    r.false_positive_rate = m.false_positive_rate;
    f.recall_at_fpr.push_back(r);
  }
  return f;
}

std::vector<float> ScoreAll(const Model& model, const std::vector<std::string_view>& entities,
                            const std::vector<IpAddress>& ips, size_t threads) {
  IPI_CHECK(entities.size() == ips.size());
  std::vector<float> scores(entities.size());
  const size_t blocks = (entities.size() + kScoreBlock - 1) / kScoreBlock;
  ParallelFor(blocks, threads, [&](size_t block, size_t) {
    size_t begin = block * kScoreBlock;
    size_t n = std::min(kScoreBlock, entities.size() - begin);
    model.ScoreBatch(entities.data() + begin, ips.data() + begin, n, scores.data() + begin);
  });
  return scores;
}

EvaluationResult EvaluateLabels(const Model& model, const LabeledPairs& labels,
                                const EvaluationOptions& options, size_t threads) {
  std::vector<float> scores = ScoreAll(model, labels.entities, labels.ips, threads);
  std::vector<float> normal, anomalous, oracle_normal, oracle_anomalous;
  for (size_t i = 0; i < labels.size(); ++i) {
    (labels.labels[i] ? anomalous : normal).push_back(scores[i]);
    if (labels.has_oracle) {
      (labels.labels[i] ? oracle_anomalous : oracle_normal).push_back(labels.oracle_scores[i]);
    }
  }
  EvaluationResult result;
  result.model_scores.emplace(std::move(normal), std::move(anomalous));
  result.model = ComputeFigures(*result.model_scores, options);
  if (labels.has_oracle) {
    result.oracle_scores.emplace(std::move(oracle_normal), std::move(oracle_anomalous));
    result.oracle = ComputeFigures(*result.oracle_scores, options);
  }
  return result;
}

EvaluationResult EvaluatePairs(const Model& model,
                               const std::vector<std::string_view>& normal_entities,
                               const std::vector<IpAddress>& normal_ips,
                               const std::vector<std::string_view>& anomalous_entities,
                               const std::vector<IpAddress>& anomalous_ips,
                               const EvaluationOptions& options, size_t threads) {
  EvaluationResult result;
  result.model_scores.emplace(ScoreAll(model, normal_entities, normal_ips, threads),
                              ScoreAll(model, anomalous_entities, anomalous_ips, threads));
  result.model = ComputeFigures(*result.model_scores, options);
  return result;
}

std::string EvaluationTable(const EvaluationResult& result) {
  const bool oracle = result.oracle.has_value();
  std::string out;
  auto row = [&](const std::string& name, const std::string& model_value,
                 const std::string& oracle_value) {
    out += fmt::format("  {:<36} {:>10}", name, model_value);
    if (oracle) out += fmt::format("  {:>10}", oracle_value);
    out += '\n';
  };
  const SeparationFigures& m = result.model;
  const SeparationFigures* o = oracle ? &*result.oracle : nullptr;
  if (!result.source.empty()) out += fmt::format("evaluated on {}\n", result.source);
  out += fmt::format("  {} normal pairs, {} anomalous pairs\n", m.normal, m.anomalous);
  row("", "model", "oracle");
  row("auc", Fixed(m.auc, 4), o ? Fixed(o->auc, 4) : "");
  for (size_t i = 0; i < m.at_thresholds.size(); ++i) {
    const ThresholdMetrics& t = m.at_thresholds[i];
    const ThresholdMetrics* ot = o ? &o->at_thresholds[i] : nullptr;
    std::string at = fmt::format("(score < {:g})", t.threshold);
    row("recall " + at, Fixed(t.recall, 4), ot ? Fixed(ot->recall, 4) : "");
    row("precision " + at, Fixed(t.precision, 4), ot ? Fixed(ot->precision, 4) : "");
    row("false_positive_rate " + at, Fixed(t.false_positive_rate, 4),
        ot ? Fixed(ot->false_positive_rate, 4) : "");
  }
  for (size_t i = 0; i < m.recall_at_fpr.size(); ++i) {
    const RecallAtFpr& r = m.recall_at_fpr[i];
    row("recall at " + Percent(r.target_fpr) + " FPR", Fixed(r.recall, 4),
        o ? Fixed(o->recall_at_fpr[i].recall, 4) : "");
  }
  row("recommended_threshold (FPR <= " + Percent(m.target_fpr) + ")",
      Fixed(m.recommended_threshold, 4), o ? Fixed(o->recommended_threshold, 4) : "");
  return out;
}

std::string EvaluationJson(const EvaluationResult& result) {
  std::string out = "{";
  if (!result.source.empty()) {
    out += "\"source\":";
    AppendJsonString(&out, result.source);
    out += ',';
  }
  AppendFigures(&out, result.model);
  if (result.oracle) {
    out += ",\"oracle\":{";
    AppendFigures(&out, *result.oracle);
    out += '}';
  }
  out += "}";
  return out;
}

}  // namespace ipinsights
