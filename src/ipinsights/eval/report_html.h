// The evaluation report: one self-contained HTML page a person reads to choose a threshold
// (`evaluate --report FILE.html`, `demo`, the pipeline's report.html beside a published
// model). docs/formats/report-html.md describes what it shows and how each figure is computed.
//
// The page is static: inline CSS and inline SVG, no script, no font, no image, no link to
// anywhere (it loads from a file with no network request). Every plotted or tabulated number
// comes from the EvaluationResult, the same figures EvaluationJson prints, and is also
// written into data-* attributes (in the JSON's shortest round-trip text) so tests read the
// figures from the DOM and compare them with `evaluate --json`. Every string from outside
// (file names, the source, attack kinds) is HTML-escaped.
//
// Thread-safety: pure functions.
//
//   EvaluationResult result = EvaluateLabels(*model, labels, {}, 0);
//   AttachTrainingCurves(&result, "model/model.ipinsights");  // metrics.json beside it
//   WriteReportHtml(result, "model/report.html");              // or s3://bucket/key.html
#pragma once

#include <string>
#include <string_view>

#include "ipinsights/eval/evaluation.h"

namespace ipinsights {

// The page's text. The result must come from EvaluateLabels or EvaluatePairs (any options).
std::string ReportHtml(const EvaluationResult& result);

// Writes ReportHtml(result) to `location` (local path or s3://), atomically: the page
// appears whole or not at all. Throws Error naming the location.
void WriteReportHtml(const EvaluationResult& result, const std::string& location);

// `text` with & < > " ' replaced by character references: safe in element content and in
// quoted attribute values.
std::string HtmlEscape(std::string_view text);

}  // namespace ipinsights
