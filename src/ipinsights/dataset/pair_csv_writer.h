// The training CSV: headerless "entity,ip" rows (docs/formats/training-csv.md), exactly the
// training format of SageMaker's built-in IP Insights.
//
// The entity is written as is unless it contains a comma, a double quote, CR or LF, or
// starts or ends with a space; then it is quoted per RFC 4180 (inner quotes doubled). The
// IP is written in canonical form (IpAddress::Format: dotted quad, RFC 5952 for IPv6).
// Rows end with "\n".
//
// Thread-safety: pure functions on caller-owned buffers.
//
//   std::string rows;
//   AppendPairCsvRow("AIDAEXAMPLE", ip, &rows);   // "AIDAEXAMPLE,203.0.113.9\n"
#pragma once

#include <string>
#include <string_view>

#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {

// True when `entity` must be quoted in a CSV field.
bool EntityNeedsCsvQuoting(std::string_view entity);

// Appends the row "entity,ip\n" to *out.
void AppendPairCsvRow(std::string_view entity, const IpAddress& ip, std::string* out);

}  // namespace ipinsights
