#!/usr/bin/env bash
# quality_bench.sh: model against the physical limit, on several simulated worlds at once
# (issues 3 and 15). A training change is judged on all of them: one that helps a world and
# hurts another is not kept.
#
# For each world: simulate CloudTrail logs, prepare training and out-of-time validation days,
# train, evaluate on the last day's labels.csv. Reports AUC and recall at 1% and 3% FPR for
# the model and for the oracle (the simulator's Bayes-optimal score, the ceiling any model can
# reach; computed by bench/oracle_metrics.py and checked against evaluate's own oracle
# figures), side by side, then one table of all worlds.
#
# Worlds (WORLDS, space-separated; default all of them):
#   networks   simulate's default population (people and workloads on ISP, office, mobile and
#              cloud networks): 10,000 users, 10 days, 100,000 attacks. Train days 1-7,
#              validate 8-9, test day 10; the tutorial's hyperparameters
#              (num_entity_vectors 20000, vector_dim 128, R 5, S 1, mini_batch_size 1000,
#              5 epochs, learning_rate 0.01).
#   asn        --population asn (home and work ranges in an ASN-like table, drift to
#              neighbouring ranges, uniform travel: SageMaker's tutorial generator's design),
#              same size, split and hyperparameters.
#   ipv6       the networks world with --ipv6-fraction 0.5 (IPv6_FRACTION).
#   demo       what `ipinsights demo` runs: networks population, 1,000 users, 5 days, 1,000
#              attacks; train days 1-3, validate day 4, test day 5; vector_dim 64,
#              num_entity_vectors 2000, 8 epochs at learning rate 0.02 (5 at 0.01 before
#              session 12: demo_command.cc has the measurement).
#   demo-asn   the demo's size and recipe on --population asn.
#   NAME-seed2 any of the above with --seed 2 (simulation and training).
# Default: "networks asn ipv6 demo networks-seed2 asn-seed2 ipv6-seed2 demo-seed2".
#
# Targets (issue 15 §2): AUC within 0.003 of the oracle's on every world; recall at 1% FPR
# within 0.05 of the oracle's on the 10,000-user worlds.
#
# Measured (commit of issue 15 §1, before any §2 change; 2 shared cores, THREADS=2; the test
# day's normal pairs against its attacks of all kinds):
#   world         AUC model  oracle   R@1% model  oracle   R@3% model  oracle   normal/attacks
#   networks      0.9943     0.9975   0.8250      0.9556   0.9996      0.9999   260399/100000
#   asn           0.9918     0.9945   0.6385      0.8066   0.9977      0.9997   261683/100000
#   ipv6          0.9934     0.9971   0.7480      0.9219   0.9997      1.0000   260399/100000
#   demo          0.9919     0.9973   0.7590      0.9240   0.9940      0.9990    26621/1000
#   networks-seed2 0.9946    0.9978   0.8410      0.9671   0.9996      1.0000   270471/100000
#   asn-seed2     0.9915     0.9938   0.6153      0.7546   0.9974      0.9996   262313/100000
#   ipv6-seed2    0.9934     0.9973   0.7602      0.9385   0.9996      1.0000   270471/100000
#   demo-seed2    0.9945     0.9981   0.8180      0.9760   0.9990      1.0000    26827/1000
#   demo-asn      0.9903     0.9947   0.6090      0.8130   0.9820      0.9950    28869/1000
#
# After issue 15 §2's entity novelty (model/entity_novelty.h: each entity's rate of new
# networks fitted into the score, faded below normal pairs' target_fpr quantile; same
# machine, loaded):
#   world         AUC model  oracle   R@1% model  oracle   R@3% model  oracle
#   networks      0.9953     0.9975   0.8647      0.9556   0.9996      0.9999
#   asn           0.9923     0.9945   0.6851      0.8066   0.9977      0.9997
#   ipv6          0.9946     0.9971   0.8171      0.9219   0.9996      1.0000
#   asn-seed2     0.9920     0.9938   0.6655      0.7546   0.9973      0.9996
#   demo          0.9924     0.9973   0.8030      0.9240   0.9930      0.9990
#   demo-seed2    0.9951     0.9981   0.8810      0.9760   0.9970      1.0000
#   demo-asn      0.9903     0.9947   0.6090      0.8130   0.9820      0.9950  (fit left out)
# Without the fade (the rate added at every score): networks 0.8614, asn 0.7194, ipv6 0.8273,
# asn-seed2 0.6741, demo 0.7920, demo-seed2 0.8640, demo-asn 0.6320 recall at 1%.
#
# With each entity's own rate weighted by the network's share of the population (issue 15,
# session 12; entity_novelty.h: no fade, rates per entity, the fit's objective recall at 1%
# and 3% FPR averaged; 2 cores, nearly idle):
#   world          AUC model  oracle   R@1% model  oracle   R@3% model  oracle
#   networks       0.9964     0.9975   0.8982      0.9556   0.9996      0.9999
#   asn            0.9927     0.9945   0.7057      0.8066   0.9973      0.9997
#   ipv6           0.9956     0.9971   0.8711      0.9219   0.9988      1.0000
#   networks-seed2 0.9967     0.9978   0.9189      0.9671   0.9996      1.0000
#   asn-seed2      0.9924     0.9938   0.6710      0.7546   0.9974      0.9996
#   ipv6-seed2     0.9958     0.9973   0.8867      0.9385   0.9986      1.0000
#   demo           0.9940     0.9973   0.8320      0.9240   0.9920      0.9990
#   demo-seed2     0.9954     0.9981   0.8990      0.9760   0.9910      1.0000
#   demo-asn       0.9904     0.9947   0.6080      0.8130   0.9820      0.9950
# The demo worlds with the demo's recipe now, 8 epochs at learning rate 0.02 (above: 5 at
# 0.01, the tutorial's):
#   demo           0.9950     0.9973   0.8520      0.9240   0.9970      0.9990
#   demo-seed2     0.9964     0.9981   0.9080      0.9760   1.0000      1.0000
#   demo-asn       0.9911     0.9947   0.6550      0.8130   0.9900      0.9950
# EXTRA_TRAIN_ARGS (e.g. --no-entity-novelty) is passed to every train.
#
#   bench/quality_bench.sh [BINARY] [WORKDIR]
#   WORLDS="asn demo" bench/quality_bench.sh                 # a subset
#   ORACLE_ONLY=1 bench/quality_bench.sh                     # simulate + oracle, no training
# Environment: USERS (10000), DAYS (10), ATTACKS (100000) size the 10,000-user worlds;
# IPv6_FRACTION (0.5); THREADS (all cores); KEEP=1 keeps WORKDIR.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$(realpath "${1:-build/release/ipinsights}")
WORK=${2:-$(mktemp -d)}
USERS=${USERS:-10000}
DAYS=${DAYS:-10}
ATTACKS=${ATTACKS:-100000}
IPV6_FRACTION=${IPV6_FRACTION:-0.5}
WORLDS=${WORLDS:-"networks asn ipv6 demo networks-seed2 asn-seed2 ipv6-seed2 demo-seed2"}
THREADS=${THREADS:-0}
ORACLE_ONLY=${ORACLE_ONLY:-0}
mkdir -p "$WORK"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT

START=2024-03-01
day() { date -u -d "$START + $1 days" +%F; }   # day 0 = START
TABLE="$WORK/table.txt"
: > "$TABLE"

# run_world NAME POPULATION USERS DAYS ATTACKS IPV6 SEED VALID_DAYS VECTOR_DIM ENTITY_VECTORS
#           EPOCHS LEARNING_RATE
run_world() {
  local name=$1 population=$2 users=$3 days=$4 attacks=$5 ipv6=$6 seed=$7 valid_days=$8
  local dim=$9 vectors=${10} epochs=${11} rate=${12} dir="$WORK/$1"
  rm -rf "$dir"
  mkdir -p "$dir"
  local train_to valid_from valid_to
  train_to=$(day $((days - valid_days - 2)))    # days 1..DAYS-VALID_DAYS-1
  valid_from=$(day $((days - valid_days - 1)))
  valid_to=$(day $((days - 2)))                 # the day before the test day
  local t0=$(date +%s)
  "$BIN" simulate cloudtrail --out "$dir/logs" --population "$population" --users "$users" \
    --days "$days" --start "$START" --attacks "$attacks" --ipv6-fraction "$ipv6" --seed "$seed" \
    --threads "$THREADS" --quiet
  python3 "$HERE/oracle_metrics.py" "$dir/logs/labels.csv" --fpr 0.01 --fpr 0.03 --json \
    > "$dir/oracle.json"
  if [ "$ORACLE_ONLY" = 1 ]; then
    jq -r --arg name "$name" '
      def f: . * 10000 | round / 10000;
      "\($name)\t-\t\(.auc | f)\t-\t\(.recall_at_fpr["0.01"] | f)\t-\t\(.recall_at_fpr["0.03"] | f)\t\(.normal)/\(.attack)"
      ' "$dir/oracle.json" >> "$TABLE"
    rm -rf "$dir/logs"
    return
  fi
  "$BIN" prepare cloudtrail --input "$dir/logs/AWSLogs" --output "$dir/train.csv" \
    --from "$START" --to "$train_to" --threads "$THREADS" --quiet
  "$BIN" prepare cloudtrail --input "$dir/logs/AWSLogs" --output "$dir/validation.csv" \
    --from "$valid_from" --to "$valid_to" --threads "$THREADS" --quiet
  local t1=$(date +%s)
  "$BIN" train --train "$dir/train.csv" --validation "$dir/validation.csv" \
    --model-dir "$dir/model" --num-entity-vectors "$vectors" --vector-dim "$dim" \
    --random-negative-sampling-rate 5 --shuffled-negative-sampling-rate 1 \
    --mini-batch-size 1000 --epochs "$epochs" --learning-rate "$rate" --seed "$seed" \
    --threads "$THREADS" \
    ${EXTRA_TRAIN_ARGS:-} --quiet --json > "$dir/train.json"
  local t2=$(date +%s)
  "$BIN" evaluate --model "$dir/model/model.ipinsights" --labels "$dir/logs/labels.csv" \
    --threads "$THREADS" --json > "$dir/evaluate.json"
  # The bench checks itself: oracle_metrics.py and evaluate's oracle must agree.
  jq -e --slurpfile o "$dir/oracle.json" '
    def r(f): .recall_at_fpr[] | select(.target_fpr == f) | .recall;
    ((.oracle.auc - $o[0].auc) | fabs) < 0.0005 and
    ((.oracle | r(0.01)) - $o[0].recall_at_fpr["0.01"] | fabs) < 0.005 and
    ((.oracle | r(0.03)) - $o[0].recall_at_fpr["0.03"] | fabs) < 0.005' \
    "$dir/evaluate.json" > /dev/null ||
    { echo "$name: oracle_metrics.py and evaluate disagree on the oracle" >&2; exit 1; }
  jq -r --arg name "$name" --arg population "$population" --arg ipv6 "$ipv6" \
    --argjson prep $((t1 - t0)) --argjson train $((t2 - t1)) \
    --slurpfile t "$dir/train.json" --slurpfile o "$dir/oracle.json" '
    def f: . * 10000 | round / 10000;
    def r(x): .recall_at_fpr[] | select(.target_fpr == x) | .recall;
    "\($name) (population \($population), ipv6 fraction \($ipv6)): \(.normal) normal vs " +
    "\(.anomalous) anomalous test pairs, \($t[0].training_rows) training rows\n" +
    "  AUC               model \(.auc | f)  oracle \($o[0].auc | f)  gap \($o[0].auc - .auc | f)\n" +
    "  recall at 1% FPR  model \(r(0.01) | f)  oracle \($o[0].recall_at_fpr["0.01"] | f)" +
    "  gap \($o[0].recall_at_fpr["0.01"] - r(0.01) | f)\n" +
    "  recall at 3% FPR  model \(r(0.03) | f)  oracle \($o[0].recall_at_fpr["0.03"] | f)" +
    "  gap \($o[0].recall_at_fpr["0.03"] - r(0.03) | f)\n" +
    "  training: \($t[0].records_per_second | round) records/s, \($train) s; simulate+prepare \($prep) s"
    ' "$dir/evaluate.json" >&2
  jq -r --arg name "$name" --slurpfile o "$dir/oracle.json" '
    def f: . * 10000 | round / 10000;
    def r(x): .recall_at_fpr[] | select(.target_fpr == x) | .recall;
    "\($name)\t\(.auc | f)\t\($o[0].auc | f)\t\(r(0.01) | f)\t\($o[0].recall_at_fpr["0.01"] | f)\t\(r(0.03) | f)\t\($o[0].recall_at_fpr["0.03"] | f)\t\(.normal)/\(.anomalous)"
    ' "$dir/evaluate.json" >> "$TABLE"
  [ "${KEEP:-0}" = 1 ] || rm -rf "$dir"
}

echo "quality_bench: worlds: $WORLDS; $(nproc) cores" >&2
for w in $WORLDS; do
  seed=1
  base=$w
  case $w in *-seed2) seed=2; base=${w%-seed2} ;; esac
  case $base in
    networks) run_world "$w" networks "$USERS" "$DAYS" "$ATTACKS" 0.05 $seed 2 128 20000 5 0.01 ;;
    asn) run_world "$w" asn "$USERS" "$DAYS" "$ATTACKS" 0.05 $seed 2 128 20000 5 0.01 ;;
    ipv6)
      run_world "$w" networks "$USERS" "$DAYS" "$ATTACKS" "$IPV6_FRACTION" $seed 2 128 20000 5 0.01
      ;;
    demo) run_world "$w" networks 1000 5 1000 0.05 $seed 1 64 2000 8 0.02 ;;
    demo-asn) run_world "$w" asn 1000 5 1000 0.05 $seed 1 64 2000 8 0.02 ;;
    *) echo "unknown world $w (networks, asn, ipv6, demo, demo-asn, optionally -seed2)" >&2; exit 2 ;;
  esac
done
echo
printf 'world\tAUC model\toracle\tR@1%% model\toracle\tR@3%% model\toracle\ttest normal/attacks\n'
cat "$TABLE"
