// Finding output formats (docs/formats/findings.md):
//   ndjson  one JSON object per line, ipinsights' own schema (type "ipinsights.finding/1")
//   asff    AWS Security Finding Format: lines of {"Findings":[...]} with at most 100 findings
//           each, the request body of Security Hub's BatchImportFindings, accepted as-is by
//           `aws securityhub batch-import-findings --cli-input-json`
//   ocsf    OCSF 1.1 Detection Finding (class_uid 2004), one per line
//
// Thread-safety: pure functions.
//
//   AsffContext context{.region = "us-east-1", .account_id = "123456789012"};
//   for (const std::string& batch : AsffBatches(findings, context)) out << batch << '\n';
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/detect/finding.h"

namespace ipinsights {

enum class FindingFormat { kNdjson, kAsff, kOcsf };
// "ndjson" | "asff" | "ocsf"; throws UsageError naming the accepted values.
FindingFormat ParseFindingFormat(std::string_view text);

// One line, no newline.
std::string FindingJson(const Finding& finding);
std::string OcsfFindingJson(const Finding& finding, int64_t now);

inline constexpr size_t kAsffBatchLimit = 100;

struct AsffContext {
  std::string region;      // the Security Hub region (ProductArn, Resources' Region default)
  std::string account_id;  // where findings without a recipientAccountId go; the ProductArn's
  int64_t now = 0;         // CreatedAt / UpdatedAt (Unix seconds)
};

// One ASFF finding object.
std::string AsffFindingJson(const Finding& finding, const AsffContext& context);
// {"Findings":[...]} bodies of at most kAsffBatchLimit findings each.
std::vector<std::string> AsffBatches(const std::vector<Finding>& findings,
                                     const AsffContext& context);

}  // namespace ipinsights
