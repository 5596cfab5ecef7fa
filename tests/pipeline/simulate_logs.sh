#!/usr/bin/env bash
# The logs every `pipeline` test reads: 8 days of CloudTrail (300 users) and WAF (150 users)
# from 2024-03-01, written to DIR/ct and DIR/waf, then DIR/complete (the binary's and this
# script's sizes and modification times: a test uses the logs only when made by the binary
# and script it runs). ctest runs
# it once per run (fixture pipeline_world, see CMakeLists.txt); a test binary run by hand
# runs it itself.
#
#   bash tests/pipeline/simulate_logs.sh BINARY DIR
set -euo pipefail
if (($# != 2)); then
  echo "usage: $0 BINARY DIR" >&2
  exit 2
fi
binary="$1" dir="$2"
rm -rf "$dir"
mkdir -p "$dir"
"$binary" simulate cloudtrail --out "$dir/ct" --days 8 --start 2024-03-01 --users 300 --quiet
"$binary" simulate waf --out "$dir/waf" --days 8 --start 2024-03-01 --users 150 --quiet
stat -L -c "%s %Y" "$binary" "$0" > "$dir/complete"
