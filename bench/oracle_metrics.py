#!/usr/bin/env python3
"""AUC and recall at fixed false-positive rates of the oracle_score column of a labels.csv
written by `ipinsights simulate` (higher score = more normal; label 1 = anomaly).

Usage: bench/oracle_metrics.py DIR/labels.csv [--normal N] [--fpr 0.03 ...] [--seed 1] [--json]
--normal N samples N label-0 rows (the tutorial's benchmark uses 100,000 of each class).
--fpr may be given several times (default 0.03). Ties count one half in the AUC, as evaluate
does. --json prints {"normal":..,"attack":..,"auc":..,"recall_at_fpr":{"0.01":..,..}} instead
of the text line (bench/quality_bench.sh reads it).
Columns are found by header name, so the `kind` column (and any later one) is ignored."""
import argparse
import bisect
import csv
import json
import random
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("labels")
    parser.add_argument("--normal", type=int, default=0)
    parser.add_argument("--fpr", type=float, action="append")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    fprs = args.fpr or [0.03]
    normal, attack = [], []
    with open(args.labels, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        try:
            label_col, score_col = header.index("label"), header.index("oracle_score")
        except ValueError:
            sys.exit(f"{args.labels}: no label or oracle_score column in {header}")
        for row in reader:
            (attack if row[label_col] == "1" else normal).append(float(row[score_col]))
    if not normal or not attack:
        sys.exit(f"{args.labels}: needs both normal and anomalous rows")
    if args.normal and args.normal < len(normal):
        normal = random.Random(args.seed).sample(normal, args.normal)
    normal_sorted = sorted(normal)
    # Anomaly score = -oracle. AUC = P(attack more anomalous than normal), ties one half:
    # for each attack, the normals with a strictly higher score plus half the equal ones.
    better = 0.0
    for s in attack:
        below = bisect.bisect_left(normal_sorted, s)
        equal = bisect.bisect_right(normal_sorted, s) - below
        better += len(normal_sorted) - below - equal + 0.5 * equal
    auc = better / (len(normal) * len(attack))
    attack_sorted = sorted(attack)
    recalls = {}
    text = []
    for fpr in fprs:
        # Threshold at the target FPR: flag score < t where at most fpr of normals fall below t.
        k = int(fpr * len(normal_sorted))
        threshold = normal_sorted[k] if k < len(normal_sorted) else float("inf")
        flagged_normals = bisect.bisect_left(normal_sorted, threshold)
        recall = bisect.bisect_left(attack_sorted, threshold) / len(attack)
        recalls[f"{fpr:g}"] = recall
        text.append(f"recall@{fpr:g}fpr={recall:.4f} (threshold {threshold:.3f}, "
                    f"fpr {flagged_normals / len(normal):.4f})")
    if args.json:
        print(json.dumps({"normal": len(normal), "attack": len(attack), "auc": auc,
                          "recall_at_fpr": recalls}))
        return
    print(f"normal={len(normal)} attack={len(attack)} auc={auc:.4f} " + " ".join(text) +
          f" recall@score<0={bisect.bisect_left(attack_sorted, 0) / len(attack):.4f}"
          f" fpr@score<0={bisect.bisect_left(normal_sorted, 0) / len(normal):.4f}")


if __name__ == "__main__":
    main()
