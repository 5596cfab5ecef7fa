#!/usr/bin/env bash
# Whole-command benchmark of `ipinsights prepare`, side by side in one run with its
# baselines (issue 2):
#   prepare (2 threads)   the real command, full CSV output written to a file
#   prepare (1 thread)    for the scaling figure
#   one-core limit        bench/parse_limit_bench.cc: libdeflate + simdjson On-Demand on one
#                         core, only the needed fields pulled out, nothing written
#   python (original)     bench/baselines/syntheticsun_prepare.py (json, gzip, re, csv)
#   zcat | jq             bench/baselines/jq_prepare.sh
# on simulated logs (`ipinsights simulate ... --target-mb SIZE`): CloudTrail as gzip'd
# {"Records":[...]} objects, WAF as plain newline-delimited Firehose objects (as the original
# read them). Throughput is MB/s of uncompressed JSON (prepare's bytes_read, the same
# denominator for every tool); peak memory is /usr/bin/time -v's maximum resident set.
# "cpu s" is user + system CPU time: on a shared, loaded machine MB per CPU-second shows each
# tool's efficiency even when wall-clock scaling is limited by other processes.
# Files are read once beforehand so every tool starts from a warm page cache.
#
#   bench/prepare_bench.sh [SIZE_MB=1024] [BUILD_DIR=build/release]
# Environment: WORK=DIR keeps (and reuses) the generated logs there; SKIP_JQ=1,
# SKIP_PYTHON=1 leave out the slow baselines; KINDS="cloudtrail waf".
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
build=${2:-build/release}
bin=$build/ipinsights
limit=$build/parse_limit_bench
python=${PYTHON:-python3}
kinds=${KINDS:-cloudtrail waf}
for tool in "$bin" "$limit" /usr/bin/time; do
  [[ -x $tool ]] || { echo "missing $tool (build with: cmake --build $build)" >&2; exit 2; }
done
work=${WORK:-$(mktemp -d /tmp/ipinsights-prepare-bench.XXXXXX)}
mkdir -p "$work"
echo "prepare benchmark: ${size} MB per kind, logs in $work, $(nproc) cores, $(date -u +%FT%TZ)"

# run NAME CMD...: runs under /usr/bin/time -v; sets SECONDS_TAKEN and PEAK_MB.
run() {
  local name=$1
  shift
  /usr/bin/time -v -o "$work/$name.time" "$@" > "$work/$name.out" 2> "$work/$name.err" || {
    echo "$name failed:" >&2
    tail -5 "$work/$name.err" >&2
    return 1
  }
  SECONDS_TAKEN=$(awk -F': ' '/Elapsed \(wall clock\)/ {
      n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/$name.time")
  CPU_SECONDS=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$work/$name.time")
  PEAK_MB=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$work/$name.time")
}

for kind in $kinds; do
  logs=$work/$kind
  if [[ ! -d $logs/AWSLogs ]]; then
    rm -rf "$logs"
    extra=()
    "$bin" simulate "$kind" --out "$logs" --target-mb "$size" --quiet "${extra[@]}"
  fi
  input=$logs/AWSLogs
  find "$input" -type f -print0 | xargs -0 cat > /dev/null  # warm the page cache

  run "$kind-prepare2" "$bin" prepare "$kind" --input "$input" --output "$work/$kind-pairs.csv" \
    --threads 2 --quiet --json
  json_bytes=$($python -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes_read"])' "$work/$kind-prepare2.out")
  pairs=$($python -c 'import json,sys; print(json.load(open(sys.argv[1]))["pairs_written"])' "$work/$kind-prepare2.out")
  mb=$(awk -v b="$json_bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
  declare -A secs peak cpu
  secs[prepare2]=$SECONDS_TAKEN; peak[prepare2]=$PEAK_MB; cpu[prepare2]=$CPU_SECONDS
  run "$kind-prepare1" "$bin" prepare "$kind" --input "$input" --output "$work/$kind-pairs1.csv" \
    --threads 1 --quiet --json
  secs[prepare1]=$SECONDS_TAKEN; peak[prepare1]=$PEAK_MB; cpu[prepare1]=$CPU_SECONDS
  cmp -s "$work/$kind-pairs.csv" "$work/$kind-pairs1.csv" || { echo "1 vs 2 threads differ" >&2; exit 1; }
  run "$kind-limit" "$limit" "$kind" "$input"
  secs[limit]=$SECONDS_TAKEN; peak[limit]=$PEAK_MB; cpu[limit]=$CPU_SECONDS
  # A fast wrong answer fails: both must have seen the same records.
  $python - "$work/$kind-prepare2.out" "$work/$kind-limit.out" <<'PY'
import json, sys
prepare, limit = (json.load(open(p)) for p in sys.argv[1:3])
if prepare["records"] != limit["records"] or prepare["bytes_read"] != limit["json_bytes"]:
    sys.exit(f"records/bytes differ: prepare {prepare['records']}/{prepare['bytes_read']}, "
             f"limit {limit['records']}/{limit['json_bytes']}")
PY
  if [[ -z ${SKIP_PYTHON:-} ]]; then
    run "$kind-python" "$python" bench/baselines/syntheticsun_prepare.py "$kind" "$input" "$work/$kind-python.csv"
    secs[python]=$SECONDS_TAKEN; peak[python]=$PEAK_MB; cpu[python]=$CPU_SECONDS
  fi
  if [[ -z ${SKIP_JQ:-} ]]; then
    run "$kind-jq" bench/baselines/jq_prepare.sh "$kind" "$input" "$work/$kind-jq.csv"
    secs[jq]=$SECONDS_TAKEN; peak[jq]=$PEAK_MB; cpu[jq]=$CPU_SECONDS
  fi

  echo
  echo "== $kind: $mb MB of JSON, $pairs pairs written by prepare"
  printf '%-28s %9s %10s %12s %12s %9s %9s %12s\n' tool seconds "MB/s" "x python" "x limit" "peak MB" "cpu s" "MB/cpu-s"
  for tool in prepare2 prepare1 limit python jq; do
    [[ -n ${secs[$tool]:-} ]] || continue
    case $tool in
      prepare2) label="ipinsights prepare (2 thr)" ;;
      prepare1) label="ipinsights prepare (1 thr)" ;;
      limit) label="one-core limit (no output)" ;;
      python) label="python original" ;;
      jq) label="zcat | jq" ;;
    esac
    awk -v l="$label" -v s="${secs[$tool]}" -v mb="$mb" -v sp="${secs[python]:-0}" \
      -v sl="${secs[limit]}" -v p="${peak[$tool]}" -v c="${cpu[$tool]}" 'BEGIN {
        rate = s > 0 ? mb / s : 0
        xp = (sp > 0 && s > 0) ? sprintf("%.1fx", sp / s) : "-"
        xl = s > 0 ? sprintf("%.2fx", sl / s) : "-"
        per_cpu = c > 0 ? mb / c : 0
        printf "%-28s %9.2f %10.0f %12s %12s %9s %9.2f %12.0f\n", l, s, rate, xp, xl, p, c, per_cpu }'
  done
  unset secs peak cpu
done
echo
echo "targets: prepare (2 threads) >= 1.40x the one-core limit; peak memory < 512 MB"
