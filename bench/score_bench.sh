#!/usr/bin/env bash
# score_bench.sh: pairs/s of `ipinsights score --pairs` on a few million pairs.
#
# Trains a small model with the tutorial's shape (vector_dim 128, one IP encoder layer) on
# generated pairs, then scores PAIRS generated pairs (default 3,000,000) to a file with
# 1 thread and with all threads, and checks the output: one NDJSON line per input row, in
# input order (the entity of line i is u<i mod users>), with the expected number of bad
# rows skipped. Prints pairs/s per run.
#
#   bench/score_bench.sh [BINARY] [PAIRS]
set -euo pipefail
BIN=${1:-build/release/ipinsights}
PAIRS=${2:-3000000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

USERS=10000
# Normal-looking rows: each user on a few /24s; every 100,000th row is a bad IP.
awk -v n="$PAIRS" -v users="$USERS" 'BEGIN {
  srand(7);
  for (i = 0; i < n; i++) {
    u = i % users;
    if (i % 100000 == 99999) { printf "u%d,300.1.2.3\n", u; continue }
    net = (u * 7 + int(rand() * 3)) % 60000;
    printf "u%d,%d.%d.%d.%d\n", u, 1 + int(net / 256) % 200, net % 256, int(rand() * 4), 1 + int(rand() * 250);
  }
}' > "$WORK/pairs.csv"
head -n 200000 "$WORK/pairs.csv" > "$WORK/train.csv"
"$BIN" train --train "$WORK/train.csv" --model-dir "$WORK/model" --num-entity-vectors 20000 \
  --vector-dim 128 --epochs 1 --mini-batch-size 1000 --quiet
BYTES=$(stat -c %s "$WORK/pairs.csv")
echo "score_bench: $PAIRS pairs ($((BYTES / 1000000)) MB), model vector_dim 128, 1 encoder layer, $(nproc) cores"
EXPECTED_BAD=$((PAIRS / 100000))
for THREADS in 1 0; do
  START=$(date +%s.%N)
  "$BIN" score --model "$WORK/model/model.ipinsights" --pairs "$WORK/pairs.csv" \
    --output "$WORK/scores.ndjson" --threads "$THREADS" 2> "$WORK/stderr.txt"
  END=$(date +%s.%N)
  LINES=$(wc -l < "$WORK/scores.ndjson")
  BAD=$(grep -c 'bad IP' "$WORK/stderr.txt" || true)
  if [ "$LINES" -ne $((PAIRS - EXPECTED_BAD)) ] || [ "$BAD" -ne "$EXPECTED_BAD" ]; then
    echo "score_bench: FAILED: $LINES lines written, $BAD bad rows reported" >&2
    exit 1
  fi
  # Order check: the entities of the output, with the bad rows removed from the input.
  if ! cmp -s <(awk -F, '$2 != "300.1.2.3" {print $1}' "$WORK/pairs.csv") \
              <(sed 's/^{"entity":"\([^"]*\)".*/\1/' "$WORK/scores.ndjson"); then
    echo "score_bench: FAILED: output order differs from input order" >&2
    exit 1
  fi
  awk -v p="$PAIRS" -v s="$START" -v e="$END" -v t="$THREADS" 'BEGIN {
    printf "  threads %s: %.2f s, %.2fM pairs/s\n", (t == 0 ? "all" : t), e - s, p / (e - s) / 1e6 }'
done
