#include "ipinsights/simulate/population.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ipinsights/base/error.h"

namespace ipinsights::simulate {
namespace {

constexpr uint64_t kTagPopulation = 0x706f7075;  // "popu"
constexpr uint64_t kTagLeaseChange = 0x6c656173;
constexpr uint64_t kTagHomeAddress = 0x686f6d65;
constexpr uint64_t kTagInterfaceId = 0x69696421;
constexpr uint64_t kTagFixedAddress = 0x66697864;
constexpr double kLeaseChangePerDay = 0.04;
constexpr double kNegativeInfinity = -std::numeric_limits<double>::infinity();

size_t PickCumulative(const std::vector<double>& cumulative, double u) {
  const double target = u * cumulative.back();
  size_t index = static_cast<size_t>(
      std::upper_bound(cumulative.begin(), cumulative.end(), target) - cumulative.begin());
  return std::min(index, cumulative.size() - 1);
}

double LogSumExp(const double* terms, int count) {
  double top = kNegativeInfinity;
  for (int i = 0; i < count; ++i) top = std::max(top, terms[i]);
  if (top == kNegativeInfinity) return top;
  double sum = 0;
  for (int i = 0; i < count; ++i) sum += std::exp(terms[i] - top);
  return top + std::log(sum);
}

}  // namespace

Population::Population(const NetworkTable& networks, const PopulationOptions& options)
    : networks_(networks), options_(options) {
  const size_t n = networks_.size();
  travel_cumulative_.resize(n);
  travel_log_probability_.resize(n);
  // Travel: half by popularity (big ISPs and carriers, hotel chains), half uniform over the
  // table (anywhere), so travel partly looks like an attack, as it does in real logs.
  double total = 0;
  for (size_t i = 0; i < n; ++i) total += networks_.network(i).popularity;
  double running = 0;
  for (size_t i = 0; i < n; ++i) {
    const double probability =
        0.5 * networks_.network(i).popularity / total + 0.5 / static_cast<double>(n);
    running += probability;
    travel_cumulative_[i] = running;
    travel_log_probability_[i] = std::log(probability);
  }
  for (int kind = 0; kind < 4; ++kind) {
    for (uint32_t index : networks_.OfKind(static_cast<NetworkKind>(kind))) {
      const Network& net = networks_.network(index);
      const int v6 = net.has_v6 ? 1 : 0;
      pick_members_[kind][v6].push_back(index);
      const double previous =
          pick_cumulative_[kind][v6].empty() ? 0 : pick_cumulative_[kind][v6].back();
      pick_cumulative_[kind][v6].push_back(previous + net.popularity);
    }
  }

  entities_.resize(options_.entities);
  for (size_t i = 0; i < entities_.size(); ++i) {
    Rng rng(DeriveSeed(options_.seed, kTagPopulation, i));
    Entity& e = entities_[i];
    e.role =
        rng.Bernoulli(options_.workload_fraction) ? EntityRole::kWorkload : EntityRole::kPerson;
    e.ipv6_user = rng.Bernoulli(options_.ipv6_fraction);
    e.p6 = 0.5 + 0.45 * rng.Uniform();
    // Lognormal daily rate with sigma 1.1: the busiest 1% make ~15x the median.
    constexpr double kSigma = 1.1;
    e.rate = options_.mean_events_per_day * std::exp(kSigma * rng.Normal() - kSigma * kSigma / 2);
    double weights[4] = {0, 0, 0, 0};
    if (e.role == EntityRole::kPerson) {
      e.travel_weight =
          std::exp(std::log(0.005) + rng.Uniform() * (std::log(0.06) - std::log(0.005)));
      e.components[0] = {0, PickNetwork(NetworkKind::kResidential, e.ipv6_user, rng), Mode::kHome,
                         0};
      weights[0] = 0.45 + 0.3 * rng.Uniform();
      int count = 1;
      if (rng.Bernoulli(0.75)) {
        e.components[count] = {0, PickNetwork(NetworkKind::kCorporate, e.ipv6_user, rng),
                               Mode::kUniform, 0};
        weights[count++] = 0.25 + 0.25 * rng.Uniform();
      }
      if (rng.Bernoulli(0.5)) {
        e.components[count] = {0, PickNetwork(NetworkKind::kMobile, e.ipv6_user, rng),
                               Mode::kUniform, 0};
        weights[count++] = 0.05 + 0.1 * rng.Uniform();
      }
      e.component_count = static_cast<uint8_t>(count);
    } else {
      e.travel_weight = 0.003;
      const uint32_t cloud = PickNetwork(NetworkKind::kCloud, e.ipv6_user, rng);
      const int count = 1 + static_cast<int>(rng.Below(4));
      for (int k = 0; k < count; ++k) {
        e.components[k] = {0, cloud, Mode::kFixed, static_cast<uint8_t>(k)};
        weights[k] = 1;
      }
      e.component_count = static_cast<uint8_t>(count);
    }
    double sum = 0;
    for (int k = 0; k < e.component_count; ++k) sum += weights[k];
    for (int k = 0; k < e.component_count; ++k) {
      e.components[k].weight = (1 - e.travel_weight) * weights[k] / sum;
    }
  }
}

uint32_t Population::PickNetwork(NetworkKind kind, bool want_v6, Rng& rng) const {
  const int k = static_cast<int>(kind);
  int v6 = want_v6 ? 1 : 0;
  if (pick_members_[k][v6].empty()) v6 = 1 - v6;  // tiny tables: take what exists
  return pick_members_[k][v6][PickCumulative(pick_cumulative_[k][v6], rng.Uniform())];
}

uint64_t Population::HomeEpoch(uint32_t entity, int day) const {
  uint64_t epoch = 0;
  for (int d = 1; d <= day; ++d) {
    if (UnitFromBits(DeriveSeed(options_.seed, kTagLeaseChange, entity, static_cast<uint64_t>(d))) <
        kLeaseChangePerDay) {
      ++epoch;
    }
  }
  return epoch;
}

IpAddress Population::PointAddress(uint32_t entity, const Component& c, int day, bool v6) const {
  if (c.mode == Mode::kFixed) {
    const uint64_t bits = DeriveSeed(options_.seed, kTagFixedAddress, entity, c.slot);
    return networks_.AddressFromBits(c.network, v6, Mix64(bits), bits);
  }
  const uint64_t epoch = HomeEpoch(entity, day);
  const uint64_t bits = DeriveSeed(options_.seed, kTagHomeAddress, entity, epoch);
  if (!v6) return networks_.AddressFromBits(c.network, false, 0, bits);
  // The /64 comes with the lease; the interface id rotates daily (RFC 8981).
  const uint64_t interface_id =
      DeriveSeed(options_.seed, kTagInterfaceId, entity, static_cast<uint64_t>(day));
  return networks_.AddressFromBits(c.network, true, Mix64(bits), interface_id);
}

double Population::FamilyProbability(const Entity& e, uint32_t network, bool v6) const {
  if (!networks_.network(network).has_v6) return v6 ? 0 : 1;
  return v6 ? e.p6 : 1 - e.p6;
}

IpAddress Population::SampleAddress(uint32_t entity, int day, Rng& rng) const {
  const Entity& e = entities_[entity];
  double u = rng.Uniform();
  for (int k = 0; k < e.component_count; ++k) {
    const Component& c = e.components[k];
    if (u < c.weight) {
      const bool v6 = rng.Uniform() < FamilyProbability(e, c.network, true);
      if (c.mode == Mode::kUniform) return networks_.RandomAddress(c.network, v6, rng);
      return PointAddress(entity, c, day, v6);
    }
    u -= c.weight;
  }
  const uint32_t network = static_cast<uint32_t>(PickCumulative(travel_cumulative_, rng.Uniform()));
  const bool v6 = rng.Uniform() < FamilyProbability(e, network, true);
  return networks_.RandomAddress(network, v6, rng);
}

IpAddress Population::SampleAttack(Rng& rng) const {
  const uint32_t network = static_cast<uint32_t>(rng.Below(networks_.size()));
  const bool v6 = networks_.network(network).has_v6 && rng.Uniform() < options_.attack_ipv6;
  return networks_.RandomAddress(network, v6, rng);
}

bool Population::IsOwnNetwork(uint32_t entity, uint32_t network) const {
  const Entity& e = entities_[entity];
  for (int k = 0; k < e.component_count; ++k) {
    if (e.components[k].network == network) return true;
  }
  return false;
}

IpAddress Population::SampleAttackOutside(uint32_t entity, Rng& rng) const {
  for (;;) {
    const IpAddress ip = SampleAttack(rng);
    const std::optional<uint32_t> owner = networks_.Find(ip);
    if (!owner || !IsOwnNetwork(entity, *owner)) return ip;
  }
}

double Population::LogLikelihood(uint32_t entity, int day, const IpAddress& ip) const {
  const Entity& e = entities_[entity];
  const bool v6 = !ip.is_v4();
  double terms[5];
  int count = 0;
  const std::optional<uint32_t> owner = networks_.Find(ip);
  for (int k = 0; k < e.component_count; ++k) {
    const Component& c = e.components[k];
    const double family = FamilyProbability(e, c.network, v6);
    if (family == 0) continue;
    if (c.mode == Mode::kUniform) {
      if (owner && *owner == c.network) {
        terms[count++] = std::log(c.weight * family) - networks_.network(c.network).LogSize(v6);
      }
    } else if (PointAddress(entity, c, day, v6) == ip) {
      terms[count++] = std::log(c.weight * family);
    }
  }
  if (owner) {
    const double family = FamilyProbability(e, *owner, v6);
    if (family > 0) {
      terms[count++] = std::log(e.travel_weight * family) + travel_log_probability_[*owner] -
                       networks_.network(*owner).LogSize(v6);
    }
  }
  return LogSumExp(terms, count);
}

double Population::AttackLogLikelihood(const IpAddress& ip) const {
  const std::optional<uint32_t> owner = networks_.Find(ip);
  if (!owner) return kNegativeInfinity;
  const Network& net = networks_.network(*owner);
  const bool v6 = !ip.is_v4();
  const double family =
      net.has_v6 ? (v6 ? options_.attack_ipv6 : 1 - options_.attack_ipv6) : (v6 ? 0 : 1);
  if (family == 0) return kNegativeInfinity;
  return std::log(family / static_cast<double>(networks_.size())) - net.LogSize(v6);
}

std::string_view Population::Country(const IpAddress& ip) const {
  const std::optional<uint32_t> network = networks_.Find(ip);
  return network ? std::string_view(networks_.network(*network).country) : "-";
}

double Population::OracleScore(uint32_t entity, int day, const IpAddress& ip) const {
  return LogLikelihood(entity, day, ip) - AttackLogLikelihood(ip);
}

}  // namespace ipinsights::simulate
