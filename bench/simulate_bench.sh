#!/usr/bin/env bash
# Whole-command benchmark of `ipinsights simulate`: MB/s of uncompressed JSON written, for
# CloudTrail (gzip'd, as AWS delivers it) and WAF (plain and gzip'd NDJSON).
#
# Usage: bench/simulate_bench.sh [BINARY] [TARGET_MB] [THREADS]
#   BINARY     default build/release/ipinsights
#   TARGET_MB  uncompressed size per run (default 1000)
#   THREADS    worker threads (default 2, the target machine's cores)
# Output goes to a temporary folder on the same disk as $TMPDIR (default /tmp) and is removed.
# The figure counts what the command does end to end: sampling, formatting, gzip
# (libdeflate level 1), and writing every object (atomic write: temp file, fsync, rename).
# The tutorial-like configuration (10,000 users, 10 days, 100,000 attacks) is timed too, and
# the oracle's AUC and recall at 3% FPR are computed from its labels.csv.
set -euo pipefail

BINARY=${1:-build/release/ipinsights}
TARGET_MB=${2:-1000}
THREADS=${3:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ipi_simulate_bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

if [[ ! -x "$BINARY" ]]; then
  echo "simulate_bench: $BINARY is not an executable (build it first, or pass its path)" >&2
  exit 2
fi
echo "simulate_bench: $(nproc) cores here, --threads $THREADS, target $TARGET_MB MB per run, load: $(cut -d' ' -f1-3 /proc/loadavg)"

field() {  # field NAME JSON -> the number after "NAME":
  sed -E "s/.*\"$1\":([0-9.]+).*/\1/" <<<"$2"
}

run() {  # run LABEL ARGS...
  local label=$1
  shift
  local out="$WORK/$label"
  local start end json
  start=$(date +%s.%N)
  json=$("$BINARY" simulate "$@" --out "$out" --threads "$THREADS" --json)
  end=$(date +%s.%N)
  local bytes records files stored
  bytes=$(field bytes "$json")
  records=$(field records "$json")
  files=$(field files "$json")
  stored=$(field stored_bytes "$json")
  awk -v l="$label" -v b="$bytes" -v r="$records" -v f="$files" -v s="$stored" -v t0="$start" -v t1="$end" \
    'BEGIN { t = t1 - t0; printf "%-28s %8.0f MB JSON  %9d records  %6d files  %7.0f MB stored  %6.1f s  %7.1f MB/s\n", l, b/1e6, r, f, s/1e6, t, b/1e6/t }'
  rm -rf "$out"
}

run cloudtrail cloudtrail --days 3 --target-mb "$TARGET_MB" --attacks 1000
run waf waf --days 3 --target-mb "$TARGET_MB" --attacks 1000
run waf-gzip waf --gzip --days 3 --target-mb "$TARGET_MB" --attacks 1000

# The tutorial's population (issue 3's quality benchmark), and its oracle.
start=$(date +%s.%N)
json=$("$BINARY" simulate cloudtrail --out "$WORK/tutorial" --users 10000 --days 10 --attacks 100000 \
  --threads "$THREADS" --json)
end=$(date +%s.%N)
awk -v b="$(field bytes "$json")" -v r="$(field records "$json")" -v p="$(field pairs "$json")" -v t0="$start" -v t1="$end" \
  'BEGIN { t = t1 - t0; printf "%-28s %8.0f MB JSON  %9d records  %9d pairs  %6.1f s  %7.1f MB/s\n", "tutorial (10k users, 10 d)", b/1e6, r, p, t, b/1e6/t }'
python3 "$HERE/oracle_metrics.py" "$WORK/tutorial/labels.csv" --normal 100000 | sed 's/^/  oracle: /'
rm -rf "$WORK/tutorial"
json=$("$BINARY" simulate cloudtrail --out "$WORK/tutorial6" --users 10000 --days 10 --attacks 100000 \
  --ipv6-fraction 0.5 --threads "$THREADS" --json)
echo "tutorial, --ipv6-fraction 0.5: $(field pairs "$json") pairs, $(field ipv6_pairs "$json") IPv6"
python3 "$HERE/oracle_metrics.py" "$WORK/tutorial6/labels.csv" --normal 100000 | sed 's/^/  oracle: /'
