// Train / validation splits of prepared pairs.
//
//   by fraction  a row goes to validation when the hash of its text (the CSV row without
//                its newline, XXH3 with a fixed seed) falls below the fraction: the same
//                row always goes the same way, whatever the order or thread count, so
//                repeated events of one pair never straddle the split;
//   at a date    events at or after 00:00 UTC of the date go to validation (an
//                out-of-time split); events without a readable time stay in training.
//
// Thread-safety: an immutable value; ToValidation is pure.
//
//   Split split = Split::ByFraction(0.1);
//   bool validation = split.ToValidation("AIDAEXAMPLE,203.0.113.9", std::nullopt);
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "ipinsights/base/civil_time.h"

namespace ipinsights {

class Split {
 public:
  static Split None() { return Split(); }
  // `fraction` in [0, 1].
  static Split ByFraction(double fraction);
  static Split AtDate(const Date& date);

  bool enabled() const { return mode_ != Mode::kNone; }
  bool needs_event_time() const { return mode_ == Mode::kAtDate; }

  // `row`: the CSV row without its newline; `event_time`: Unix seconds, when known.
  bool ToValidation(std::string_view row, std::optional<int64_t> event_time) const;

 private:
  enum class Mode { kNone, kFraction, kAtDate };
  Mode mode_ = Mode::kNone;
  uint64_t threshold_ = 0;      // kFraction: hash < threshold goes to validation
  bool everything_ = false;     // kFraction with fraction 1
  int64_t split_seconds_ = 0;   // kAtDate
};

}  // namespace ipinsights
