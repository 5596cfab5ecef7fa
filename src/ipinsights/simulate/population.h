// The simulated population of `simulate --population networks` (the default): who uses which
// addresses, as a generative model whose likelihood is computed exactly (the oracle of
// labels.csv, docs/formats/labels-csv.md). The other population is asn_population.h.
//
// Model. Every entity e has a few behaviour components c, each with a weight w_c, plus a
// travel weight w_t (sum 1):
//   - home    (people): the entity's current address in a residential ISP. The address
//             is redrawn uniformly in the ISP's prefix on a day with probability 4% (a new
//             DHCP lease / delegated prefix); the IPv6 interface id also rotates daily
//             (privacy addresses), so the IPv6 home address is new every day inside a /64
//             that changes with the lease.
//   - work    (most people): uniform over an office network's prefix (its NAT pool).
//   - mobile  (half the people): uniform over a mobile carrier's prefix (CGNAT pool).
//   - fixed   (workloads, 1-4 of them): one fixed address each in a cloud network
//             (elastic IPs), equal weights.
//   - travel  (people 0.5-6%, log-uniform; workloads 0.3%): a network n drawn with
//             probability pi(n) = 0.5 popularity(n) / sum popularity + 0.5 / #networks,
//             then an address uniform in its prefix.
// Address family: at a network with an IPv6 prefix an event uses IPv6 with the entity's
// probability p6(e) (0.5..0.95), else IPv4; networks without IPv6 always give IPv4. A
// share --ipv6-fraction of entities take all their home/work/mobile/cloud networks among
// the IPv6-capable ones, the others among the IPv4-only ones.
// Attack distribution: a network drawn uniformly from the whole table, then IPv6 with
// probability `attack_ipv6` if the network has IPv6, an address uniform in the prefix.
//
// Oracle: log p(ip | e, day) - log p_attack(ip), both exact (prefixes never overlap, see
// network_table.h). Travel and attack share every network, so every score is finite.
//
// Thread-safety: immutable after construction; all methods are const and thread-safe.
//
//   Population population(table, {.seed = 1, .entities = 10000});
//   Rng rng(DeriveSeed(1, kTag, day, e));
//   IpAddress ip = population.SampleAddress(e, day, rng);
//   double score = population.OracleScore(e, day, ip);
#pragma once

#include <cstdint>
#include <vector>

#include "ipinsights/pairs/ip_address.h"
#include "ipinsights/simulate/network_table.h"
#include "ipinsights/simulate/population_model.h"
#include "ipinsights/simulate/random.h"

namespace ipinsights::simulate {

struct PopulationOptions {
  uint64_t seed = 1;
  size_t entities = 1000;
  double mean_events_per_day = 30;  // mean of the heavy-tailed (lognormal) daily rate
  double ipv6_fraction = 0.05;      // share of entities living on IPv6-capable networks
  double attack_ipv6 = 0.05;        // P(IPv6) of an attack from an IPv6-capable network
  double workload_fraction = 0.2;   // share of entities that are machines in a cloud
};

class Population : public PopulationModel {
 public:
  Population(const NetworkTable& networks, const PopulationOptions& options);

  size_t size() const override { return entities_.size(); }
  EntityRole role(uint32_t entity) const override { return entities_[entity].role; }
  // Mean events per day (lognormal across entities: a heavy tail of busy ones).
  double rate(uint32_t entity) const override { return entities_[entity].rate; }
  // True for the entities whose networks are IPv6-capable.
  bool ipv6_user(uint32_t entity) const { return entities_[entity].ipv6_user; }
  const NetworkTable& networks() const { return networks_; }
  size_t network_count() const override { return networks_.size(); }
  std::string_view Country(const IpAddress& ip) const override;

  // Draws the source address of one event of `entity` on `day` (0 = first day).
  IpAddress SampleAddress(uint32_t entity, int day, Rng& rng) const override;
  // Draws an address from the attack distribution.
  IpAddress SampleAttack(Rng& rng) const override;
  // True when `network` is one of the entity's own networks (a home, work, mobile or cloud
  // component; the networks it travels to are not its own).
  bool IsOwnNetwork(uint32_t entity, uint32_t network) const;
  // Draws from the attack distribution until the address lies outside every one of the
  // entity's own networks (the attack distribution conditioned on that; an entity has at
  // most 3 of the table's >= 8 networks, so a few draws at most).
  IpAddress SampleAttackOutside(uint32_t entity, Rng& rng) const override;

  // log p(ip | entity, day) under the model (-infinity when impossible).
  double LogLikelihood(uint32_t entity, int day, const IpAddress& ip) const;
  // log p_attack(ip) (-infinity outside every network).
  double AttackLogLikelihood(const IpAddress& ip) const;
  // LogLikelihood - AttackLogLikelihood: the Bayes-optimal score, higher = more normal.
  double OracleScore(uint32_t entity, int day, const IpAddress& ip) const override;

 private:
  enum class Mode : uint8_t { kHome, kFixed, kUniform };
  struct Component {
    double weight = 0;
    uint32_t network = 0;
    Mode mode = Mode::kUniform;
    uint8_t slot = 0;
  };
  struct Entity {
    EntityRole role = EntityRole::kPerson;
    bool ipv6_user = false;
    uint8_t component_count = 0;
    double p6 = 0.7;
    double travel_weight = 0.01;
    double rate = 1;
    Component components[4];
  };

  uint32_t PickNetwork(NetworkKind kind, bool want_v6, Rng& rng) const;
  // The lease epoch of the entity's home address on `day`.
  uint64_t HomeEpoch(uint32_t entity, int day) const;
  IpAddress PointAddress(uint32_t entity, const Component& c, int day, bool v6) const;
  double FamilyProbability(const Entity& e, uint32_t network, bool v6) const;

  const NetworkTable& networks_;
  PopulationOptions options_;
  std::vector<Entity> entities_;
  std::vector<double> travel_cumulative_;  // over all networks, by popularity
  std::vector<double> travel_log_probability_;
  // Per kind and IPv6 capability: cumulative popularity for choosing an entity's networks.
  std::vector<uint32_t> pick_members_[4][2];
  std::vector<double> pick_cumulative_[4][2];
};

}  // namespace ipinsights::simulate
