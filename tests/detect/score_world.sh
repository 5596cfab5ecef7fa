#!/usr/bin/env bash
# The world the `score cloudtrail|waf --input` CLI tests read (tests/detect/score_logs_cli_test.cc):
# 3 days of CloudTrail (60 users, 30 attacks), a training set of the first two days split
# out of time, and a small model trained on it (seeded: the same files on every run). Written
# to DIR, then DIR/complete (the binary's and this script's sizes and modification times: a
# test uses the world only when made by the binary and script it runs). ctest runs it once per run (fixture detect_world,
# see CMakeLists.txt); a test binary run by hand makes the same files in each test.
#
#   bash tests/detect/score_world.sh BINARY DIR
set -euo pipefail
script="$(realpath "$0")"
binary="$(realpath "${1:?usage: score_world.sh BINARY DIR}")"
dir="${2:?usage: score_world.sh BINARY DIR}"
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
"$binary" simulate cloudtrail --out sim --users 60 --days 3 --attacks 30 --seed 5 --quiet
"$binary" prepare cloudtrail --input sim/AWSLogs --to 2024-03-02 --split-at 2024-03-02 \
  --output train.csv --validation-output val.csv --quiet
"$binary" train --train train.csv --validation val.csv --model-dir model \
  --num-entity-vectors 200 --vector-dim 16 --epochs 2 --seed 1 --quiet
stat -L -c "%s %Y" "$binary" "$script" > complete
