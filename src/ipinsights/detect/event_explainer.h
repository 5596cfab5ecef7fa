// EventExplainer: the reasons an event is unusual, from what the training history says
// about its entity, its address and the address's networks (history/entity_history.h), and
// with the user's files, who owns the address (network_info.h). Reason codes:
// scored_event.h. It also decides the one rule that flags an event whatever the model's
// score: an EC2 instance-role session used from an address other than its instance's.
//
// The instance rule. An instance-role session's principalId ends in the instance id
// ("AROA...:i-0a1b2c3d4e5f60718"); its calls come from the instance's own addresses, so a
// known session seen from any other address means its credentials left the instance (the
// pattern of stolen instance credentials; GuardDuty's InstanceCredentialExfiltration). It
// applies only where the entity names one session (--entity principalId, session or arn)
// and only to sessions the history knows: a new instance has no known address yet.
//
// Thread-safety: immutable after construction; Explain and the rule may be called from any
// number of threads at once.
//
//   EventExplainer explainer(&history, &network_info, EntityKind::kPrincipalId);
//   if (explainer.InstanceCredentialsOutside(entity, principal_id, ip)) ...
//   std::vector<Reason> reasons = explainer.Explain(entity, ip, score, threshold, fpr);
#pragma once

#include <string_view>
#include <vector>

#include "ipinsights/detect/network_info.h"
#include "ipinsights/detect/scored_event.h"
#include "ipinsights/history/entity_history.h"
#include "ipinsights/pairs/entity.h"

namespace ipinsights {

// Entities seen on a fine network by at most this many entities make it "rare".
inline constexpr uint64_t kRareNetworkEntities = 2;

// True when `principal_id`'s session name is an EC2 instance id ("...:i-" then 8 or 17
// lower-case hex digits).
bool IsInstanceSession(std::string_view principal_id);

class EventExplainer {
 public:
  // `history` and `network_info` may be nullptr (no reasons from them); they must outlive
  // the explainer. `entity_kind`: how entities were extracted (the instance rule needs one
  // entity per session).
  EventExplainer(const EntityHistory* history, const NetworkInfoSource* network_info,
                 EntityKind entity_kind);

  // The instance rule (see above). `principal_id`: the record's userIdentity.principalId.
  bool InstanceCredentialsOutside(std::string_view entity, std::string_view principal_id,
                                  const IpAddress& ip) const;
  // The reason of the instance rule, for an event it flagged.
  Reason InstanceCredentialsReason(std::string_view entity, const IpAddress& ip,
                                   const NetworkInfo& network) const;

  // The reasons for a flagged event, most telling first. `anomalous`: the model's score is
  // below `threshold` (adds score_below_threshold).
  std::vector<Reason> Explain(std::string_view entity, const IpAddress& ip, float score,
                              bool anomalous, float threshold, double false_positive_rate,
                              const NetworkInfo& network) const;

  // The address's owner, empty without network info files.
  NetworkInfo LookupNetwork(const IpAddress& ip) const;

 private:
  const EntityHistory* history_;
  const NetworkInfoSource* network_info_;
  bool one_entity_per_session_;
};

}  // namespace ipinsights
