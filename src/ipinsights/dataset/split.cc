#include "ipinsights/dataset/split.h"

#include <cmath>

#include "ipinsights/base/hash.h"

namespace ipinsights {
namespace {

// Fixed: changing it reshuffles every user's validation set. ("ipsplit2": the per-event
// split; "ipsplit1" hashed the row alone.)
constexpr uint64_t kSplitSeed = 0x69707370'6c697432ULL;

}  // namespace

Split Split::ByFraction(double fraction) {
  Split split;
  split.mode_ = Mode::kFraction;
  if (fraction >= 1.0) {
    split.everything_ = true;
  } else if (fraction > 0.0) {
    split.threshold_ = static_cast<uint64_t>(std::ldexp(fraction, 64));
  }
  return split;
}

Split Split::AtDate(const Date& date) {
  Split split;
  split.mode_ = Mode::kAtDate;
  split.split_seconds_ = DaysFromCivil(date) * 86400;
  return split;
}

bool Split::ToValidation(std::string_view row, std::optional<int64_t> event_time) const {
  switch (mode_) {
    case Mode::kNone:
      return false;
    case Mode::kFraction:
      if (everything_) return true;
      // The event time joins the seed (a multiplicative mix spreads nearby seconds).
      return Hash64(row, kSplitSeed ^ (static_cast<uint64_t>(event_time.value_or(0)) *
                                       0x9E3779B97F4A7C15ULL)) < threshold_;
    case Mode::kAtDate:
      return event_time && *event_time >= split_seconds_;
  }
  return false;
}

}  // namespace ipinsights
