#!/usr/bin/env bash
# before_after.sh: the README's performance figures for two builds of ipinsights, measured
# in one run on the same inputs, so a refactoring can show it kept every figure where it was
# (machines here are shared and noisy: only figures from the same run compare).
#
#   bench/before_after.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR [ROUNDS=3]
#
# Each figure alternates the two builds ROUNDS times and prints both medians and their ratio
# (after / before; above 1 is faster, except for instruction counts where below 1 is fewer):
#   prepare cloudtrail / waf  MB/s of JSON, 2 threads, on ~300 MB of simulated logs
#   score --pairs             pairs/s, all threads, 2M pairs (bench/score_bench.sh's rows)
#   train                     records/s, 2 threads, the tutorial's hyperparameters, 1 epoch
#   serve codec               ns per 10,000-row text/csv body (serve_codec_bench
#                             BM_DecodeCsv10k), and BM_RouterOnePair
#   serve instructions        callgrind instructions per one-pair request
#                             (bench/serve_instructions.sh; needs valgrind and h2load)
# A build dir needs `ipinsights` and `serve_codec_bench` (ninja ipinsights serve_codec_bench).
set -euo pipefail
BEFORE=$(realpath "$1")
AFTER=$(realpath "$2")
ROUNDS=${3:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
row() {  # name unit before-values after-values
  local b a
  b=$(echo "$3" | tr ' ' '\n' | grep . | median)
  a=$(echo "$4" | tr ' ' '\n' | grep . | median)
  awk -v n="$1" -v u="$2" -v b="$b" -v a="$a" 'BEGIN { printf "%-34s %14.4g %14.4g %8.3f  %s\n", n, b, a, a / b, u }'
}

echo "before_after: $BEFORE vs $AFTER, $ROUNDS rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$AFTER/ipinsights" simulate cloudtrail --out "$WORK/ct" --target-mb 300 --days 3 --quiet
"$AFTER/ipinsights" simulate waf --out "$WORK/waf" --target-mb 300 --days 3 --quiet
find "$WORK" -type f -exec cat {} + >/dev/null  # a warm page cache for every run

awk -v n=2000000 'BEGIN { srand(7); for (i = 0; i < n; i++) { u = i % 10000; net = (u * 7 + int(rand() * 3)) % 60000;
  printf "u%d,%d.%d.%d.%d\n", u, 1 + int(net / 256) % 200, net % 256, int(rand() * 4), 1 + int(rand() * 250) } }' \
  > "$WORK/pairs.csv"
head -n 400000 "$WORK/pairs.csv" > "$WORK/train.csv"
"$AFTER/ipinsights" train --train "$WORK/train.csv" --model-dir "$WORK/model" --num-entity-vectors 20000 \
  --vector-dim 128 --epochs 1 --mini-batch-size 1000 --quiet

json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
declare -A VALUES
for round in $(seq "$ROUNDS"); do
  for side in before after; do
    dir=$BEFORE
    [ "$side" = after ] && dir=$AFTER
    bin="$dir/ipinsights"
    for kind in cloudtrail waf; do
      input="$WORK/ct/AWSLogs"
      [ "$kind" = waf ] && input="$WORK/waf"
      mbps=$("$bin" prepare "$kind" --input "$input" --output "$WORK/out.csv" --threads 2 --json --quiet |
        json_field json_mb_per_second)
      VALUES[prepare_${kind}_$side]+="$mbps "
    done
    start=$(date +%s.%N)
    "$bin" score --model "$WORK/model/model.ipinsights" --pairs "$WORK/pairs.csv" --output "$WORK/scores.ndjson" \
      --quiet 2>/dev/null
    end=$(date +%s.%N)
    VALUES[score_$side]+="$(awk -v s="$start" -v e="$end" 'BEGIN { print 2000000 / (e - s) }') "
    rps=$("$bin" train --train "$WORK/train.csv" --model-dir "$WORK/m_$side" --num-entity-vectors 20000 \
      --vector-dim 128 --epochs 1 --mini-batch-size 1000 --learning-rate 0.01 \
      --random-negative-sampling-rate 5 --shuffled-negative-sampling-rate 1 --threads 2 --quiet --json |
      json_field records_per_second)
    VALUES[train_$side]+="$rps "
    "$dir/serve_codec_bench" --benchmark_filter='BM_DecodeCsv10k|BM_RouterOnePair' --benchmark_format=csv \
      2>/dev/null > "$WORK/codec.csv"
    VALUES[decode_$side]+="$(awk -F, '/BM_DecodeCsv10k/ { print $4 }' "$WORK/codec.csv") "
    VALUES[router_$side]+="$(awk -F, '/BM_RouterOnePair/ { print $4 }' "$WORK/codec.csv") "
  done
done
if command -v valgrind >/dev/null && command -v h2load >/dev/null; then
  for side in before after; do
    dir=$BEFORE
    [ "$side" = after ] && dir=$AFTER
    VALUES[instr_$side]=$(bash "$HERE/serve_instructions.sh" "$dir/ipinsights" 2>/dev/null |
      grep -o '[0-9]* user-space instructions' | cut -d' ' -f1)
  done
fi

printf "%-34s %14s %14s %8s\n" figure before after ratio
row "prepare cloudtrail (MB/s)" "higher is better" "${VALUES[prepare_cloudtrail_before]}" "${VALUES[prepare_cloudtrail_after]}"
row "prepare waf (MB/s)" "higher is better" "${VALUES[prepare_waf_before]}" "${VALUES[prepare_waf_after]}"
row "score --pairs (pairs/s)" "higher is better" "${VALUES[score_before]}" "${VALUES[score_after]}"
row "train (records/s)" "higher is better" "${VALUES[train_before]}" "${VALUES[train_after]}"
row "serve DecodeCsv10k (ns)" "lower is better" "${VALUES[decode_before]}" "${VALUES[decode_after]}"
row "serve RouterOnePair (ns)" "lower is better" "${VALUES[router_before]}" "${VALUES[router_after]}"
if [ -n "${VALUES[instr_before]:-}" ]; then
  row "serve instructions per request" "lower is better" "${VALUES[instr_before]}" "${VALUES[instr_after]}"
fi
