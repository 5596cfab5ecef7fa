#include "ipinsights/train/novelty_fit.h"

#include <algorithm>
#include <cmath>

#include "ipinsights/base/distinct_hashes.h"
#include "ipinsights/base/hash.h"
#include "ipinsights/train/negative_sampler.h"
#include "ipinsights/train/row_scores.h"

namespace ipinsights {
namespace {

// Enough pairs for the tail at 1% to hold a few hundred of each; more adds time, not choice.
constexpr size_t kHoldoutPairs = 50000;
constexpr size_t kDrawnPairs = 20000;
constexpr uint64_t kDrawStream = 0x4e4f56454c5459ULL;  // "NOVELTY"

// The grid. model_weight below 1 flattens the dot product's long upper tail, so that the
// novelty part still counts where the model is only mildly sure. Measured choices on
// bench/quality_bench.sh's worlds: weights 0.25-1, offsets -2 to 2.
constexpr float kWeights[] = {1.0f, 0.5f, 0.25f};
constexpr float kOffsets[] = {-10, -8, -6, -4, -2, 0, 2, 4};

// The exponent of the network share (entity_novelty.h). 0 leaves the rate as it is, for a
// population whose trips go anywhere alike. Chosen on quality_bench's worlds: 0.25 (asn),
// 0.5 (networks and ipv6 with both seeds, demo, asn seed 2), 1 (demo seed 2), 1.5
// (demo-asn). Recall at 1% FPR with every weight chosen on the test pairs themselves (an
// upper bound; a replica of the score in Python): demo 0.848 at exponent 1 (fitted: 0.832,
// at the demo's recipe of then, 5 epochs at 0.01), asn 0.724 at 0 (fitted: 0.706).
constexpr float kNetworkWeights[] = {0, 0.25f, 0.5f, 1, 1.5f};

// The novelty must catch this many more drawn pairs than the dot product alone to be used.
constexpr double kMinGain = 0.002;
// Normal pairs that must fall under the threshold for a fit (fewer: no novelty).
constexpr double kMinTailPairs = 30;

// Up to `count` of `rows`, evenly spaced (deterministic).
std::vector<TrainingRow> EvenSample(const std::vector<TrainingRow>& rows, size_t count) {
  if (rows.size() <= count) return rows;
  std::vector<TrainingRow> sample(count);
  for (size_t i = 0; i < count; ++i) sample[i] = rows[i * rows.size() / count];
  return sample;
}

// The network an address is in, for counting: IPv4 /16, IPv6 /32, tagged by family.
uint64_t NetworkKey(const IpAddress& ip) {
  return ip.is_v4() ? ip.v4() >> 16 : (uint64_t{1} << 32) | (ip.high64() >> 32);
}

// The fit's objective: the share of `drawn` scoring below the score under which `fpr` of
// `normal` falls, averaged over fpr = target_fpr and kLooserFpr times it. The two operating
// points findings are read at (issue 14: the 1% default and 3%) are both kept. Tuned to
// the one point alone, the fit gave up the other: on quality_bench's ipv6 world recall at
// 3% FPR fell from 0.9996 (the fade's model) to 0.9943 and AUC to 0.9941; with both,
// 0.9988 and 0.9956, for recall at 1% 0.871 instead of 0.880 (networks, asn and the demo
// worlds chose the same point either way).
constexpr double kLooserFpr = 3;
double CaughtShare(std::vector<float> normal, const std::vector<float>& drawn, double target_fpr) {
  if (drawn.empty()) return 0.0;
  std::sort(normal.begin(), normal.end());
  double share = 0;
  for (double fpr : {target_fpr, std::min(0.5, kLooserFpr * target_fpr)}) {
    const float threshold = normal[std::min(
        normal.size() - 1, static_cast<size_t>(fpr * static_cast<double>(normal.size())))];
    size_t caught = 0;
    for (float s : drawn) caught += s < threshold ? 1 : 0;
    share += 0.5 * static_cast<double>(caught) / static_cast<double>(drawn.size());
  }
  return share;
}

}  // namespace

std::vector<float> EntityNoveltyLogRates(const std::vector<TrainingRow>& train,
                                         uint64_t* rate_slots, double* mean_rate) {
  DistinctHashes entities;
  for (const TrainingRow& row : train) entities.Add(row.entity_hash);
  *rate_slots = RateSlotsFor(entities.size());
  // (slot, network) keys sorted: each run is one network of one slot, its length the events.
  std::vector<uint64_t> keys(train.size());
  for (size_t i = 0; i < train.size(); ++i) {
    keys[i] = (RateSlot(train[i].entity_hash, *rate_slots) << 33) | NetworkKey(train[i].ip);
  }
  std::sort(keys.begin(), keys.end());
  std::vector<uint64_t> events(*rate_slots, 0), once(*rate_slots, 0);
  uint64_t all_once = 0;
  for (size_t i = 0; i < keys.size();) {
    size_t j = i + 1;
    while (j < keys.size() && keys[j] == keys[i]) ++j;
    const uint64_t slot = keys[i] >> 33;
    events[slot] += j - i;
    if (j - i == 1) {
      ++once[slot];
      ++all_once;
    }
    i = j;
  }
  *mean_rate = train.empty() ? 0.0 : static_cast<double>(all_once) / train.size();
  // A floor, so that a population with no once-used network at all still has finite logs.
  *mean_rate = std::max(*mean_rate, 1e-6);
  std::vector<float> log_rate(*rate_slots);
  for (size_t slot = 0; slot < log_rate.size(); ++slot) {
    log_rate[slot] =
        static_cast<float>(std::log(ShrunkNoveltyRate(once[slot], events[slot], *mean_rate)));
  }
  return log_rate;
}

std::vector<float> NetworkLogShares(const std::vector<TrainingRow>& train, double* mean_entities) {
  // (slot, entity) keys, sorted and distinct: each run is one network slot, its length the
  // entities that used it. 47 bits of the entity's hash tell entities apart well enough to
  // count them.
  std::vector<uint64_t> keys(train.size());
  for (size_t i = 0; i < train.size(); ++i) {
    keys[i] = (static_cast<uint64_t>(NetworkSlot(train[i].ip)) << 47) |
              (Mix64(train[i].entity_hash) >> 17);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::vector<uint64_t> entities(kNetworkSlots, 0);
  for (uint64_t key : keys) ++entities[key >> 47];
  size_t used = 0;
  for (uint64_t count : entities) used += count > 0 ? 1 : 0;
  *mean_entities = used == 0 ? 0.0 : static_cast<double>(keys.size()) / static_cast<double>(used);
  std::vector<float> log_share(kNetworkSlots);
  for (size_t slot = 0; slot < kNetworkSlots; ++slot) {
    log_share[slot] = LogNetworkShare(entities[slot], *mean_entities);
  }
  return log_share;
}

NoveltyFit FitEntityNovelty(const Model::Impl& model, const std::vector<TrainingRow>& train,
                            const std::vector<TrainingRow>& holdout, double target_fpr,
                            uint64_t seed, size_t threads) {
  NoveltyFit fit;
  fit.target_fpr = target_fpr;
  if (train.empty() || holdout.empty()) return fit;
  EntityNovelty novelty;
  novelty.log_rate = EntityNoveltyLogRates(train, &novelty.rate_slots, &novelty.mean_rate);
  novelty.source = "validation";

  const std::vector<TrainingRow> normal = EvenSample(holdout, kHoldoutPairs);
  fit.holdout_pairs = normal.size();
  // Fewer than kMinTailPairs normal pairs below the threshold: the choice would be noise
  // (an underfit model on 1,600 validation pairs took a novelty that inverted its AUC).
  if (static_cast<double>(normal.size()) * target_fpr < kMinTailPairs) return fit;
  // The entities of the normal pairs, evenly spread; the addresses hosts of the training
  // data's networks (NegativeSampler's k = 0): an attacker's address is a real host of some
  // network. (With half of them uniform over the whole space the fit keeps less novelty:
  // demo recall at 1% FPR 0.760 instead of 0.79.)
  const NegativeSampler sampler(train);
  std::vector<TrainingRow> drawn(std::min(normal.size(), kDrawnPairs));
  for (size_t i = 0; i < drawn.size(); ++i) {
    const TrainingRow& pair = normal[i * normal.size() / drawn.size()];
    drawn[i].entity_hash = pair.entity_hash;
    drawn[i].ip = sampler.Draw(pair.ip, /*k=*/0, RandomAt(seed ^ kDrawStream, i));
  }
  fit.drawn_pairs = drawn.size();
  const std::vector<float> normal_dot = ScoreRows(model, normal, threads, RowScore::kDotProduct);
  const std::vector<float> drawn_dot = ScoreRows(model, drawn, threads, RowScore::kDotProduct);
  fit.caught_dot_product = CaughtShare(normal_dot, drawn_dot, target_fpr);
  fit.caught_with_novelty = fit.caught_dot_product;

  auto rates_of = [&](const std::vector<TrainingRow>& pairs) {
    std::vector<uint64_t> slots(pairs.size());
    for (size_t i = 0; i < pairs.size(); ++i) {
      slots[i] = RateSlot(pairs[i].entity_hash, novelty.rate_slots);
    }
    return slots;
  };
  const std::vector<uint64_t> normal_rates = rates_of(normal), drawn_rates = rates_of(drawn);
  novelty.log_network_share = NetworkLogShares(train, &novelty.mean_network_entities);
  std::vector<float> normal_score(normal.size()), drawn_score(drawn.size());
  bool found = false;
  for (float weight : kWeights) {
    for (float offset : kOffsets) {
      for (float network_weight : kNetworkWeights) {
        novelty.model_weight = weight;
        novelty.model_offset = offset;
        novelty.network_weight = network_weight;
        for (size_t i = 0; i < normal.size(); ++i)
          normal_score[i] = novelty.Adjust(normal_dot[i], normal_rates[i], normal[i].ip);
        for (size_t i = 0; i < drawn.size(); ++i)
          drawn_score[i] = novelty.Adjust(drawn_dot[i], drawn_rates[i], drawn[i].ip);
        const double caught = CaughtShare(normal_score, drawn_score, target_fpr);
        if (caught > fit.caught_with_novelty + (found ? 0 : kMinGain)) {
          fit.caught_with_novelty = caught;
          fit.novelty.model_weight = weight;
          fit.novelty.model_offset = offset;
          fit.novelty.network_weight = network_weight;
          found = true;
        }
      }
    }
  }
  if (found) {
    fit.novelty.mean_rate = novelty.mean_rate;
    fit.novelty.source = novelty.source;
    fit.novelty.rate_slots = novelty.rate_slots;
    fit.novelty.log_rate = std::move(novelty.log_rate);
    if (fit.novelty.network_weight > 0) {
      fit.novelty.mean_network_entities = novelty.mean_network_entities;
      fit.novelty.log_network_share = std::move(novelty.log_network_share);
      fit.novelty.network_slots = kNetworkSlots;
    }
  }
  return fit;
}

}  // namespace ipinsights
