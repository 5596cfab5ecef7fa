#include "ipinsights/dataset/split.h"

#include <cmath>

#include "ipinsights/base/hash.h"

namespace ipinsights {
namespace {

// Fixed forever: changing it reshuffles every user's validation set.
constexpr uint64_t kSplitSeed = 0x69707370'6c697431ULL;  // "ipsplit1"

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
      return everything_ || Hash64(row, kSplitSeed) < threshold_;
    case Mode::kAtDate:
      return event_time && *event_time >= split_seconds_;
  }
  return false;
}

}  // namespace ipinsights
