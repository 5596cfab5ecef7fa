#!/usr/bin/env bash
# Training speed and quality benchmark (issue 15 §2): ipinsights train against a PyTorch CPU
# implementation of SageMaker's design written for speed (bench/baselines/pytorch_ipinsights.py:
# byte-position EmbeddingBag IP encoder, sparse entity table with SparseAdam, the encoder
# layer folded onto the entity side, torch.set_num_threads(THREADS), OpenMP OpenBLAS), same
# data, same hyperparameters (the SageMaker tutorial's), same thread count, in one run; and
# both against the simulator's Bayes-optimal oracle score. It replaces the earlier baseline
# (our hashed-prefix encoder with the dense layer applied per IP, 114,000 records/s), which
# was neither SageMaker's design nor written for speed.
#
#   bench/train_bench.sh [BUILD_DIR]          (default build/release)
# Environment: POPULATION (networks, the default, or asn: shaped like SageMaker's tutorial
# generator, the stand-in for the issue's hidden population), WORK (default
# /tmp/ipinsights-train-bench-POPULATION), USERS (10000), DAYS (10), ATTACKS (100000),
# THREADS (2), IPV6_FRACTION (the simulator's default), EPOCHS (5), ROUNDS (3: both train
# this many times, alternating, and the ratio is the median of the rounds'), SKIP_TORCH=1 to
# skip the baseline. Data are generated once per WORK folder.
#
# Protocol (issue 3): train on days 1-7, validate on days 8-9, test on day 10's labelled
# pairs (normal held-out logins of known users against ATTACKS known-user/random-network
# pairs). Figures: records/s (all (1+R+S) samples) of the epoch loop, as ipinsights reports
# it, and end to end (reading the CSV, encoding, epochs; ours also validates each epoch and
# writes the model); test AUC, recall at 1% and 3% FPR; the oracle's on the same pairs.
#
# Measured, session 13 (AMD EPYC, Zen 5 with AVX-512; 2 shared cores, THREADS=2, ROUNDS=3,
# POPULATION=asn): ipinsights 1,679,000 / 1,743,000 / 1,556,000 records/s, pytorch 616,000 /
# 617,000 / 622,000: 2.72x, 2.83x, 2.50x, median 2.72x (end to end 2.46x); test AUC 0.9930,
# recall at 1% FPR 0.723 (pytorch 0.9913, 0.655). Before the prefix rows' RMSprop, same
# session: 2.30x, 2.67x, 3.23x. Our trainer is memory-bound (~7,800 scattered embedding rows
# a batch, each read and written with its optimiser state), so other tenants' memory traffic
# moves it more than the compute-bound baseline: hence the rounds.
# Earlier figures (before the AVX-512 kernels and the batched fold), one round each:
#
# Measured (2 shared cores, THREADS=2, load 6-12 from other work: ranges over runs):
#   world     records/s: ipinsights   pytorch           ratio (epoch loop; end to end)
#   networks  358,000-451,000         225,000-363,000   1.24-1.59x; 1.14-1.51x  (3 runs)
#   nearly idle (load 0.1), networks: 1,135,000 vs 545,000 records/s, 2.08x; end to end
#   1,021,000 vs 524,000, 1.95x (1 run, after the fade; ours AUC 0.9953, R@1% 0.8648)
#   asn       327,000-573,000         234,000-396,000   1.40-1.45x; 1.33-1.40x  (2 runs)
#   ipinsights trains first, the baseline after it: the load changed between them, hence the
#   spread of the ratio.
#   (the load cut both: nearly idle, ipinsights ran 1.03-1.1M.) Test figures (both
#   deterministic with seed 1; the same in every run):
#   world     AUC ours  pytorch  oracle   R@1%FPR ours  pytorch  oracle   R@3%FPR ours  pytorch  oracle
#   networks  0.9957    0.9921   0.9975   0.8615        0.7282   0.9556   0.9996        0.9817   0.9999
#   asn       0.9930    0.9913   0.9945   0.7195        0.6545   0.8066   0.9976        0.9889   0.9997
#   (ours measured before the novelty rate's fade; with it, on the same worlds in
#   quality_bench.sh: networks 0.9953 / 0.8647 / 0.9996, asn 0.9923 / 0.6851 / 0.9977.)
#   The baseline's gap to the oracle on asn (0.0032) is no worse than the issue's SageMaker
#   figure on its hidden population (0.9857 vs 0.9917: 0.0060).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build/release}"
BIN="$BUILD/ipinsights"
POPULATION="${POPULATION:-networks}"
WORK="${WORK:-/tmp/ipinsights-train-bench-$POPULATION}"
USERS="${USERS:-10000}"
DAYS="${DAYS:-10}"
ATTACKS="${ATTACKS:-100000}"
THREADS="${THREADS:-2}"
EPOCHS="${EPOCHS:-5}"
ROUNDS="${ROUNDS:-3}"
((ROUNDS >= 1)) || { echo "train_bench: ROUNDS must be at least 1" >&2; exit 2; }
PYTHON=/usr/bin/python3
BASELINE="$ROOT/bench/baselines/pytorch_ipinsights.py"
HP=(--num-entity-vectors 20000 --vector-dim 128 --random-negative-sampling-rate 5
    --shuffled-negative-sampling-rate 1 --mini-batch-size 1000 --epochs "$EPOCHS"
    --learning-rate 0.01)

[[ -x "$BIN" ]] || { echo "train_bench: $BIN not built" >&2; exit 1; }
mkdir -p "$WORK"
cd "$WORK"

if [[ ! -f labels_pairs.csv ]]; then
  echo "== simulating $USERS users x $DAYS days, $ATTACKS attacks" >&2
  rm -rf sim
  SIM_ARGS=(--out sim --population "$POPULATION" --users "$USERS" --days "$DAYS" --attacks "$ATTACKS" --seed 1 --quiet)
  [[ -n "${IPV6_FRACTION:-}" ]] && SIM_ARGS+=(--ipv6-fraction "$IPV6_FRACTION")
  "$BIN" simulate cloudtrail "${SIM_ARGS[@]}"
  START=2024-03-01
  last_train=$(date -u -d "$START + $((DAYS - 4)) days" +%F)
  first_val=$(date -u -d "$START + $((DAYS - 3)) days" +%F)
  last_val=$(date -u -d "$START + $((DAYS - 2)) days" +%F)
  "$BIN" prepare cloudtrail --input sim/AWSLogs --output train.csv --from "$START" --to "$last_train" --quiet
  "$BIN" prepare cloudtrail --input sim/AWSLogs --output validation.csv --from "$first_val" --to "$last_val" --quiet
  "$PYTHON" - <<'PY'
import csv
with open("sim/labels.csv", newline="") as f, open("labels_pairs.csv", "w", newline="") as out:
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.DictReader(f):
        writer.writerow([row["entity"], row["ip"]])
PY
fi
echo "== data: $(wc -l < train.csv) training rows, $(wc -l < validation.csv) validation rows, $(wc -l < labels_pairs.csv) labelled test pairs" >&2

TORCH_OK=0
if [[ "${SKIP_TORCH:-0}" != 1 ]] && "$PYTHON" -c "import torch" 2>/dev/null; then
  TORCH_OK=1
elif [[ "${SKIP_TORCH:-0}" == 1 ]]; then
  echo "== PyTorch baseline skipped (SKIP_TORCH=1)" >&2
else
  echo "== PyTorch baseline skipped: $PYTHON has no torch (apt-get install python3-torch libopenblas0-openmp)" >&2
fi

train_ours() {  # round
  echo "== round $1: ipinsights train ($THREADS threads)" >&2
  rm -rf model
  /usr/bin/time -f "%M" -o ours.maxrss "$BIN" train --train train.csv --validation validation.csv \
    --model-dir model "${HP[@]}" --threads "$THREADS" --seed 1 --quiet --json > "ours_train.$1.json"
}
train_torch() {  # round
  echo "== round $1: PyTorch baseline ($THREADS threads)" >&2
  "$PYTHON" "$BASELINE" train --train train.csv --labels sim/labels.csv "${HP[@]}" \
    --threads "$THREADS" --seed 1 > "torch.$1.json"
}
# The two alternate, and swap who goes first each round, so a change of the machine's load
# falls on both alike; the ratio is taken per round, then its median.
for ((round = 1; round <= ROUNDS; round++)); do
  if ((TORCH_OK && round % 2 == 0)); then
    train_torch "$round"
    train_ours "$round"
  else
    train_ours "$round"
    if ((TORCH_OK)); then train_torch "$round"; fi
  fi
done
# Both train deterministically (seed 1): every round's model is the same; score the last.
"$BIN" score --model model/model.ipinsights --pairs labels_pairs.csv --threads "$THREADS" --quiet \
  --output ours_scores.ndjson
"$PYTHON" "$BASELINE" metrics --labels sim/labels.csv --scores ours_scores.ndjson > ours_metrics.json

"$PYTHON" - "$TORCH_OK" "$POPULATION" "$ROUNDS" <<'PY'
import json, statistics, sys
torch_ok = sys.argv[1] == "1"
rounds = int(sys.argv[3])
ours_runs = [json.load(open(f"ours_train.{r}.json")) for r in range(1, rounds + 1)]
torch_runs = [json.load(open(f"torch.{r}.json")) for r in range(1, rounds + 1)] if torch_ok else []
ours = ours_runs[-1]
metrics = json.load(open("ours_metrics.json"))
maxrss_mb = int(open("ours.maxrss").read().split()[-1]) / 1024
hp = ours["hyperparameters"]
records = ours["training_rows"] * (1 + int(hp["random_negative_sampling_rate"]) +
                                   int(hp["shuffled_negative_sampling_rate"])) * ours["epochs"]
ours_rates = [o["records_per_second"] for o in ours_runs]
ours_e2e_rates = [records / o["seconds"] for o in ours_runs]
median = statistics.median
print(f"population {sys.argv[2]}, {rounds} round(s); records/s is the median over rounds")
print(f"{'':24}{'records/s':>11}{'end-to-end':>11}{'AUC':>8}{'R@1%FPR':>9}{'R@3%FPR':>9}"
      f"{'R@0':>8}{'FPR@0':>8}")
def row(name, rate, e2e, m, p=""):
    rates = f"{rate:>11.0f}{e2e:>11.0f}" if rate else f"{'':>22}"
    tail = f"{m[p + 'recall_at_0']:>8.4f}{m[p + 'fpr_at_0']:>8.4f}" if rate else ""
    print(f"{name:24}{rates}{m[p + 'auc']:>8.4f}{m[p + 'recall_at_1pct_fpr']:>9.4f}"
          f"{m[p + 'recall_at_3pct_fpr']:>9.4f}{tail}")
row("ipinsights", median(ours_rates), median(ours_e2e_rates), metrics)
if torch_ok:
    t = torch_runs[-1]
    torch_rates = [r["records_per_second"] for r in torch_runs]
    torch_e2e_rates = [r["records_per_second_end_to_end"] for r in torch_runs]
    row("pytorch baseline", median(torch_rates), median(torch_e2e_rates), t)
if "oracle_auc" in metrics:
    row("oracle (Bayes-optimal)", None, None, metrics, "oracle_")
    print(f"gap to oracle: AUC {metrics['oracle_auc'] - metrics['auc']:+.4f} (target <= 0.003), "
          f"recall@1%FPR {metrics['oracle_recall_at_1pct_fpr'] - metrics['recall_at_1pct_fpr']:+.4f} (target <= 0.05)")
if torch_ok:
    ratios = [o / t for o, t in zip(ours_rates, torch_rates)]
    e2e_ratios = [o / t for o, t in zip(ours_e2e_rates, torch_e2e_rates)]
    for r in range(rounds):
        print(f"round {r + 1}: ipinsights {ours_rates[r]:.0f}, pytorch {torch_rates[r]:.0f} records/s: "
              f"{ratios[r]:.2f}x (end to end {e2e_ratios[r]:.2f}x)")
    print(f"speed ratio ipinsights / pytorch, median of the rounds: {median(ratios):.2f}x "
          f"(target >= 3); end to end {median(e2e_ratios):.2f}x")
print(f"ipinsights: {ours['training_rows']} rows, {ours['seconds']:.1f} s total, peak RSS {maxrss_mb:.0f} MB, "
      f"validation AUC {ours['validation_auc']}, kernels {json.load(open('model/metrics.json'))['kernels']}")
PY
