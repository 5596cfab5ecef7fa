#include "ipinsights/eval/report_html.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "ipinsights/base/error.h"
#include "ipinsights/base/json_text.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

// Chart geometry (SVG user units): the plot area is [kLeft, kWidth - kRight] x
// [kTop, kHeight - kBottom].
constexpr double kWidth = 680, kHeight = 320;
constexpr double kLeft = 64, kRight = 16, kTop = 16, kBottom = 52;
constexpr double kPlotWidth = kWidth - kLeft - kRight;
constexpr double kPlotHeight = kHeight - kTop - kBottom;
// The ROC's log FPR axis: 10^kLogFprMin .. 1.
constexpr int kLogFprMin = -4;

const char* kModelColor = "#1f5fa8";
const char* kOracleColor = "#7a7a7a";
const char* kNormalColor = "#2b8a3e";
const char* kAnomalousColor = "#d9480f";
const char* kThresholdColor = "#c2255c";

// A number as the JSON prints it (shortest round-trip text, null for NaN and infinities):
// the form of every data-* attribute, so the DOM compares exactly with `evaluate --json`.
std::string Data(double value) { return JsonNumber(value); }

// A number for people.
std::string Show(double value, int decimals = 4) {
  if (std::isnan(value)) return "n/a";
  if (std::isinf(value)) return value > 0 ? "+&#8734;" : "&#8722;&#8734;";
  return fmt::format("{:.{}f}", value, decimals);
}

std::string Percent(double fraction) { return fmt::format("{:g}%", fraction * 100); }

// An SVG coordinate.
std::string At(double v) { return fmt::format("{:.2f}", v); }

double XLinear(double value, double low, double high) {
  return kLeft + (value - low) / (high - low) * kPlotWidth;
}
double YLinear(double value, double low, double high) {
  return kTop + kPlotHeight - (value - low) / (high - low) * kPlotHeight;
}
// FPRs below the axis's minimum (0 included) are drawn at its left edge.
double XLogFpr(double fpr) {
  double decades = std::log10(std::max(fpr, std::pow(10.0, kLogFprMin))) - kLogFprMin;
  return kLeft + decades / -kLogFprMin * kPlotWidth;
}

// "nice" tick positions covering [low, high], about `count` of them.
std::vector<double> Ticks(double low, double high, int count) {
  const double raw = (high - low) / count;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  for (double t = std::ceil(low / step) * step; t <= high + step * 1e-9; t += step) {
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

std::string TickLabel(double value) { return fmt::format("{:g}", value); }

void OpenSvg(std::string* out, const std::string& label) {
  *out += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"{}\" "
      "height=\"{}\" role=\"img\" aria-label=\"{}\">\n",
      kWidth, kHeight, kWidth, kHeight, HtmlEscape(label));
  *out += fmt::format(
      "<rect class=\"plot-area\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fbfbfb\" "
      "stroke=\"#ccc\"/>\n",
      kLeft, kTop, kPlotWidth, kPlotHeight);
}

// The x axis: ticks at `ticks` (value, label) placed by `x_of`, and its title.
template <typename XOf>
void XAxis(std::string* out, const std::vector<std::pair<double, std::string>>& ticks,
           const XOf& x_of, const std::string& title) {
  const double y = kTop + kPlotHeight;
  *out += "<g class=\"axis x-axis\" data-title=\"" + HtmlEscape(title) + "\">\n";
  *out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333\"/>\n", kLeft,
                      At(y), kLeft + kPlotWidth, At(y));
  for (const auto& [value, label] : ticks) {
    const double x = x_of(value);
    *out += fmt::format(
        "<g class=\"tick\" data-value=\"{}\"><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" "
        "stroke=\"#333\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text></g>\n",
        Data(value), At(x), At(y), At(x), At(y + 5), At(x), At(y + 18), label);
  }
  *out +=
      fmt::format("<text class=\"axis-title\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                  At(kLeft + kPlotWidth / 2), At(kHeight - 10), HtmlEscape(title));
  *out += "</g>\n";
}

template <typename YOf>
void YAxis(std::string* out, const std::vector<std::pair<double, std::string>>& ticks,
           const YOf& y_of, const std::string& title) {
  *out += "<g class=\"axis y-axis\" data-title=\"" + HtmlEscape(title) + "\">\n";
  *out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333\"/>\n", kLeft,
                      kTop, kLeft, kTop + kPlotHeight);
  for (const auto& [value, label] : ticks) {
    const double y = y_of(value);
    *out += fmt::format(
        "<g class=\"tick\" data-value=\"{}\"><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" "
        "stroke=\"#333\"/><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#eee\"/>"
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text></g>\n",
        Data(value), kLeft - 5, At(y), kLeft, At(y), kLeft + 1, At(y), kLeft + kPlotWidth - 1,
        At(y), kLeft - 8, At(y + 4), label);
  }
  *out += fmt::format(
      "<text class=\"axis-title\" transform=\"translate(14 {}) rotate(-90)\" "
      "text-anchor=\"middle\">{}</text>\n",
      At(kTop + kPlotHeight / 2), HtmlEscape(title));
  *out += "</g>\n";
}

struct LegendEntry {
  std::string label;  // already HTML
  std::string color;
  bool dashed = false;
};

// Top-right legend, inside the plot area.
void Legend(std::string* out, const std::vector<LegendEntry>& entries, bool left = false) {
  const double x = left ? kLeft + 12 : kLeft + kPlotWidth - 236;
  *out += "<g class=\"legend\">\n";
  for (size_t i = 0; i < entries.size(); ++i) {
    const double y = kTop + 16 + 18 * static_cast<double>(i);
    *out += fmt::format(
        "<g class=\"legend-entry\"><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" "
        "stroke-width=\"3\"{}/><text x=\"{}\" y=\"{}\">{}</text></g>\n",
        At(x), At(y - 4), At(x + 22), At(y - 4), entries[i].color,
        entries[i].dashed ? " stroke-dasharray=\"5 3\"" : "", At(x + 28), At(y), entries[i].label);
  }
  *out += "</g>\n";
}

std::string JoinData(const std::vector<double>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += Data(values[i]);
  }
  return out;
}

// Score histograms of one series (model or oracle): each class as its share of the class's
// pairs per bin (the classes differ in size by orders of magnitude), the recommended
// threshold marked.
void HistogramChart(std::string* out, const std::string& series, const std::string& title,
                    const SeparationFigures& f) {
  const ScoreHistogram& h = f.histogram;
  const size_t bins = h.normal.size();
  const double width = (h.high - h.low) / static_cast<double>(bins);
  double top = 0;
  for (size_t i = 0; i < bins; ++i) {
    top = std::max(top, static_cast<double>(h.normal[i]) / static_cast<double>(f.normal));
    top = std::max(top, static_cast<double>(h.anomalous[i]) / static_cast<double>(f.anomalous));
  }
  top = top > 0 ? top * 100 * 1.08 : 1;
  *out += fmt::format(
      "<figure class=\"chart\" id=\"histogram-{}\" data-chart=\"histogram\" data-series=\"{}\" "
      "data-low=\"{}\" data-high=\"{}\" data-bin-width=\"{}\" data-threshold=\"{}\">\n",
      series, series, Data(h.low), Data(h.high), Data(width), Data(f.recommended_threshold));
  *out += "<figcaption>" + HtmlEscape(title) + "</figcaption>\n";
  OpenSvg(out, title);
  std::vector<std::pair<double, std::string>> x_ticks, y_ticks;
  for (double t : Ticks(h.low, h.high, 8)) x_ticks.emplace_back(t, TickLabel(t));
  for (double t : Ticks(0, top, 5)) y_ticks.emplace_back(t, TickLabel(t));
  auto x_of = [&](double v) { return XLinear(v, h.low, h.high); };
  auto y_of = [&](double v) { return YLinear(v, 0, top); };
  YAxis(out, y_ticks, y_of, "share of the class's pairs (%)");
  XAxis(out, x_ticks, x_of, "score (higher = more normal; flagged when below the threshold)");
  const double bar = kPlotWidth / static_cast<double>(bins);
  for (const auto& [name, counts, total, color] :
       {std::tuple{"normal", &h.normal, f.normal, kNormalColor},
        std::tuple{"anomalous", &h.anomalous, f.anomalous, kAnomalousColor}}) {
    *out += fmt::format("<g class=\"bars\" data-class=\"{}\" data-total=\"{}\">\n", name, total);
    for (size_t i = 0; i < bins; ++i) {
      const double share = static_cast<double>((*counts)[i]) / static_cast<double>(total) * 100;
      const double y = y_of(share);
      const double from = h.low + width * static_cast<double>(i);
      *out += fmt::format(
          "<rect class=\"bar {}\" data-bin=\"{}\" data-count=\"{}\" x=\"{}\" y=\"{}\" "
          "width=\"{}\" height=\"{}\" fill=\"{}\" fill-opacity=\"0.55\"><title>{} pairs, score "
          "[{:.4g}, {:.4g}): {} ({:.3g}%)</title></rect>\n",
          name, i, (*counts)[i], At(kLeft + bar * static_cast<double>(i)), At(y), At(bar),
          At(kTop + kPlotHeight - y), color, name, from, from + width, (*counts)[i], share);
    }
    *out += "</g>\n";
  }
  std::vector<LegendEntry> legend = {
      {fmt::format("normal pairs ({})", f.normal), kNormalColor},
      {fmt::format("anomalous pairs ({})", f.anomalous), kAnomalousColor}};
  if (std::isfinite(f.recommended_threshold)) {
    const double t = std::clamp(f.recommended_threshold, h.low, h.high);
    *out += fmt::format(
        "<line class=\"threshold\" data-threshold=\"{}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" "
        "y2=\"{}\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>\n",
        Data(f.recommended_threshold), At(x_of(t)), kTop, At(x_of(t)), kTop + kPlotHeight,
        kThresholdColor);
    legend.push_back({fmt::format("threshold {} (FPR &#8804; {})", Show(f.recommended_threshold),
                                  Percent(f.target_fpr)),
                      kThresholdColor, true});
  }
  Legend(out, legend);
  *out += "</svg>\n</figure>\n";
}

void RocChart(std::string* out, const EvaluationResult& result) {
  const std::string title = "ROC curve (false-positive rate on a log axis)";
  *out += "<figure class=\"chart\" id=\"roc\" data-chart=\"roc\">\n";
  *out += "<figcaption>" + title + "</figcaption>\n";
  OpenSvg(out, title);
  std::vector<std::pair<double, std::string>> x_ticks, y_ticks;
  for (int e = kLogFprMin; e <= 0; ++e)
    x_ticks.emplace_back(std::pow(10.0, e), Percent(std::pow(10.0, e)));
  for (double t : Ticks(0, 1, 5)) y_ticks.emplace_back(t, TickLabel(t));
  auto y_of = [](double v) { return YLinear(v, 0, 1); };
  YAxis(out, y_ticks, y_of, "recall (true-positive rate)");
  XAxis(out, x_ticks, XLogFpr, "false-positive rate (share of normal pairs flagged)");
  // Chance: recall = FPR, a curve on this axis.
  std::string chance;
  for (int i = 0; i <= 40; ++i) {
    const double fpr = std::pow(10.0, kLogFprMin + -kLogFprMin * i / 40.0);
    chance += At(XLogFpr(fpr)) + "," + At(y_of(fpr)) + " ";
  }
  *out += "<polyline class=\"chance\" points=\"" + chance +
          "\" fill=\"none\" stroke=\"#bbb\" stroke-dasharray=\"2 3\"/>\n";
  std::vector<LegendEntry> legend;
  auto series = [&](const char* name, const SeparationFigures& f, const char* color, bool dashed) {
    std::vector<double> fprs, tprs;
    std::string points;
    for (const RocPoint& p : f.roc) {
      fprs.push_back(p.false_positive_rate);
      tprs.push_back(p.true_positive_rate);
      points += At(XLogFpr(p.false_positive_rate)) + "," + At(y_of(p.true_positive_rate)) + " ";
    }
    *out += fmt::format(
        "<polyline class=\"roc-curve\" data-series=\"{}\" data-auc=\"{}\" data-fpr=\"{}\" "
        "data-tpr=\"{}\" points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}/>\n",
        name, Data(f.auc), JoinData(fprs), JoinData(tprs), points, color,
        dashed ? " stroke-dasharray=\"6 3\"" : "");
    for (const RecallAtFpr& r : f.recall_at_fpr) {
      *out += fmt::format(
          "<circle class=\"operating-point\" data-series=\"{}\" data-target-fpr=\"{}\" "
          "data-fpr=\"{}\" data-recall=\"{}\" cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"{}\"><title>{} "
          "at {} FPR: recall {}</title></circle>\n",
          name, Data(r.target_fpr), Data(r.false_positive_rate), Data(r.recall),
          At(XLogFpr(r.false_positive_rate)), At(y_of(r.recall)), color, name,
          Percent(r.target_fpr), Show(r.recall));
    }
    legend.push_back({fmt::format("{} (AUC {})", name, Show(f.auc)), color, dashed});
  };
  series("model", result.model, kModelColor, false);
  if (result.oracle) series("oracle", *result.oracle, kOracleColor, true);
  legend.push_back({"chance (recall = FPR)", "#bbb", true});
  Legend(out, legend, /*left=*/true);
  *out += "</svg>\n</figure>\n";
}

// One training curve (loss or validation AUC per epoch).
void EpochChart(std::string* out, const std::string& id, const std::string& title,
                const std::string& y_title, const std::vector<TrainingEpoch>& epochs,
                double TrainingEpoch::*field) {
  std::vector<double> xs, ys;
  for (const TrainingEpoch& e : epochs) {
    if (!std::isfinite(e.*field)) continue;
    xs.push_back(static_cast<double>(e.epoch));
    ys.push_back(e.*field);
  }
  *out += fmt::format(
      "<figure class=\"chart\" id=\"{}\" data-chart=\"training\" data-epochs=\"{}\" "
      "data-values=\"{}\">\n",
      id, JoinData(xs), JoinData(ys));
  *out += "<figcaption>" + title + "</figcaption>\n";
  if (xs.empty()) {
    *out += "<p class=\"note\">No value recorded (train had no validation set).</p>\n</figure>\n";
    return;
  }
  OpenSvg(out, title);
  double x_low = xs.front(), x_high = std::max(xs.back(), xs.front() + 1);
  double y_low = *std::min_element(ys.begin(), ys.end());
  double y_high = *std::max_element(ys.begin(), ys.end());
  const double pad = std::max((y_high - y_low) * 0.1, std::abs(y_high) * 1e-3 + 1e-9);
  y_low -= pad;
  y_high += pad;
  std::vector<std::pair<double, std::string>> x_ticks, y_ticks;
  for (double t : Ticks(x_low, x_high, std::min<int>(10, static_cast<int>(x_high - x_low)))) {
    if (t == std::floor(t)) x_ticks.emplace_back(t, TickLabel(t));
  }
  for (double t : Ticks(y_low, y_high, 5)) y_ticks.emplace_back(t, TickLabel(t));
  auto x_of = [&](double v) { return XLinear(v, x_low, x_high); };
  auto y_of = [&](double v) { return YLinear(v, y_low, y_high); };
  YAxis(out, y_ticks, y_of, y_title);
  XAxis(out, x_ticks, x_of, "epoch");
  std::string points;
  for (size_t i = 0; i < xs.size(); ++i) points += At(x_of(xs[i])) + "," + At(y_of(ys[i])) + " ";
  *out += "<polyline class=\"training-curve\" points=\"" + points + "\" fill=\"none\" stroke=\"" +
          kModelColor + "\" stroke-width=\"2\"/>\n";
  for (size_t i = 0; i < xs.size(); ++i) {
    *out += fmt::format(
        "<circle class=\"epoch-point\" data-epoch=\"{}\" data-value=\"{}\" cx=\"{}\" cy=\"{}\" "
        "r=\"3.5\" fill=\"{}\"><title>epoch {}: {:.6g}</title></circle>\n",
        Data(xs[i]), Data(ys[i]), At(x_of(xs[i])), At(y_of(ys[i])), kModelColor, xs[i], ys[i]);
  }
  Legend(out, {{y_title, kModelColor}});
  *out += "</svg>\n</figure>\n";
}

// A table cell carrying its figure: data-series, data-field and the exact value.
std::string Cell(const char* series, const std::string& field, double value,
                 const std::string& shown) {
  return fmt::format("<td data-series=\"{}\" data-field=\"{}\" data-value=\"{}\">{}</td>", series,
                     field, Data(value), shown);
}
std::string CountCell(const char* series, const std::string& field, uint64_t value) {
  return fmt::format("<td data-series=\"{}\" data-field=\"{}\" data-value=\"{}\">{}</td>", series,
                     field, value, value);
}

void OperatingPointTable(std::string* out, const EvaluationResult& result) {
  const bool oracle = result.oracle.has_value();
  const SeparationFigures& m = result.model;
  *out +=
      "<table id=\"operating-points\">\n<thead><tr><th>operating point</th><th>threshold "
      "(flag score &lt; T)</th><th>FPR reached</th><th>recall</th><th>precision</th><th>alerts "
      "per day</th>";
  if (oracle) *out += "<th>oracle threshold</th><th>oracle recall</th><th>oracle precision</th>";
  *out += "</tr></thead>\n<tbody>\n";
  auto row = [&](const std::string& point, double target, const std::string& name,
                 const auto& get) {
    *out += fmt::format("<tr data-point=\"{}\" data-target-fpr=\"{}\"><th>{}</th>", point,
                        Data(target), name);
    const auto [threshold, fpr, recall, precision, flagged_normal] = get(m);
    *out += Cell("model", "threshold", threshold, Show(threshold));
    *out += Cell("model", "false_positive_rate", fpr, Show(fpr * 100, 3) + "%");
    *out += Cell("model", "recall", recall, Show(recall));
    *out += Cell("model", "precision", precision, Show(precision));
    *out += CountCell("model", "alerts_per_day", flagged_normal);
    if (oracle) {
      const auto [o_threshold, o_fpr, o_recall, o_precision, o_flagged] = get(*result.oracle);
      (void)o_fpr;
      (void)o_flagged;
      *out += Cell("oracle", "threshold", o_threshold, Show(o_threshold));
      *out += Cell("oracle", "recall", o_recall, Show(o_recall));
      *out += Cell("oracle", "precision", o_precision, Show(o_precision));
    }
    *out += "</tr>\n";
  };
  row("recommended", m.target_fpr,
      fmt::format("recommended (FPR &#8804; {})", Percent(m.target_fpr)),
      [](const SeparationFigures& f) {
        const ThresholdMetrics& t = f.at_recommended;
        return std::tuple{t.threshold, t.false_positive_rate, t.recall, t.precision,
                          t.flagged_normal};
      });
  for (size_t i = 0; i < m.recall_at_fpr.size(); ++i) {
    const double target = m.recall_at_fpr[i].target_fpr;
    row("fpr", target, Percent(target) + " FPR", [i](const SeparationFigures& f) {
      const RecallAtFpr& r = f.recall_at_fpr[i];
      return std::tuple{r.threshold, r.false_positive_rate, r.recall, r.precision,
                        r.flagged_normal};
    });
  }
  *out += "</tbody>\n</table>\n";
  *out += fmt::format(
      "<p class=\"note\">Alerts per day = false-positive rate &#215; the {} normal events of the "
      "evaluated day (the normal pairs of the labels, or of the held-out set): the false alerts "
      "an analyst would see each day at that threshold; every caught attack adds one more. "
      "Precision is the share of flagged pairs that are anomalies <em>in this evaluation "
      "set</em>, whose share of anomalies ({} of {}) is usually far above real traffic's.</p>\n",
      m.normal, m.anomalous, m.normal + m.anomalous);
}

void KindTable(std::string* out, const EvaluationResult& result) {
  const SeparationFigures& m = result.model;
  const bool oracle = result.oracle && result.oracle->by_kind.size() == m.by_kind.size();
  *out += "<table id=\"by-kind\">\n<thead><tr><th>kind</th><th>anomalies</th><th>AUC</th>";
  *out += fmt::format("<th>recall at recommended (FPR &#8804; {})</th>", Percent(m.target_fpr));
  for (const RecallAtFpr& r : m.recall_at_fpr) {
    *out += "<th>recall at " + Percent(r.target_fpr) + " FPR</th>";
  }
  if (oracle) *out += "<th>oracle AUC</th><th>oracle recall at recommended</th>";
  *out += "</tr></thead>\n<tbody>\n";
  for (size_t i = 0; i < m.by_kind.size(); ++i) {
    const KindFigures& k = m.by_kind[i];
    *out += fmt::format("<tr data-kind=\"{}\"><th>{}</th>", HtmlEscape(k.kind), HtmlEscape(k.kind));
    *out += CountCell("model", "anomalous", k.anomalous);
    *out += Cell("model", "auc", k.auc, Show(k.auc));
    *out += Cell("model", "recall", k.recall, Show(k.recall));
    for (size_t j = 0; j < k.recall_at_fpr.size(); ++j) {
      *out += Cell("model", "recall_at_fpr:" + Data(m.recall_at_fpr[j].target_fpr),
                   k.recall_at_fpr[j], Show(k.recall_at_fpr[j]));
    }
    if (oracle) {
      const KindFigures& o = result.oracle->by_kind[i];
      *out += Cell("oracle", "auc", o.auc, Show(o.auc));
      *out += Cell("oracle", "recall", o.recall, Show(o.recall));
    }
    *out += "</tr>\n";
  }
  *out += "</tbody>\n</table>\n";
}

constexpr const char* kStyle = R"(
body { font: 14px/1.45 system-ui, sans-serif; color: #222; margin: 24px auto; max-width: 1100px;
       padding: 0 16px; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:first-child { text-align: left; }
thead th { background: #f1f3f5; }
.note { color: #555; max-width: 900px; }
figure { margin: 8px 0; display: inline-block; vertical-align: top; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
svg .axis-title { font-size: 12px; }
code { background: #f1f3f5; padding: 0 3px; }
)";

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string ReportHtml(const EvaluationResult& result) {
  const SeparationFigures& m = result.model;
  std::string out;
  out.reserve(256 * 1024);
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      // No favicon request: the page must load with no request beyond itself.
      "<link rel=\"icon\" href=\"data:,\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; img-src data:\">\n"
      "<title>ipinsights evaluation</title>\n<style>";
  out += kStyle;
  out += "</style>\n</head>\n<body>\n<h1>ipinsights evaluation</h1>\n<dl id=\"about\">\n";
  if (!result.model_file.empty()) {
    out += "<dt>model</dt><dd id=\"model-file\"><code>" + HtmlEscape(result.model_file) +
           "</code></dd>\n";
  }
  if (!result.source.empty()) {
    out += "<dt>evaluated on</dt><dd id=\"source\"><code>" + HtmlEscape(result.source) +
           "</code></dd>\n";
  }
  out += fmt::format(
      "<dt>pairs</dt><dd id=\"counts\" data-normal=\"{}\" data-anomalous=\"{}\">{} normal, {} "
      "anomalous</dd>\n",
      m.normal, m.anomalous, m.normal, m.anomalous);
  out += fmt::format("<dt>AUC</dt><dd id=\"auc\" data-model=\"{}\"", Data(m.auc));
  if (result.oracle) out += fmt::format(" data-oracle=\"{}\"", Data(result.oracle->auc));
  out += ">model " + Show(m.auc);
  if (result.oracle) {
    out += ", oracle " + Show(result.oracle->auc) +
           " (the simulator's Bayes-optimal score: the best any model can do on these pairs)";
  }
  out += "</dd>\n</dl>\n";

  out += "<h2>Choosing a threshold</h2>\n";
  out += fmt::format(
      "<p class=\"note\">A pair is flagged when its score is below the threshold. The "
      "recommended threshold is the largest one that flags at most {} of the normal pairs "
      "(<code>--target-fpr</code>); the other rows hold the same rule at fixed rates.</p>\n",
      Percent(m.target_fpr));
  OperatingPointTable(&out, result);

  out += "<h2>Score distributions</h2>\n";
  HistogramChart(&out, "model", "Model scores of normal and anomalous pairs", m);
  if (result.oracle) {
    HistogramChart(&out, "oracle", "Oracle scores of the same pairs", *result.oracle);
  }

  out += "<h2>ROC curve</h2>\n";
  RocChart(&out, result);
  out += fmt::format(
      "<p class=\"note\">Each point: the share of anomalies flagged (recall) against the share "
      "of normal pairs flagged, for one threshold. Rates below {} (0 included) are drawn at the "
      "left edge. The dots mark the table's fixed rates.</p>\n",
      Percent(std::pow(10.0, kLogFprMin)));

  if (!m.by_kind.empty()) {
    out += "<h2>Recall per attack kind</h2>\n";
    KindTable(&out, result);
  }

  out += "<h2>Training</h2>\n";
  if (result.training && !result.training->epochs.empty()) {
    out += "<p class=\"note\">From <code>" + HtmlEscape(result.training->metrics) +
           "</code>: the training loss and the AUC on the validation set after each epoch.</p>\n";
    EpochChart(&out, "training-loss", "Training loss per epoch", "loss", result.training->epochs,
               &TrainingEpoch::loss);
    EpochChart(&out, "training-auc", "Validation AUC per epoch", "validation AUC",
               result.training->epochs, &TrainingEpoch::validation_auc);
  } else {
    const std::string note = result.training ? "metrics.json lists no epochs"
                             : result.training_note.empty()
                                 ? "training curves were not loaded for this evaluation"
                                 : result.training_note;
    out += "<p class=\"note\" id=\"training-note\">" + HtmlEscape(note) + "</p>\n";
  }
  out += "</body>\n</html>\n";
  return out;
}

void WriteReportHtml(const EvaluationResult& result, const std::string& location) {
  WriteWholeObject(location, ReportHtml(result));
}

}  // namespace ipinsights
