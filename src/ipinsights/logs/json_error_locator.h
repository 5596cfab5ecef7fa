// Finds where a JSON text stops being valid JSON, for error messages.
//
// simdjson says that a document is invalid but not where; this small, strict, scalar
// validator runs only on the error path (never on valid input in the hot loop) and returns
// the byte offset of the first syntax error, so messages can say
// "logs/a.json: byte 3053: malformed JSON (expected ',' or '}' after an object member)".
//
// Thread-safety: a pure function.
//
//   JsonErrorLocation where = LocateJsonError(text);
//   if (where.found) ReportAt(where.offset, where.message);
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ipinsights {

struct JsonErrorLocation {
  bool found = false;      // false: the first document of the text is valid JSON
  size_t offset = 0;       // byte offset of the error within the text
  std::string message;     // what was expected or found there
  bool truncated = false;  // the error is that the text ended inside the document
  size_t end = 0;          // when !found: the offset just after the first document
};

// Validates the first JSON document of `text` (leading whitespace allowed; anything after
// the document is ignored).
JsonErrorLocation LocateJsonError(std::string_view text);

}  // namespace ipinsights
