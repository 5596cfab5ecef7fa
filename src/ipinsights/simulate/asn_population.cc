#include "ipinsights/simulate/asn_population.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ipinsights/base/error.h"

namespace ipinsights::simulate {
namespace {

constexpr uint64_t kTagAsnPopulation = 0x61736e70;  // "asnp"
constexpr double kNegativeInfinity = -std::numeric_limits<double>::infinity();

// True when `range` is one of the kDriftSpan neighbours on either side of `own`.
bool IsNeighbour(const AsnTable& table, uint32_t own, uint32_t range) {
  const int64_t n = static_cast<int64_t>(table.size());
  const int64_t distance = ((static_cast<int64_t>(range) - own) % n + n) % n;
  return (distance >= 1 && distance <= AsnPopulation::kDriftSpan) ||
         (distance >= n - AsnPopulation::kDriftSpan && distance <= n - 1);
}

}  // namespace

AsnPopulation::AsnPopulation(const AsnTable& table, const AsnPopulationOptions& options)
    : table_(table), options_(options) {
  IPI_CHECK(table_.size() > 2 * kDriftSpan);
  // Home ranges by size: a cumulative over the table.
  std::vector<double> cumulative_size(table_.size());
  double running = 0;
  for (size_t j = 0; j < table_.size(); ++j) cumulative_size[j] = running += table_.range(j).size;

  entities_.resize(options_.entities);
  for (size_t i = 0; i < entities_.size(); ++i) {
    Rng rng(DeriveSeed(options_.seed, kTagAsnPopulation, i));
    Entity& e = entities_[i];
    e.role =
        rng.Bernoulli(options_.workload_fraction) ? EntityRole::kWorkload : EntityRole::kPerson;
    // Lognormal daily rate with sigma 1.1, as population.cc.
    constexpr double kSigma = 1.1;
    e.rate = options_.mean_events_per_day * std::exp(kSigma * rng.Normal() - kSigma * kSigma / 2);
    const double target = rng.Uniform() * running;
    e.home = static_cast<uint32_t>(
        std::min<size_t>(std::upper_bound(cumulative_size.begin(), cumulative_size.end(), target) -
                             cumulative_size.begin(),
                         table_.size() - 1));
    const bool has_work = rng.Bernoulli(0.6);
    if (has_work) e.work = static_cast<uint32_t>(rng.Below(table_.size()));
    e.w_travel = std::exp(std::log(0.005) + rng.Uniform() * (std::log(0.04) - std::log(0.005)));
    e.w_drift = 0.02 + 0.06 * rng.Uniform();
    const double rest = 1 - e.w_travel - e.w_drift;
    const double home_share = has_work ? 0.5 + 0.3 * rng.Uniform() : 1.0;
    e.w_home = rest * home_share;
    e.w_work = rest - e.w_home;
  }
}

std::string_view AsnPopulation::Country(const IpAddress& ip) const {
  const std::optional<uint32_t> range = table_.Find(ip);
  return range ? std::string_view(table_.range(*range).country) : "-";
}

std::optional<uint32_t> AsnPopulation::work_range(uint32_t entity) const {
  const uint32_t work = entities_[entity].work;
  if (work == kNoRange) return std::nullopt;
  return work;
}

bool AsnPopulation::IsOwnRange(uint32_t entity, uint32_t range) const {
  const Entity& e = entities_[entity];
  return range == e.home || range == e.work;
}

double AsnPopulation::RangeProbability(uint32_t entity, uint32_t range) const {
  const Entity& e = entities_[entity];
  const double own_total = e.w_home + e.w_work;
  double q = e.w_travel / static_cast<double>(table_.size());
  if (range == e.home) q += e.w_home;
  if (IsNeighbour(table_, e.home, range)) {
    q += e.w_drift * (e.w_home / own_total) / (2 * kDriftSpan);
  }
  if (e.work != kNoRange) {
    if (range == e.work) q += e.w_work;
    if (IsNeighbour(table_, e.work, range)) {
      q += e.w_drift * (e.w_work / own_total) / (2 * kDriftSpan);
    }
  }
  return q;
}

IpAddress AsnPopulation::SampleAddress(uint32_t entity, int /*day*/, Rng& rng) const {
  const Entity& e = entities_[entity];
  double u = rng.Uniform();
  uint32_t range;
  if (u < e.w_home) {
    range = e.home;
  } else if ((u -= e.w_home) < e.w_work) {
    range = e.work;
  } else if ((u -= e.w_work) < e.w_drift) {
    const bool from_work = e.work != kNoRange && rng.Uniform() * (e.w_home + e.w_work) >= e.w_home;
    const int64_t step = 1 + static_cast<int64_t>(rng.Below(kDriftSpan));
    range = table_.Neighbour(from_work ? e.work : e.home, rng.Bernoulli(0.5) ? step : -step);
  } else {
    range = static_cast<uint32_t>(rng.Below(table_.size()));
  }
  return table_.RandomAddress(range, rng);
}

IpAddress AsnPopulation::SampleAttack(Rng& rng) const {
  return table_.RandomAddress(static_cast<uint32_t>(rng.Below(table_.size())), rng);
}

IpAddress AsnPopulation::SampleAttackOutside(uint32_t entity, Rng& rng) const {
  // At most 2 of the table's >= 8 ranges are excluded: a few draws at most.
  for (;;) {
    const uint32_t range = static_cast<uint32_t>(rng.Below(table_.size()));
    if (!IsOwnRange(entity, range)) return table_.RandomAddress(range, rng);
  }
}

double AsnPopulation::LogLikelihood(uint32_t entity, const IpAddress& ip) const {
  const std::optional<uint32_t> range = table_.Find(ip);
  if (!range) return kNegativeInfinity;
  return std::log(RangeProbability(entity, *range)) -
         std::log(static_cast<double>(table_.range(*range).size));
}

double AsnPopulation::AttackLogLikelihood(const IpAddress& ip) const {
  const std::optional<uint32_t> range = table_.Find(ip);
  if (!range) return kNegativeInfinity;
  return -std::log(static_cast<double>(table_.size())) -
         std::log(static_cast<double>(table_.range(*range).size));
}

double AsnPopulation::OracleScore(uint32_t entity, int /*day*/, const IpAddress& ip) const {
  const std::optional<uint32_t> range = table_.Find(ip);
  if (!range) return kNegativeInfinity;
  // The range sizes cancel: log q_e(j) + log R.
  return std::log(RangeProbability(entity, *range)) + std::log(static_cast<double>(table_.size()));
}

}  // namespace ipinsights::simulate
