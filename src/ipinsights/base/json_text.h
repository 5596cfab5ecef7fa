// Writing JSON text by hand, fast, for the NDJSON `score` emits and the summaries
// `evaluate` prints.
//
// AppendJsonString writes a quoted JSON string that is valid for ANY input bytes: '"', '\\'
// and control characters are escaped, valid UTF-8 is copied unchanged, and each byte of an
// invalid UTF-8 sequence becomes U+FFFD (JSON text must be UTF-8; entities come from logs
// and may be anything). AppendJsonNumber writes the shortest text that reads back as the
// same value, and null for NaN or infinity (JSON has no such numbers).
//
// Thread-safety: pure functions.
//
//   std::string line;
//   AppendJsonString(&line, entity);
//   AppendJsonNumber(&line, score);
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ipinsights {

void AppendJsonString(std::string* out, std::string_view text);
void AppendJsonNumber(std::string* out, double value);
void AppendJsonNumber(std::string* out, float value);

// The same into a buffer the caller has made room in, for hot loops that write many values
// into one buffer (score's event lines): each writes at most JsonStringBound(text.size())
// or kJsonNumberBound bytes at `out` and returns the end of what it wrote.
constexpr size_t JsonStringBound(size_t size) { return 2 + 6 * size; }  // "\ufffd" per byte
inline constexpr size_t kJsonNumberBound = 32;
char* WriteJsonString(char* out, std::string_view text);
char* WriteJsonNumber(char* out, double value);
char* WriteJsonNumber(char* out, float value);

// The same, as a new string, for building a summary with fmt::format.
std::string JsonString(std::string_view text);

// Length of the valid UTF-8 sequence starting at s[0] (n > 0, s[0] >= 0x80), or 0 when it
// is not one: the rule AppendJsonString follows (an invalid byte becomes one U+FFFD), so
// characters counted with it are the characters it writes.
size_t ValidUtf8Length(const unsigned char* s, size_t n);
std::string JsonNumber(double value);

}  // namespace ipinsights
