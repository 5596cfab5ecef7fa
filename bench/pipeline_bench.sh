#!/usr/bin/env bash
# pipeline_bench.sh: what `ipinsights pipeline` costs beyond the commands it stands for.
#
# Simulates USERS CloudTrail entities over 9 days, then, alternating ROUNDS times in the same
# run (the machine is shared and noisy: compare within a round):
#   baseline: the same work as separate commands, as an expert would script the loop:
#             prepare (7 days, newest held out) -> train (warm start from the previous
#             model) -> evaluate --test on the held-out day (new model and current model)
#             -> copy into a versioned folder;
#   pipeline: `pipeline --date` for the same window (a fresh work folder, the same registry
#             state: one current version to warm-start from and compare with).
# Prints seconds for each and the ratio pipeline / commands.
#
#   bench/pipeline_bench.sh [BINARY] [USERS] [ROUNDS]
set -euo pipefail
BIN=$(realpath "${1:-build/release/ipinsights}")
USERS=${2:-20000}
ROUNDS=${3:-3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

"$BIN" simulate cloudtrail --out logs --users "$USERS" --days 9 --start 2024-03-01 --quiet
HP="--vector-dim 64 --epochs 3 --learning-rate 0.01 --mini-batch-size 1000 --num-entity-vectors $((USERS * 2))"
cat > pipeline.yaml <<EOF
registry: registry
work: work
hyperparameters: {vector_dim: 64, epochs: 3, learning_rate: 0.01, mini_batch_size: 1000, num_entity_vectors: $((USERS * 2))}
gate: {min_auc: 0.5, max_auc_drop: 1}
jobs:
  - name: ct
    source: {kind: cloudtrail, input: logs/AWSLogs}
    window: {days: 7}
EOF
# The registry's current model, from the window before (both runs start from it).
"$BIN" pipeline --config pipeline.yaml --date 2024-03-08 --quiet
CURRENT=registry/ct/versions/2024-03-07/model.ipinsights
ATTACKS=$("$BIN" prepare cloudtrail --input logs/AWSLogs --from 2024-03-08 --to 2024-03-08 \
  --output probe.csv --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["pairs_written"])')

seconds() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
echo "pipeline_bench: $USERS entities, window 7 days (2024-03-02 .. 2024-03-08), $(nproc) cores, $ROUNDS rounds"
for ROUND in $(seq "$ROUNDS"); do
  rm -rf cmd && mkdir cmd
  START=$(date +%s.%N)
  "$BIN" prepare cloudtrail --input logs/AWSLogs --from 2024-03-02 --to 2024-03-08 \
    --output cmd/train.csv --validation-output cmd/validation.csv --quiet
  # shellcheck disable=SC2086
  "$BIN" train --train cmd/train.csv --validation cmd/validation.csv --model-dir cmd/model \
    --init-model "$CURRENT" $HP --quiet
  "$BIN" evaluate --model cmd/model/model.ipinsights --test cmd/validation.csv \
    --random-attacks "$ATTACKS" --json --quiet > cmd/new.json
  "$BIN" evaluate --model "$CURRENT" --test cmd/validation.csv \
    --random-attacks "$ATTACKS" --json --quiet > cmd/current.json
  mkdir -p cmd/registry/2024-03-08 && cp cmd/model/* cmd/new.json cmd/registry/2024-03-08/
  MID=$(date +%s.%N)
  rm -rf work/ct/runs/2024-03-08
  PSTART=$(date +%s.%N)
  "$BIN" pipeline --config pipeline.yaml --date 2024-03-09 --quiet
  END=$(date +%s.%N)
  C=$(seconds "$START" "$MID")
  P=$(seconds "$PSTART" "$END")
  # Back to the same registry state for the next round.
  "$BIN" pipeline --config pipeline.yaml --rollback ct --quiet
  rm -rf registry/ct/versions/2024-03-08
  echo "round $ROUND: commands ${C} s, pipeline ${P} s, ratio $(python3 -c "print(f'{$P / $C:.2f}')")"
done
