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
// Where a trip goes is the second thing the counts know. People travel to popular
// networks (big ISPs, carriers, hotels, cloud egress) far more than to any one of the rest,
// while an attacker's address is any host anywhere; so the novelty part is weighted by how
// many of the population's entities used the pair's network in training, relative to the
// average network: ((entities + 1) / (mean + 1))^network_weight. An address on a network no
// one used keeps only (1 / (mean + 1))^network_weight of its entity's rate, so a
// much-travelled entity is still flagged from plainly foreign space.
//
// The score is the log of a two-part mixture, the model's part and the novelty part:
//   x = model_weight * dot + model_offset
//   score = log(exp(x) + rate(entity) * share(network)^network_weight
//                      * exp(min(0, x - fade_below)))
// A pair the model finds normal keeps (a scaled) dot product; a pair on a network the model
// knows little about falls to about the log of its entity's novelty rate, raised on popular
// networks and lowered on unused ones. train fits model_weight, model_offset and
// network_weight on the validation pairs against addresses drawn from the training data's
// networks (train/novelty_fit.h). Measured: README's table of worlds (bench/quality_bench.sh).
//
// fade_below is what models of the release before the network term fitted instead (the rate
// faded where x was lower than for all but target_fpr of normal pairs); such a model still
// scores as it did, and new ones leave it at -infinity. Measured against it (recall at 1%
// FPR, bench/quality_bench.sh; with rates per entity, RateSlot): networks 0.865 -> 0.898,
// asn 0.685 -> 0.706, ipv6 0.817 -> 0.871, asn seed 2 0.666 -> 0.671, demo 0.803 -> 0.832,
// demo seed 2 0.881 -> 0.899, demo-asn 0.609 -> 0.608 (there the fade's fit was left out);
// AUC higher on every world (the demo worlds at the demo's recipe before, 5 epochs at 0.01;
// at today's, demo_command.cc, 0.852, 0.908, 0.655). It also does the fade's work: of the
// demo's 985 test entities given 30 addresses each from the test's attacks, 21 are never
// flagged at 1% FPR (the fade: 37, the dot product alone: 34; at today's recipe 11 and, the
// dot product alone, 9; the rate alone, measured earlier on 999 entities against uniformly
// random addresses: 176, the fade 49, the dot product 54).
//
// Serve keeps SageMaker's contract (its dot_product is the dot product); Model::Score, and
// so score, evaluate, findings and the calibrated threshold, use this score.
//
// Thread-safety: a value type; const methods are pure.
//
//   float s = novelty.Adjust(dot, novelty.RateIndex(entity_hash, entity_row), ip);
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/base/hash.h"
#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {

// Pseudo-events of the population's rate added to every entity's counts. Measured (recall at
// 1% FPR, networks / asn / demo / demo-asn): 5: 0.871 / 0.723 / 0.800 / 0.617; 20: 0.872 /
// 0.721 / 0.803 / 0.622; 60: 0.872 / 0.704 / 0.804 / 0.631.
inline constexpr double kNoveltyPriorStrength = 20;

// Networks are counted in kNetworkSlots slots: an IPv4 /16 in its own slot (the first
// 65,536), an IPv6 /32 hashed into the other 65,536 (few /32s are ever seen, so they seldom
// share one).
inline constexpr size_t kNetworkSlots = size_t{1} << 17;
inline size_t NetworkSlot(const IpAddress& ip) {
  if (ip.is_v4()) return ip.v4() >> 16;
  return (size_t{1} << 16) | static_cast<size_t>(Mix64(ip.high64() >> 32) & 0xffff);
}

// An entity's rate slot: a hash of its own, so that entities sharing an entity row (the
// row is hash % num_entity_vectors, and the tutorial's 20,000 rows for 10,000 users put 39%
// of them with another) keep rates of their own. Rates pooled per row measured 0.012 lower
// recall at 1% FPR on the asn world than rates per entity (bench/asn_rate_bound.py); in the
// model with the network term, per slot instead of per row: demo 0.825 -> 0.832, demo
// seed 2 0.893 -> 0.899, demo-asn 0.602 -> 0.608.
inline uint64_t RateSlot(uint64_t entity_hash, uint64_t slots) {
  return Mix64(entity_hash ^ 0x52415445ULL) & (slots - 1);  // "RATE"
}

// Slots for `entities` distinct entities: 16 per entity (about 6% then share one), rounded
// up to a power of two, at least 1,024 and at most 2^22 (16 MB of rates).
inline uint64_t RateSlotsFor(uint64_t entities) {
  uint64_t slots = 1024;
  while (slots < 16 * entities && slots < (uint64_t{1} << 22)) slots *= 2;
  return slots;
}

struct EntityNovelty {
  float model_weight = 1;
  float model_offset = 0;
  // In x's units; -infinity (no fade) in today's fits, finite in the release before.
  float fade_below = -std::numeric_limits<float>::infinity();
  float network_weight = 0;  // the exponent of the network share; 0: no network term
  // Rates per slot of the entity's hash (RateSlot): a power of two. 0: per entity row, as
  // models of the release before kept them.
  uint64_t rate_slots = 0;
  double mean_rate = 0;              // the population's share of events on once-used networks
  double mean_network_entities = 0;  // entities per network used in training, on average
  std::string source;                // where the weights were fitted
  std::vector<float> log_rate;       // per rate index: log of the shrunk novelty rate
  // Per network slot (NetworkSlot): log((entities + 1) / (mean_network_entities + 1));
  // empty when network_weight is 0. network_slots is its size as a model file's header
  // states it (kNetworkSlots or 0), before the array is read.
  std::vector<float> log_network_share;
  uint64_t network_slots = 0;

  bool empty() const { return log_rate.empty(); }

  // Where an entity's rate is: its slot, or its entity row in an older model.
  uint64_t RateIndex(uint64_t entity_hash, uint64_t entity_row) const {
    return rate_slots == 0 ? entity_row : RateSlot(entity_hash, rate_slots);
  }

  float Adjust(float dot, uint64_t rate_index, const IpAddress& ip) const {
    if (log_rate.empty()) return dot;
    const float x = model_weight * dot + model_offset;
    float y = log_rate[rate_index] + std::min(0.0f, x - fade_below);
    if (!log_network_share.empty()) y += network_weight * log_network_share[NetworkSlot(ip)];
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

// log((entities + 1) / (mean + 1)) for a network `entities` of the population used.
inline float LogNetworkShare(uint64_t entities, double mean) {
  return static_cast<float>(std::log((static_cast<double>(entities) + 1) / (mean + 1)));
}

// The header object of the model file (docs/formats/model-file.md, "entity_novelty"), without
// the rates and per-network shares (those are weight arrays). ParseEntityNoveltyJson throws
// Error(`where`: reason) on a bad object.
std::string EntityNoveltyJson(const EntityNovelty& novelty);
EntityNovelty ParseEntityNoveltyJson(std::string_view json, const std::string& where);

}  // namespace ipinsights
