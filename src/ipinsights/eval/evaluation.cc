#include "ipinsights/eval/evaluation.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <iterator>
#include <limits>

#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/base/parallel.h"
#include "ipinsights/storage/storage.h"

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
  key("at_recommended");
  {
    const ThresholdMetrics& m = f.at_recommended;
    out->push_back('{');
    number("threshold", m.threshold);
    number("recall", m.recall);
    number("precision", m.precision);
    number("false_positive_rate", m.false_positive_rate);
    count("flagged_anomalous", m.flagged_anomalous);
    count("flagged_normal", m.flagged_normal);
    key("alerts_per_day");
    out->append(std::to_string(m.flagged_normal));
    out->append("},");
  }
  key("recall_at_fpr");
  out->push_back('[');
  for (size_t i = 0; i < f.recall_at_fpr.size(); ++i) {
    const RecallAtFpr& r = f.recall_at_fpr[i];
    if (i > 0) out->push_back(',');
    out->push_back('{');
    number("target_fpr", r.target_fpr);
    number("threshold", r.threshold);
    number("recall", r.recall);
    number("false_positive_rate", r.false_positive_rate);
    number("precision", r.precision);
    count("flagged_anomalous", r.flagged_anomalous);
    count("flagged_normal", r.flagged_normal);
    key("alerts_per_day");
    out->append(std::to_string(r.flagged_normal));
    out->push_back('}');
  }
  out->append("],");
  auto numbers = [&](const char* name, const auto& values, auto get) {
    key(name);
    out->push_back('[');
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendJsonNumber(out, static_cast<double>(get(values[i])));
    }
    out->push_back(']');
  };
  key("histogram");
  out->push_back('{');
  number("low", f.histogram.low);
  number("high", f.histogram.high);
  number("bin_width",
         (f.histogram.high - f.histogram.low) / static_cast<double>(f.histogram.normal.size()));
  numbers("normal", f.histogram.normal, [](uint64_t c) { return c; });
  out->push_back(',');
  numbers("anomalous", f.histogram.anomalous, [](uint64_t c) { return c; });
  out->append("},");
  key("roc");
  out->push_back('{');
  numbers("false_positive_rate", f.roc, [](const RocPoint& p) { return p.false_positive_rate; });
  out->push_back(',');
  numbers("true_positive_rate", f.roc, [](const RocPoint& p) { return p.true_positive_rate; });
  out->push_back(',');
  numbers("threshold", f.roc, [](const RocPoint& p) { return p.threshold; });
  out->push_back('}');
  if (!f.by_kind.empty()) {
    out->push_back(',');
    key("by_kind");
    out->push_back('[');
    for (size_t i = 0; i < f.by_kind.size(); ++i) {
      const KindFigures& k = f.by_kind[i];
      if (i > 0) out->push_back(',');
      out->push_back('{');
      key("kind");
      AppendJsonString(out, k.kind);
      out->push_back(',');
      count("anomalous", k.anomalous);
      number("auc", k.auc);
      number("recall", k.recall);
      numbers("recall_at_fpr", k.recall_at_fpr, [](double r) { return r; });
      out->push_back('}');
    }
    out->push_back(']');
  }
}

// A bin index for log10(fpr) over [min_fpr, 1]; -1 below min_fpr.
long LogBin(double fpr, double min_fpr, size_t bins_per_decade) {
  if (fpr < min_fpr) return -1;
  return static_cast<long>(
      std::floor(std::log10(fpr / min_fpr) * static_cast<double>(bins_per_decade)));
}

std::string Fixed(double value, int decimals) {
  if (std::isnan(value)) return "n/a";
  if (std::isinf(value)) return value > 0 ? "+inf" : "-inf";
  return fmt::format("{:.{}f}", value, decimals);
}

std::string Percent(double value) { return fmt::format("{:g}%", value * 100); }

// The histogram's range: from the lowest 0.5% quantile of the two classes to the highest
// 99.5% quantile, widened to hold the recommended threshold. A few far outliers (an
// oracle's scores reach +70 where the bulk lies within +-20) would otherwise squeeze every
// bar into a few bins; they are counted in the end bins instead.
ScoreHistogram ReportHistogram(const LabeledScores& scores, double threshold, size_t bins) {
  double low = std::min(scores.NormalQuantile(0.005), scores.AnomalousQuantile(0.005));
  double high = std::max(scores.NormalQuantile(0.995), scores.AnomalousQuantile(0.995));
  if (std::isfinite(threshold)) {
    low = std::min(low, threshold);
    high = std::max(high, threshold);
  }
  if (!std::isfinite(low) || !std::isfinite(high) || !(low < high)) {
    return scores.Histogram(bins);  // infinite quantiles, or one value: the finite span
  }
  const double margin = (high - low) * 0.02;
  return scores.Histogram(bins, low - margin, high + margin);
}

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
    r.precision = m.precision;
    r.flagged_anomalous = m.flagged_anomalous;
    r.flagged_normal = m.flagged_normal;
    f.recall_at_fpr.push_back(r);
  }
  f.at_recommended = scores.AtThreshold(f.recommended_threshold);
  f.histogram = ReportHistogram(scores, f.recommended_threshold, options.histogram_bins);
  f.roc = RocForLogAxis(scores, options.roc_min_fpr, options.roc_bins_per_decade);
  return f;
}

std::vector<RocPoint> RocForLogAxis(const LabeledScores& scores, double min_fpr,
                                    size_t bins_per_decade) {
  IPI_CHECK(min_fpr > 0 && min_fpr < 1 && bins_per_decade > 0);
  const std::vector<RocPoint> all = scores.RocCurve(std::numeric_limits<size_t>::max());
  std::vector<RocPoint> kept;
  // The curve is monotone in FPR, so each bin is one run of points: keep its ends.
  for (size_t i = 0; i < all.size(); ++i) {
    const long bin = LogBin(all[i].false_positive_rate, min_fpr, bins_per_decade);
    const bool first =
        i == 0 || LogBin(all[i - 1].false_positive_rate, min_fpr, bins_per_decade) != bin;
    const bool last = i + 1 == all.size() ||
                      LogBin(all[i + 1].false_positive_rate, min_fpr, bins_per_decade) != bin;
    if (first || last) kept.push_back(all[i]);
  }
  return kept;
}

namespace {

// Figures of each attack kind: the anomalous scores split by kind against all the normal
// ones, at the thresholds `overall` chose (they depend on the normal scores only).
std::vector<KindFigures> FiguresByKind(const std::vector<float>& normal,
                                       const std::vector<float>& anomalous,
                                       const std::vector<uint32_t>& anomalous_kinds,
                                       const std::vector<std::string>& kind_names,
                                       const SeparationFigures& overall) {
  std::vector<std::vector<float>> split(kind_names.size());
  for (size_t i = 0; i < anomalous.size(); ++i) split[anomalous_kinds[i]].push_back(anomalous[i]);
  std::vector<KindFigures> out;
  for (size_t k = 0; k < kind_names.size(); ++k) {
    if (split[k].empty()) continue;  // "normal", or a kind only normal rows carry
    KindFigures figures;
    figures.kind = kind_names[k];
    figures.anomalous = split[k].size();
    LabeledScores scores(normal, std::move(split[k]));
    figures.auc = scores.Auc();
    figures.recall = scores.AtThreshold(overall.recommended_threshold).recall;
    for (const RecallAtFpr& r : overall.recall_at_fpr) {
      figures.recall_at_fpr.push_back(scores.AtThreshold(r.threshold).recall);
    }
    out.push_back(std::move(figures));
  }
  return out;
}

}  // namespace

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
  std::vector<uint32_t> anomalous_kinds;
  for (size_t i = 0; i < labels.size(); ++i) {
    (labels.labels[i] ? anomalous : normal).push_back(scores[i]);
    if (labels.has_oracle) {
      (labels.labels[i] ? oracle_anomalous : oracle_normal).push_back(labels.oracle_scores[i]);
    }
    if (labels.has_kind && labels.labels[i]) anomalous_kinds.push_back(labels.kinds[i]);
  }
  EvaluationResult result;
  // LabeledScores sorts its copies; the kinds need the scores in row order.
  std::vector<float> anomalous_copy = labels.has_kind ? anomalous : std::vector<float>();
  std::vector<float> oracle_anomalous_copy =
      labels.has_kind ? oracle_anomalous : std::vector<float>();
  result.model_scores.emplace(std::move(normal), std::move(anomalous));
  result.model = ComputeFigures(*result.model_scores, options);
  if (labels.has_kind && !anomalous_kinds.empty()) {
    result.model.by_kind = FiguresByKind(result.model_scores->normal_scores(), anomalous_copy,
                                         anomalous_kinds, labels.kind_names, result.model);
  }
  if (labels.has_oracle) {
    result.oracle_scores.emplace(std::move(oracle_normal), std::move(oracle_anomalous));
    result.oracle = ComputeFigures(*result.oracle_scores, options);
    if (labels.has_kind && !anomalous_kinds.empty()) {
      result.oracle->by_kind =
          FiguresByKind(result.oracle_scores->normal_scores(), oracle_anomalous_copy,
                        anomalous_kinds, labels.kind_names, *result.oracle);
    }
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
  if (!m.by_kind.empty()) row("recall at recommended, by kind:", "", "");
  for (size_t i = 0; i < m.by_kind.size(); ++i) {
    const KindFigures& k = m.by_kind[i];
    // The oracle's kinds come from the same rows, in the same order.
    row(fmt::format("  {} ({})", k.kind, k.anomalous), Fixed(k.recall, 4),
        o && i < o->by_kind.size() ? Fixed(o->by_kind[i].recall, 4) : "");
  }
  return out;
}

std::string EvaluationJson(const EvaluationResult& result) {
  std::string out = "{";
  if (!result.source.empty()) {
    out += "\"source\":";
    AppendJsonString(&out, result.source);
    out += ',';
  }
  if (!result.model_file.empty()) {
    out += "\"model_file\":";
    AppendJsonString(&out, result.model_file);
    out += ',';
  }
  AppendFigures(&out, result.model);
  if (result.oracle) {
    out += ",\"oracle\":{";
    AppendFigures(&out, *result.oracle);
    out += '}';
  }
  if (result.training) {
    out += ",\"training\":{\"metrics\":";
    AppendJsonString(&out, result.training->metrics);
    out += ",\"epochs\":[";
    for (size_t i = 0; i < result.training->epochs.size(); ++i) {
      const TrainingEpoch& e = result.training->epochs[i];
      if (i > 0) out += ',';
      out += "{\"epoch\":" + std::to_string(e.epoch) + ",\"loss\":";
      AppendJsonNumber(&out, e.loss);
      out += ",\"validation_auc\":";
      AppendJsonNumber(&out, e.validation_auc);
      out += '}';
    }
    out += "]}";
  } else if (!result.training_note.empty()) {
    out += ",\"training\":null,\"training_note\":";
    AppendJsonString(&out, result.training_note);
  }
  out += "}";
  return out;
}

TrainingCurves ParseTrainingCurves(std::string_view text, const std::string& name) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element root;
  if (auto error = parser.parse(padded).get(root)) {
    throw Error(fmt::format("{}: not JSON ({})", name, simdjson::error_message(error)));
  }
  simdjson::dom::array epochs;
  if (root["epochs"].get(epochs) != simdjson::SUCCESS) {
    throw Error(name + ": no \"epochs\" array (expected train's metrics.json)");
  }
  TrainingCurves curves;
  curves.metrics = name;
  size_t index = 0;
  for (simdjson::dom::element epoch : epochs) {
    ++index;
    TrainingEpoch e;
    // Numbers may be written as integers ("loss": 1) or doubles; null = no validation set.
    auto number = [&](const char* field, bool nullable) -> double {
      simdjson::dom::element value;
      if (epoch[field].get(value) != simdjson::SUCCESS) {
        throw Error(fmt::format("{}: epochs[{}]: no \"{}\"", name, index - 1, field));
      }
      if (value.is_null() && nullable) return std::numeric_limits<double>::quiet_NaN();
      double out = 0;
      if (value.get(out) != simdjson::SUCCESS) {
        throw Error(fmt::format("{}: epochs[{}]: \"{}\" is not a number", name, index - 1, field));
      }
      return out;
    };
    e.epoch = static_cast<uint64_t>(number("epoch", false));
    e.loss = number("loss", true);
    e.validation_auc = number("validation_auc", true);
    curves.epochs.push_back(e);
  }
  return curves;
}

void AttachTrainingCurves(EvaluationResult* result, const std::string& model_location) {
  result->model_file = model_location;
  result->training.reset();
  // metrics.json lives beside the model: the same folder or S3 prefix.
  const size_t slash = model_location.rfind('/');
  const std::string folder =
      slash == std::string::npos ? std::string() : model_location.substr(0, slash + 1);
  const std::string metrics = JoinLocation(folder, "metrics.json");
  if (!OpenStorage(metrics).Exists(metrics)) {
    result->training_note =
        "no metrics.json beside the model (" + metrics + "): training curves are not shown";
    return;
  }
  result->training = ParseTrainingCurves(ReadWholeObject(metrics), metrics);
  result->training_note.clear();
}

}  // namespace ipinsights
