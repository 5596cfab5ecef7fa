#!/usr/bin/env python3
"""AUC and recall at fixed false-positive rates of the oracle_score column of a labels.csv
written by `ipinsights simulate` (higher score = more normal; label 1 = anomaly).

Usage: bench/oracle_metrics.py DIR/labels.csv [--normal N] [--fpr 0.03 ...] [--seed 1] [--json]
--normal N samples N label-0 rows (the tutorial's benchmark uses 100,000 of each class).
--fpr may be given several times (default 0.03). Ties count one half in the AUC, as evaluate
does. --json prints {"normal":..,"attack":..,"auc":..,"recall_at_fpr":{"0.01":..,..}} instead
of the text line (bench/quality_bench.sh reads it). --by-kind adds one line (or a "by_kind"
object) per attack kind of the `kind` column, each kind's attacks against all the normal rows.
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
    parser.add_argument("--by-kind", action="store_true")
    args = parser.parse_args()
    fprs = args.fpr or [0.03]
    normal, attack, kinds = [], [], {}
    with open(args.labels, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        try:
            label_col, score_col = header.index("label"), header.index("oracle_score")
        except ValueError:
            sys.exit(f"{args.labels}: no label or oracle_score column in {header}")
        kind_col = header.index("kind") if "kind" in header else None
        for row in reader:
            score = float(row[score_col])
            if row[label_col] != "1":
                normal.append(score)
                continue
            attack.append(score)
            if kind_col is not None:
                kinds.setdefault(row[kind_col], []).append(score)
    if not normal or not attack:
        sys.exit(f"{args.labels}: needs both normal and anomalous rows")
    if args.normal and args.normal < len(normal):
        normal = random.Random(args.seed).sample(normal, args.normal)
    normal_sorted = sorted(normal)
    result = metrics(normal_sorted, attack, fprs)
    by_kind = {k: metrics(normal_sorted, v, fprs) for k, v in sorted(kinds.items())}
    if args.json:
        if args.by_kind:
            result["by_kind"] = by_kind
        print(json.dumps(result))
        return
    print(text(result))
    if args.by_kind:
        for kind, figures in by_kind.items():
            print(f"  {kind}: {text(figures)}")


def metrics(normal_sorted, attack, fprs):
    """AUC and recall at each FPR of `attack` scores against sorted normal scores."""
    # Anomaly score = -oracle. AUC = P(attack more anomalous than normal), ties one half:
    # for each attack, the normals with a strictly higher score plus half the equal ones.
    better = 0.0
    for s in attack:
        below = bisect.bisect_left(normal_sorted, s)
        equal = bisect.bisect_right(normal_sorted, s) - below
        better += len(normal_sorted) - below - equal + 0.5 * equal
    attack_sorted = sorted(attack)
    result = {"normal": len(normal_sorted), "attack": len(attack),
              "auc": better / (len(normal_sorted) * len(attack)), "recall_at_fpr": {},
              "thresholds": {}, "reached_fpr": {},
              "recall_below_zero": bisect.bisect_left(attack_sorted, 0) / len(attack),
              "fpr_below_zero": bisect.bisect_left(normal_sorted, 0) / len(normal_sorted)}
    for fpr in fprs:
        # Threshold at the target FPR: flag score < t where at most fpr of normals fall below t.
        k = int(fpr * len(normal_sorted))
        threshold = normal_sorted[k] if k < len(normal_sorted) else float("inf")
        result["recall_at_fpr"][f"{fpr:g}"] = bisect.bisect_left(attack_sorted, threshold) / len(attack)
        result["thresholds"][f"{fpr:g}"] = threshold
        result["reached_fpr"][f"{fpr:g}"] = bisect.bisect_left(normal_sorted, threshold) / len(normal_sorted)
    return result


def text(r):
    parts = [f"normal={r['normal']} attack={r['attack']} auc={r['auc']:.4f}"]
    for key, recall in r["recall_at_fpr"].items():
        parts.append(f"recall@{key}fpr={recall:.4f} (threshold {r['thresholds'][key]:.3f}, "
                     f"fpr {r['reached_fpr'][key]:.4f})")
    parts.append(f"recall@score<0={r['recall_below_zero']:.4f} fpr@score<0={r['fpr_below_zero']:.4f}")
    return " ".join(parts)

if __name__ == "__main__":
    main()
