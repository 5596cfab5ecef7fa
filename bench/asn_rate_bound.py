#!/usr/bin/env python3
"""How much of the oracle's recall at 1% / 3% FPR the data allows, on the asn population.

On `simulate --population asn` the oracle score of a pair on a range the entity never uses is
exactly log(the entity's travel rate) (src/ipinsights/simulate/asn_population.h), so what is
caught at a low false-positive rate is decided by how well each entity's travel rate is known.
This replaces the true rate, in every pair's oracle score, by estimates a learner could form:

  - its posterior mean given a Binomial(n_e, w_e) draw: the entity's true number of travel
    events among its n_e training events (log-uniform prior on [0.005, 0.04], the population's);
  - the same from the entity's events on /16 networks it used exactly once (the input of
    train's novelty rate, train/novelty_fit.h), per entity;
  - those counts pooled per entity row (20,000 rows hashed at random, as the tutorial's
    num_entity_vectors), as the model keeps them.

and prints recall at 1% and 3% FPR of each, beside the oracle's, and of a model's scores when
given (`score --pairs` NDJSON in labels.csv's order).

  bench/asn_rate_bound.py WORLD [SCORES.ndjson]
  WORLD: a folder with sim/labels.csv and train.csv (bench/train_bench.sh's, POPULATION=asn)

Needs numpy (Debian: python3-numpy).
"""
import collections
import csv
import json
import math
import sys

import numpy as np

MAX_TRAVEL = 0.04
GRID = np.exp(np.linspace(math.log(0.005), math.log(MAX_TRAVEL), 400))


def posterior_mean(k, n):
    log_likelihood = k * np.log(GRID) + (n - k) * np.log1p(-GRID)
    weights = np.exp(log_likelihood - log_likelihood.max())
    return float((weights * GRID).sum() / weights.sum())


def recall(scores, attack, fpr):
    threshold = np.sort(scores[~attack])[int(fpr * (~attack).sum())]
    return float((scores[attack] < threshold).mean())


def main():
    world = sys.argv[1]
    events = collections.Counter()
    per16 = collections.defaultdict(collections.Counter)
    with open(f"{world}/train.csv") as f:
        for line in f:
            entity, ip = line.rstrip("\n").split(",", 1)
            events[entity] += 1
            per16[entity][".".join(ip.split(".")[:2])] += 1
    once = {e: sum(1 for c in counts.values() if c == 1) for e, counts in per16.items()}
    rows = []
    with open(f"{world}/sim/labels.csv") as f:
        reader = csv.reader(f)
        next(reader)
        for entity, ip, label, score, kind in reader:
            rows.append((entity, kind != "normal", float(score)))
    attack = np.array([a for _, a, _ in rows])
    oracle = np.array([s for _, _, s in rows])
    # The true rate: the smallest exp(oracle score) among an entity's pairs, when one of them
    # is on a foreign range (only travel reaches it); else unknown and its scores are kept.
    rate = {}
    for entity, _, score in rows:
        rate[entity] = min(rate.get(entity, math.inf), math.exp(score))
    known = {e for e, w in rate.items() if w <= MAX_TRAVEL * 1.001}

    def with_rates(estimate):
        return np.array([s if e not in known else
                         math.log(max(math.exp(s) - rate[e], 0) + estimate[e])
                         for e, _, s in rows])

    print(f"{len(rate)} entities ({len(known)} with a foreign pair on the test day), "
          f"median {np.median([events[e] for e in rate]):.0f} training events")
    results = [("oracle (true travel rates)", oracle)]
    rng = np.random.default_rng(1)
    for draw in range(3):
        estimate = {e: posterior_mean(rng.binomial(events[e], rate[e]) if e in known else 0,
                                      events[e]) for e in rate}
        results.append((f"rate from the true travel count, draw {draw}", with_rates(estimate)))
    estimate = {e: posterior_mean(min(once.get(e, 0), events[e]), events[e]) for e in rate}
    results.append(("rate from events on once-used /16s, per entity", with_rates(estimate)))
    bucket = np.random.default_rng(7)
    row_of = {e: int(bucket.integers(20000)) for e in events}
    row_once, row_events = collections.Counter(), collections.Counter()
    for e in events:
        row_once[row_of[e]] += once.get(e, 0)
        row_events[row_of[e]] += events[e]
    estimate = {e: posterior_mean(row_once[row_of[e]], row_events[row_of[e]]) if e in row_of
                else posterior_mean(0, 0) for e in rate}
    results.append(("rate from events on once-used /16s, per entity row", with_rates(estimate)))
    if len(sys.argv) > 2:
        with open(sys.argv[2]) as f:
            model = np.array([json.loads(line)["score"] for line in f])
        results.append((f"model ({sys.argv[2]})", model))
    for name, scores in results:
        print(f"{name:55s} recall at 1% FPR {recall(scores, attack, 0.01):.3f}, "
              f"at 3% {recall(scores, attack, 0.03):.4f}")


if __name__ == "__main__":
    main()
