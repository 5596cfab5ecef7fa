// Writing the training CSV (headerless "entity,ip" rows, docs/formats/training-csv.md,
// exactly the training format of SageMaker's built-in IP Insights) and CSV fields in
// general: prepare writes rows with AppendPairCsvRow, simulate writes labels.csv's entity
// column with AppendCsvField, so both quote alike and read back through CsvRecordReader.
//
// A field is written as is unless it is empty, contains a comma, a double quote, CR or LF,
// or starts or ends with a space or a tab; then it is quoted per RFC 4180 (inner quotes
// doubled). Quoting the empty field tells it apart from a blank line; quoting the blanks at
// the ends keeps them from readers that trim (SageMaker's "entity, ip" leniency). The IP is
// written in canonical form (IpAddress::Format: dotted quad, RFC 5952 for IPv6). Rows end
// with "\n".
//
// Thread-safety: pure functions on caller-owned buffers.
//
//   std::string rows;
//   AppendPairCsvRow("AIDAEXAMPLE", ip, &rows);   // "AIDAEXAMPLE,203.0.113.9\n"
//   AppendCsvField("a,b", &rows);                 // "\"a,b\""
#pragma once

#include <string>
#include <string_view>

#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {

// True when `field` must be quoted in a CSV field (see above).
bool CsvFieldNeedsQuoting(std::string_view field);

// Appends `field` to *out, quoted when it must be.
void AppendCsvField(std::string_view field, std::string* out);

// Appends the row "entity,ip\n" to *out.
void AppendPairCsvRow(std::string_view entity, const IpAddress& ip, std::string* out);

}  // namespace ipinsights
