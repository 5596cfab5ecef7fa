// Network, NetworkOf, days and the companion location: the small value helpers of
// entity_history.h.
#include <fmt/format.h>

#include "ipinsights/history/entity_history.h"
#include "ipinsights/history/history_impl.h"

namespace ipinsights {

std::string Network::ToString() const {
  return fmt::format("{}/{}", base.ToString(), prefix_length);
}

Network NetworkOf(const IpAddress& ip, NetworkLevel level) {
  const uint8_t prefix = PrefixLength(ip.is_v4(), level);
  if (ip.is_v4()) {
    const uint32_t mask = ~uint32_t{0} << (32 - prefix);
    return Network{IpAddress::FromV4(ip.v4() & mask), prefix};
  }
  const uint64_t mask = ~uint64_t{0} << (64 - prefix);
  return Network{IpAddress::FromHalves(ip.high64() & mask, 0), prefix};
}

int32_t DayOfUnixSeconds(int64_t unix_seconds) {
  // Floor division: the second before the epoch is day -1... which is kUnknownDay; logs from
  // before 1970 do not exist, so that collision is harmless.
  const int64_t day = unix_seconds >= 0 ? unix_seconds / 86400 : (unix_seconds - 86399) / 86400;
  return static_cast<int32_t>(day);
}

std::string HistoryLocationFor(const std::string& csv_location) {
  return csv_location + ".history";
}

}  // namespace ipinsights
