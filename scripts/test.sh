#!/usr/bin/env bash
# Installs, builds and runs the whole test suite (unit, conformance, end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
cd build/release
ctest --output-on-failure --parallel "$(nproc)" --timeout 900
