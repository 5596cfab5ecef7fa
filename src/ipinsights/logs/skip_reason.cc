#include "ipinsights/logs/skip_reason.h"

namespace ipinsights {

std::string_view SkipReasonName(SkipReason reason) {
  switch (reason) {
    case SkipReason::kAwsService:
      return "aws_service";
    case SkipReason::kNotAnIp:
      return "not_an_ip";
    case SkipReason::kIpv6:
      return "ipv6";
    case SkipReason::kNoEntity:
      return "no_entity";
    case SkipReason::kMalformed:
      return "malformed";
    case SkipReason::kOutOfRange:
      return "out_of_range";
    case SkipReason::kDigest:
      return "digest";
  }
  return "unknown";
}

}  // namespace ipinsights
