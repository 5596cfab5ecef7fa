#!/usr/bin/env bash
# Installs what is missing, builds, and runs `ipinsights demo` in ./ipinsights-demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec build/release/ipinsights demo "$@"
