// The project's one error type, and the check macro for programmer errors.
//
// Fallible operations that cross a component boundary throw ipinsights::Error with a
// message that names the resource and the position ("train.csv:88: bad IP \"1.2.3\"").
// The CLI and the server catch it at their boundary; nothing else prints or exits.
// UsageError is an Error caused by the command line (exit code 2 instead of 1).
// Input problems inside a stream of records are not thrown: readers report them to a
// reporter and go on (see logs/skip_reason.h).
//
// Thread-safety: plain value types.
//
//   if (!file) throw Error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
//   IPI_CHECK(rows == cols);  // aborts: a bug, never bad input
#pragma once

#include <stdexcept>
#include <string>

namespace ipinsights {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// An error in how the program was invoked (bad flag value, missing input): exit code 2.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(message) {}
};

// Returns "<what>: <strerror(errno_value)>".
std::string ErrnoMessage(const std::string& what, int errno_value);

[[noreturn]] void CheckFailed(const char* expression, const char* file, int line);

}  // namespace ipinsights

// For invariants only (shape mismatches, impossible states), never for input validation.
#define IPI_CHECK(condition) \
  ((condition) ? (void)0 : ::ipinsights::CheckFailed(#condition, __FILE__, __LINE__))
