#!/usr/bin/env bash
# Builds the libFuzzer targets (preset "fuzz": clang, ASan + UBSan) and runs each one for
# SECONDS_PER_TARGET seconds (default 30), one at a time, from a copy of its seed corpus
# (fuzz/corpus/<name>/). Fails if any target crashes, leaks, times out or runs out of
# memory, and prints the path of the input that did it.
#
#   bash scripts/fuzz.sh            # 30 s per target
#   bash scripts/fuzz.sh 300        # longer
#   FUZZERS="router sigv4" bash scripts/fuzz.sh 60
#   JOBS=4 bash scripts/fuzz.sh     # build parallelism (default 2)
#
# Reproduce a crash: build/fuzz/fuzz/<name>_fuzzer PATH   (or, without clang, replay it with
# build/release/fuzz/<name>_fuzzer PATH). Fix the bug, then add PATH to fuzz/corpus/<name>/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-30}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "usage: $0 [SECONDS_PER_TARGET]" >&2
  exit 2
fi
all_fuzzers=(ip_address media_type request_codec router sigv4 log_reader pair_reader csv pair_csv_differential model_file s3_xml history_file aws_ip_ranges)
read -r -a fuzzers <<< "${FUZZERS:-${all_fuzzers[*]}}"

bash scripts/install-deps.sh --fuzz

start=$(date +%s)
cmake --preset fuzz > /dev/null
targets=()
for name in "${fuzzers[@]}"; do targets+=("${name}_fuzzer"); done
ninja -C build/fuzz -j "${JOBS:-2}" "${targets[@]}"
echo "fuzz build: $(($(date +%s) - start)) s" >&2

runs=build/fuzz/runs
failed=()
for name in "${fuzzers[@]}"; do
  dir="$runs/$name"
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp -R "fuzz/corpus/$name/." "$dir/corpus/"
  echo "== $name: ${seconds} s" >&2
  status=0
  # UBSan reports are fatal (the preset builds with -fno-sanitize-recover=undefined).
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
    "build/fuzz/fuzz/${name}_fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "$dir/corpus" > "$dir/log.txt" 2>&1 || status=$?
  grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$dir/log.txt" >&2 || true
  shopt -s nullglob
  artifacts=("$dir"/artifacts/*)
  shopt -u nullglob
  if ((status != 0 || ${#artifacts[@]} > 0)); then
    failed+=("$name")
    echo "FAILED: $name (exit $status); log: $dir/log.txt" >&2
    grep -E 'ERROR|runtime error|fuzz invariant|SUMMARY' "$dir/log.txt" | head -5 >&2 || true
    for artifact in "${artifacts[@]}"; do echo "crashing input: $artifact" >&2; done
  fi
done

echo "fuzzing took $(($(date +%s) - start)) s (build included)" >&2
if ((${#failed[@]})); then
  echo "fuzz targets that failed: ${failed[*]}" >&2
  exit 1
fi
echo "all ${#fuzzers[@]} fuzz targets ran ${seconds} s each without a failure" >&2
