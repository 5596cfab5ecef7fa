#include "ipinsights/detect/event_explainer.h"

#include <fmt/format.h>

#include <bit>
#include <cctype>
#include <string>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/json_text.h"

namespace ipinsights {
namespace {

std::string DayText(int32_t day) {
  return day == kUnknownDay ? "null" : JsonString(FormatDate(CivilFromDays(day)));
}

// Leading bits two addresses share (IPv4 ones compared as IPv4: 0..32).
int CommonPrefixBits(const IpAddress& a, const IpAddress& b) {
  if (a.is_v4() != b.is_v4()) return 0;
  if (a.is_v4()) {
    const uint32_t diff = a.v4() ^ b.v4();
    return diff == 0 ? 32 : std::countl_zero(diff);
  }
  const uint64_t high = a.high64() ^ b.high64();
  if (high != 0) return std::countl_zero(high);
  const uint64_t low = a.low64() ^ b.low64();
  return low == 0 ? 128 : 64 + std::countl_zero(low);
}

std::string Percent(double share) { return fmt::format("{:.0f}%", share * 100); }

std::string NetworkName(const IpAddress& ip, NetworkLevel level) {
  return NetworkOf(ip, level).ToString();
}

void AddOwner(const NetworkInfo& network, std::vector<Reason>* reasons) {
  if (network.asn == 0 && network.country.empty() && network.aws_prefix.empty()) return;
  std::string facts = "{";
  facts += fmt::format("\"asn\":{},\"as_org\":{},\"country\":{},\"in_aws\":{}",
                       network.asn == 0 ? "null" : std::to_string(network.asn),
                       JsonString(network.as_org), JsonString(network.country),
                       network.in_aws ? "true" : "false");
  if (network.in_aws) {
    facts += fmt::format(",\"aws_prefix\":{},\"aws_service\":{},\"aws_region\":{}",
                         JsonString(network.aws_prefix), JsonString(network.aws_service),
                         JsonString(network.aws_region));
  }
  facts += "}";
  std::string message = "address owned by ";
  message +=
      network.asn != 0 ? fmt::format("AS{} {}", network.asn, network.as_org) : "an unknown AS";
  if (!network.country.empty()) message += " in " + network.country;
  message += network.in_aws
                 ? fmt::format(", inside AWS ({} {})", network.aws_service, network.aws_region)
                 : ", outside AWS";
  reasons->push_back({"address_owner", std::move(message), std::move(facts)});
}

}  // namespace

bool IsInstanceSession(std::string_view principal_id) {
  const size_t colon = principal_id.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view session = principal_id.substr(colon + 1);
  if (session.size() != 10 && session.size() != 19) return false;  // i- + 8 or 17 hex
  if (session[0] != 'i' || session[1] != '-') return false;
  for (char c : session.substr(2)) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

EventExplainer::EventExplainer(const EntityHistory* history, const NetworkInfoSource* network_info,
                               EntityKind entity_kind)
    : history_(history),
      network_info_(network_info),
      one_entity_per_session_(entity_kind == EntityKind::kPrincipalId ||
                              entity_kind == EntityKind::kSession ||
                              entity_kind == EntityKind::kArn) {}

NetworkInfo EventExplainer::LookupNetwork(const IpAddress& ip) const {
  return network_info_ != nullptr ? network_info_->Lookup(ip) : NetworkInfo{};
}

bool EventExplainer::InstanceCredentialsOutside(std::string_view entity,
                                                std::string_view principal_id,
                                                const IpAddress& ip) const {
  if (history_ == nullptr || !one_entity_per_session_ || !IsInstanceSession(principal_id)) {
    return false;
  }
  const EntityRecord* record = history_->Find(entity);
  if (record == nullptr) return false;
  // An instance has a handful of addresses; a truncated list falls back to its /24s.
  if (!record->addresses_truncated) return !record->HasAddress(ip);
  return record->FindNetwork(ip, NetworkLevel::kFine) == nullptr;
}

Reason EventExplainer::InstanceCredentialsReason(std::string_view entity, const IpAddress& ip,
                                                 const NetworkInfo& network) const {
  const EntityRecord* record = history_ != nullptr ? history_->Find(entity) : nullptr;
  std::string known = "[";
  if (record != nullptr) {
    for (size_t i = 0; i < record->addresses.size() && i < 8; ++i) {
      if (i > 0) known += ",";
      known += JsonString(record->addresses[i].ip.ToString());
    }
  }
  known += "]";
  std::string message = fmt::format(
      "EC2 instance-role session used from {}, not from its instance's address{}{}", ip.ToString(),
      record != nullptr && record->addresses.size() == 1 ? " " : "es ",
      record != nullptr && !record->addresses.empty()
          ? record->addresses[0].ip.ToString() + (record->addresses.size() > 1 ? ", ..." : "")
          : std::string("(unknown)"));
  if (!network.aws_prefix.empty() || network.asn != 0) {
    message += network.in_aws ? " (inside AWS)" : " (outside AWS)";
  }
  return {"instance_credentials_outside_instance", std::move(message),
          fmt::format("{{\"instance_addresses\":{},\"in_aws\":{}}}", known,
                      network.aws_prefix.empty() && network.asn == 0
                          ? "null"
                          : (network.in_aws ? "true" : "false"))};
}

std::vector<Reason> EventExplainer::Explain(std::string_view entity, const IpAddress& ip,
                                            float score, bool anomalous, float threshold,
                                            double false_positive_rate,
                                            const NetworkInfo& network) const {
  std::vector<Reason> reasons;
  if (anomalous) {
    reasons.push_back(
        {"score_below_threshold",
         fmt::format("score {:.3f} is below the threshold {:.3f}: {} of normal pairs score this "
                     "low",
                     score, threshold,
                     false_positive_rate < 0.0001
                         ? std::string("under 0.01%")
                         : fmt::format("{:.2g}%", false_positive_rate * 100)),
         fmt::format("{{\"score\":{},\"threshold\":{},\"false_positive_rate\":{}}}",
                     JsonNumber(score), JsonNumber(threshold), JsonNumber(false_positive_rate))});
  }
  if (history_ == nullptr) {
    AddOwner(network, &reasons);
    return reasons;
  }
  const EntityRecord* record = history_->Find(entity);
  const std::string fine = NetworkName(ip, NetworkLevel::kFine);
  const std::string coarse = NetworkName(ip, NetworkLevel::kCoarse);
  if (record == nullptr) {
    reasons.push_back({"entity_unseen", "entity never seen in the training window",
                       fmt::format("{{\"history_entities\":{}}}", history_->entities())});
  } else {
    const NetworkUse* fine_use = record->FindNetwork(ip, NetworkLevel::kFine);
    const NetworkUse* coarse_use = record->FindNetwork(ip, NetworkLevel::kCoarse);
    if (!record->HasAddress(ip)) {
      reasons.push_back(
          {"ip_new_for_entity",
           record->addresses_truncated
               ? fmt::format("{} is not among the entity's {} most used addresses", ip.ToString(),
                             record->addresses.size())
               : fmt::format("{} never used by the entity ({} known addresses)", ip.ToString(),
                             record->addresses.size()),
           fmt::format("{{\"known_addresses\":{},\"truncated\":{}}}", record->addresses.size(),
                       record->addresses_truncated ? "true" : "false")});
    }
    if (coarse_use == nullptr) {
      reasons.push_back({"coarse_network_new_for_entity",
                         fmt::format("network {} never used by the entity{}", coarse,
                                     record->coarse_truncated ? " (among its most used)" : ""),
                         fmt::format("{{\"network\":{},\"known_networks\":{}}}", JsonString(coarse),
                                     record->coarse.size())});
    }
    if (fine_use == nullptr) {
      reasons.push_back({"fine_network_new_for_entity",
                         fmt::format("network {} never used by the entity{}", fine,
                                     record->fine_truncated ? " (among its most used)" : ""),
                         fmt::format("{{\"network\":{},\"known_networks\":{}}}", JsonString(fine),
                                     record->fine.size())});
    }
    // The known address sharing the longest prefix, and how much of the entity's activity
    // its /24 (/48) carries.
    const AddressCount* nearest = nullptr;
    int nearest_bits = -1;
    for (const AddressCount& known : record->addresses) {
      if (known.ip.is_v4() != ip.is_v4()) continue;  // no prefix is shared across families
      const int bits = CommonPrefixBits(known.ip, ip);
      if (bits > nearest_bits) {
        nearest_bits = bits;
        nearest = &known;
      }
    }
    if (nearest != nullptr) {
      const NetworkUse* use = record->FindNetwork(nearest->ip, NetworkLevel::kFine);
      const uint64_t events = use != nullptr ? use->events : nearest->events;
      const double share = record->events > 0
                               ? static_cast<double>(events) / static_cast<double>(record->events)
                               : 0;
      const std::string name = NetworkName(nearest->ip, NetworkLevel::kFine);
      reasons.push_back(
          {"nearest_known_network",
           fmt::format("the entity's nearest known network is {} ({} of its events, {} bits in "
                       "common)",
                       name, Percent(share), nearest_bits),
           fmt::format("{{\"network\":{},\"share\":{},\"events\":{},\"common_prefix_bits\":{},"
                       "\"first_day\":{},\"last_day\":{}}}",
                       JsonString(name), JsonNumber(share), events, nearest_bits,
                       DayText(use != nullptr ? use->first_day : kUnknownDay),
                       DayText(use != nullptr ? use->last_day : kUnknownDay))});
    }
    if (record->has_scores() && score < record->score_p05) {
      reasons.push_back(
          {"score_below_entity_history",
           score < record->score_min
               ? fmt::format("score {:.3f} is below every training event of the entity (lowest "
                             "{:.3f})",
                             score, record->score_min)
               : fmt::format("score {:.3f} is below 95% of the entity's training events", score),
           fmt::format("{{\"score\":{},\"entity_min\":{},\"entity_p05\":{},\"entity_median\":{}}}",
                       JsonNumber(score), JsonNumber(record->score_min),
                       JsonNumber(record->score_p05), JsonNumber(record->score_p50))});
    }
    // A new ASN: the address's AS is none of those the entity's known networks belong to.
    if (network_info_ != nullptr && network_info_->has_asn() && network.asn != 0) {
      bool known = false;
      for (const NetworkUse& use : record->fine) {
        if (network_info_->Lookup(use.network.base).asn == network.asn) {
          known = true;
          break;
        }
      }
      if (!known && !record->fine.empty()) {
        reasons.push_back(
            {"asn_new_for_entity",
             fmt::format("AS{} ({}) never used by the entity", network.asn,
                         network.as_org.empty() ? "unknown" : network.as_org),
             fmt::format("{{\"asn\":{},\"as_org\":{}}}", network.asn, JsonString(network.as_org))});
      }
    }
  }
  const uint64_t on_fine = history_->EntitiesOnNetwork(ip, NetworkLevel::kFine);
  const uint64_t on_coarse = history_->EntitiesOnNetwork(ip, NetworkLevel::kCoarse);
  if (on_fine == 0) {
    reasons.push_back({"network_new_across_entities",
                       fmt::format("no entity used {} in the training window ({} used {})", fine,
                                   on_coarse, coarse),
                       fmt::format("{{\"network\":{},\"entities\":0,\"coarse_network\":{},"
                                   "\"coarse_entities\":{}}}",
                                   JsonString(fine), JsonString(coarse), on_coarse)});
  } else if (on_fine <= kRareNetworkEntities) {
    reasons.push_back({"network_rare_across_entities",
                       fmt::format("only {} entit{} used {} in the training window", on_fine,
                                   on_fine == 1 ? "y" : "ies", fine),
                       fmt::format("{{\"network\":{},\"entities\":{},\"coarse_network\":{},"
                                   "\"coarse_entities\":{}}}",
                                   JsonString(fine), on_fine, JsonString(coarse), on_coarse)});
  }
  AddOwner(network, &reasons);
  return reasons;
}

}  // namespace ipinsights
