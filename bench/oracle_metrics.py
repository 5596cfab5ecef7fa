#!/usr/bin/env python3
"""AUC and recall at a fixed false-positive rate of the oracle_score column of a labels.csv
written by `ipinsights simulate` (higher score = more normal; label 1 = anomaly).

Usage: bench/oracle_metrics.py DIR/labels.csv [--normal N] [--fpr 0.03] [--seed 1]
--normal N samples N label-0 rows (the tutorial's benchmark uses 100,000 of each class).
Ties count one half in the AUC, as evaluate does."""
import argparse
import csv
import random
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("labels")
    parser.add_argument("--normal", type=int, default=0)
    parser.add_argument("--fpr", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    normal, attack = [], []
    with open(args.labels, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header[:4] != ["entity", "ip", "label", "oracle_score"]:
            sys.exit(f"{args.labels}: unexpected header {header}")
        for row in reader:
            (attack if row[2] == "1" else normal).append(float(row[3]))
    if args.normal and args.normal < len(normal):
        normal = random.Random(args.seed).sample(normal, args.normal)
    # Anomaly score = -oracle. AUC = P(attack more anomalous than normal), ties one half.
    items = sorted([(s, 1) for s in attack] + [(s, 0) for s in normal])
    better = 0.0
    normals_above = 0  # normals with a strictly lower oracle score seen so far
    i = 0
    while i < len(items):
        j = i
        while j < len(items) and items[j][0] == items[i][0]:
            j += 1
        group_attacks = sum(1 for k in range(i, j) if items[k][1] == 1)
        group_normals = (j - i) - group_attacks
        # attacks in this group beat every normal with a higher score, tie with the group's normals
        better += group_attacks * (len(normal) - normals_above - group_normals) + 0.5 * group_attacks * group_normals
        normals_above += group_normals
        i = j
    auc = better / (len(normal) * len(attack))
    # Threshold at the target FPR: flag score < t where at most fpr of normals fall below t.
    normal_sorted = sorted(normal)
    k = int(args.fpr * len(normal_sorted))
    threshold = normal_sorted[k] if k < len(normal_sorted) else float("inf")
    flagged_normals = sum(1 for s in normal if s < threshold)
    recall = sum(1 for s in attack if s < threshold) / len(attack)
    print(f"normal={len(normal)} attack={len(attack)} auc={auc:.4f} "
          f"recall@{args.fpr:g}fpr={recall:.4f} (threshold {threshold:.3f}, fpr {flagged_normals/len(normal):.4f}) "
          f"recall@score<0={sum(1 for s in attack if s < 0)/len(attack):.4f} "
          f"fpr@score<0={sum(1 for s in normal if s < 0)/len(normal):.4f}")


if __name__ == "__main__":
    main()
