// EntityNovelty: how often each entity turns up on a network it has not used before, and
// how that combines with the dot product into the model's score (ours; SageMaker's score is
// the dot product alone).
//
// Why. At the low false-positive rates people alert at, nearly every pair in question is on
// a network new to its entity: a trip or an attack. Telling those apart is mostly telling
// which entities travel: a person who logs in from a new network every week against a build
// role that never has. The dot product barely says so: on the two simulated populations its
// scores of normal travel pairs correlate 0.10-0.40 with the Bayes-optimal score, and not
// more with more days of history (asn population, 1,000 users: recall at 1% FPR 0.61 with 3
// training days, 0.59 with 58; the oracle 0.81, 0.77). A count does: the share of an
// entity's events on networks (IPv4 /16, IPv6 /32) it used exactly once is the Good-Turing
// estimate of the chance that its next event comes from a new network; shrunk towards the
// population's share with kNoveltyPriorStrength pseudo-events, so an entity of a few events
// gets the population's rate.
//
// The score is the log of a two-part mixture, the model's part and the novelty part:
//   x = model_weight * dot + model_offset
//   score = log(exp(x) + rate(entity) * exp(min(0, x - fade_below)))
// A pair the model finds normal keeps (a scaled) dot product; a pair on a network the
// model knows little about falls to about the log of its entity's novelty rate; and where
// x is lower than for all but target_fpr of normal pairs (fade_below), the rate fades, so a
// pair the model finds that anomalous is flagged whoever its entity (a rate alone kept a
// much-travelled entity's every pair above the threshold: 176 of the demo's 999 entities
// were never flagged from 30 random addresses each, 54 with the dot product alone; with the
// fade 49). train fits model_weight, model_offset and fade_below on the validation pairs
// against addresses drawn from the training data's networks (train/novelty_fit.h).
// Measured: README's table of worlds (bench/quality_bench.sh).
//
// Serve keeps SageMaker's contract (its dot_product is the dot product); Model::Score, and
// so score, evaluate, findings and the calibrated threshold, use this score.
//
// Thread-safety: a value type; const methods are pure.
//
//   float s = novelty.Adjust(dot, entity_row);   // dot itself when empty()
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace ipinsights {

// Pseudo-events of the population's rate added to every entity's counts. Measured (recall at
// 1% FPR, networks / asn / demo / demo-asn): 5: 0.871 / 0.723 / 0.800 / 0.617; 20: 0.872 /
// 0.721 / 0.803 / 0.622; 60: 0.872 / 0.704 / 0.804 / 0.631.
inline constexpr double kNoveltyPriorStrength = 20;

struct EntityNovelty {
  float model_weight = 1;
  float model_offset = 0;
  float fade_below = -std::numeric_limits<float>::infinity();  // in x's units
  double mean_rate = 0;         // the population's share of events on once-used networks
  std::string source;           // where model_weight and model_offset were fitted
  std::vector<float> log_rate;  // per entity row: log of the shrunk novelty rate

  bool empty() const { return log_rate.empty(); }

  float Adjust(float dot, uint64_t entity_row) const {
    if (log_rate.empty()) return dot;
    const float x = model_weight * dot + model_offset;
    const float y = log_rate[entity_row] + std::min(0.0f, x - fade_below);
    // log(e^x + e^y), without overflow.
    return x > y ? x + std::log1p(std::exp(y - x)) : y + std::log1p(std::exp(x - y));
  }
};

// The shrunk rate of an entity with `events` events of which `once` were on networks it used
// only once: (once + k * mean_rate) / (events + k), k = kNoveltyPriorStrength.
inline double ShrunkNoveltyRate(uint64_t once, uint64_t events, double mean_rate) {
  return (static_cast<double>(once) + kNoveltyPriorStrength * mean_rate) /
         (static_cast<double>(events) + kNoveltyPriorStrength);
}

// The header object of the model file (docs/formats/model-file.md, "entity_novelty"), without
// the per-row rates (those are a weight array). ParseEntityNoveltyJson throws Error(`where`:
// reason) on a bad object.
std::string EntityNoveltyJson(const EntityNovelty& novelty);
EntityNovelty ParseEntityNoveltyJson(std::string_view json, const std::string& where);

}  // namespace ipinsights
