// What the simulator and the log formats need from a simulated population: who the
// entities are, how busy, where each event's address comes from, where attacks come from,
// and the exact likelihood ratio that labels.csv reports as `oracle_score`.
//
// Two implementations: Population (population.h; `simulate --population networks`, the
// default: people and workloads on residential, office, mobile and cloud networks) and
// AsnPopulation (asn_population.h; `--population asn`: home and work ranges in an ASN-like
// table, drift to neighbouring ranges, uniform travel, in the spirit of SageMaker's IP
// Insights tutorial generator). docs/formats/labels-csv.md describes both models.
//
// Thread-safety: implementations are immutable after construction; every method is const
// and may be called from any thread.
//
//   const PopulationModel& population = ...;
//   Rng rng(DeriveSeed(seed, kTagEvents, day, entity));
//   IpAddress ip = population.SampleAddress(entity, day, rng);
//   double score = population.OracleScore(entity, day, ip);
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ipinsights/pairs/ip_address.h"
#include "ipinsights/simulate/random.h"

namespace ipinsights::simulate {

// What kind of identity an entity is: the log formats pick its identity type from this
// (CloudTrail: SSO users and IAM users for people, instance and service roles for workloads).
enum class EntityRole : uint8_t { kPerson, kWorkload };

class PopulationModel {
 public:
  virtual ~PopulationModel() = default;

  virtual size_t size() const = 0;
  virtual EntityRole role(uint32_t entity) const = 0;
  // Mean events per day (lognormal across entities: a heavy tail of busy ones).
  virtual double rate(uint32_t entity) const = 0;
  // Networks (or ranges) in the address table, for the summary.
  virtual size_t network_count() const = 0;
  // Two-letter country of the network holding `ip`, "-" when none (WAF's `country`).
  virtual std::string_view Country(const IpAddress& ip) const = 0;

  // Draws the source address of one event of `entity` on `day` (0 = first day).
  virtual IpAddress SampleAddress(uint32_t entity, int day, Rng& rng) const = 0;
  // Draws an address from the attack distribution.
  virtual IpAddress SampleAttack(Rng& rng) const = 0;
  // The attack distribution conditioned on lying outside the entity's own networks.
  virtual IpAddress SampleAttackOutside(uint32_t entity, Rng& rng) const = 0;
  // log p(ip | entity, day) - log p_attack(ip): the Bayes-optimal score, higher = more
  // normal; finite for every address the population or the attacks can emit.
  virtual double OracleScore(uint32_t entity, int day, const IpAddress& ip) const = 0;
};

}  // namespace ipinsights::simulate
