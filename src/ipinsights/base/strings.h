// Small string helpers shared by every component: trimming, header-value canonicalisation
// and quoting an offending value inside an error message.
//
// Thread-safety: pure functions.
//
//   std::string_view value = TrimBlanks("  10 ");             // "10"
//   std::string header = CollapseBlanks(" a   b ");           // "a b" (SigV4 canonical form)
//   throw Error(fmt::format("{}:{}: bad IP {}", file, line, QuoteForMessage(field)));
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ipinsights {

// `text` without leading and trailing spaces and tabs (the blanks CSV, HTTP header values
// and SageMaker's hyperparameter strings allow around a value).
std::string_view TrimBlanks(std::string_view text);

// `text` without leading and trailing ASCII white space (space, \t, \n, \v, \f, \r): lines
// of files a person edits (AWS config and credentials files).
std::string_view TrimWhitespace(std::string_view text);

// Leading and trailing blanks removed and every inner run of spaces and tabs replaced by one
// space: how SigV4 canonicalises a header value.
std::string CollapseBlanks(std::string_view text);

// `text` in double quotes for an error or warning message: at most `max_bytes` of it (then
// "..."), '"' and '\' escaped with a backslash and every byte outside printable ASCII as
// \xHH, so that a hostile value can neither forge a log line nor hide in one.
std::string QuoteForMessage(std::string_view text, size_t max_bytes = 64);

// True when `a` and `b` are equal ignoring ASCII case.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace ipinsights
