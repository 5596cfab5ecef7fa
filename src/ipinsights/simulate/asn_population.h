// The population of `simulate --population asn`: users on an ASN-like table of IPv4 ranges
// (asn_table.h), written after the design of SageMaker's IP Insights tutorial generator
// (its generate_data.py): a home range, for some a work range, drift to the neighbouring
// ranges, travel and attacks uniform over the table. A second world beside population.h's,
// so that a training change tuned on one is checked on another.
//
// Model. Every entity e has
//   - home   (everyone): a range drawn with probability proportional to its size (big
//            access networks hold more users); weight w_home.
//   - work   (60%): a range drawn uniformly; weight w_work.
//   - drift  (everyone, 2-8%): one of e's own ranges (home or work in proportion to their
//            weights), then a neighbour 1 or 2 positions away in address order, each of
//            the 4 with probability 1/4 (the nearby networks of the same region).
//   - travel (everyone, 0.5-4%, log-uniform): a range uniform over the table.
// and inside the chosen range an address uniform over it (each event a new address, as in
// the tutorial's generator). IPv4 only. Roles (20% workloads) and rates (lognormal,
// sigma 1.1) as in population.h; roles only choose the identity type in the log formats.
// The model does not change from day to day.
// Attack distribution: a range uniform over the table, an address uniform in it: the same
// as travel, so travel looks exactly like an attack.
//
// Oracle: with R the number of ranges and S(j) the size of range j, for ip in range j
//   p(ip | e) = q_e(j) / S(j),  q_e(j) = w_home [j = home] + w_work [j = work]
//               + w_drift Σ_own r share_r [j is one of r's 4 neighbours] / 4 + w_travel / R
//   p_attack(ip) = 1 / (R S(j)),  so oracle_score = log q_e(j) + log R.
// Every score is finite (travel reaches every range).
//
// Thread-safety: immutable after construction; all methods are const and thread-safe.
//
//   AsnTable table(seed, 5000);
//   AsnPopulation population(table, {.seed = 1, .entities = 10000});
//   IpAddress ip = population.SampleAddress(e, day, rng);
//   double score = population.OracleScore(e, day, ip);
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "ipinsights/simulate/asn_table.h"
#include "ipinsights/simulate/population_model.h"

namespace ipinsights::simulate {

struct AsnPopulationOptions {
  uint64_t seed = 1;
  size_t entities = 1000;
  double mean_events_per_day = 30;
  double workload_fraction = 0.2;
};

class AsnPopulation : public PopulationModel {
 public:
  // Neighbours on each side that drift reaches.
  static constexpr int kDriftSpan = 2;

  // `table` must outlive the population and hold more than 2 * kDriftSpan ranges.
  AsnPopulation(const AsnTable& table, const AsnPopulationOptions& options);

  size_t size() const override { return entities_.size(); }
  EntityRole role(uint32_t entity) const override { return entities_[entity].role; }
  double rate(uint32_t entity) const override { return entities_[entity].rate; }
  size_t network_count() const override { return table_.size(); }
  std::string_view Country(const IpAddress& ip) const override;
  const AsnTable& table() const { return table_; }

  uint32_t home_range(uint32_t entity) const { return entities_[entity].home; }
  std::optional<uint32_t> work_range(uint32_t entity) const;
  // True for the entity's home and work ranges (not those it drifts or travels to).
  bool IsOwnRange(uint32_t entity, uint32_t range) const;
  // q_e(range): the probability that an event of `entity` comes from `range`.
  double RangeProbability(uint32_t entity, uint32_t range) const;

  IpAddress SampleAddress(uint32_t entity, int day, Rng& rng) const override;
  IpAddress SampleAttack(Rng& rng) const override;
  // The attack distribution redrawn until outside the entity's home and work ranges.
  IpAddress SampleAttackOutside(uint32_t entity, Rng& rng) const override;

  // log p(ip | entity) (-infinity outside the table; the model ignores the day).
  double LogLikelihood(uint32_t entity, const IpAddress& ip) const;
  // log p_attack(ip) (-infinity outside the table).
  double AttackLogLikelihood(const IpAddress& ip) const;
  // LogLikelihood - AttackLogLikelihood; -infinity outside the table.
  double OracleScore(uint32_t entity, int day, const IpAddress& ip) const override;

 private:
  static constexpr uint32_t kNoRange = UINT32_MAX;
  struct Entity {
    EntityRole role = EntityRole::kPerson;
    uint32_t home = 0;
    uint32_t work = kNoRange;
    double rate = 1;
    double w_home = 1;
    double w_work = 0;
    double w_drift = 0;
    double w_travel = 0;
  };

  const AsnTable& table_;
  AsnPopulationOptions options_;
  std::vector<Entity> entities_;
};

}  // namespace ipinsights::simulate
