#include "ipinsights/detect/scored_event.h"

namespace ipinsights {

std::string_view CredentialTypeOf(std::string_view access_key_id) {
  // AWS access key ids name their kind in the first four characters.
  if (access_key_id.substr(0, 4) == "AKIA") return "long_term";
  if (access_key_id.substr(0, 4) == "ASIA") return "temporary";
  return "";
}

std::string ScoredEvent::Activity() const {
  if (kind == LogKind::kCloudTrail) {
    if (event_source.empty()) return event_name;
    return event_source + ":" + event_name;
  }
  if (http_method.empty()) return uri;
  return http_method + " " + uri;
}

}  // namespace ipinsights
