#!/usr/bin/env bash
# Installs what the whole-command benchmarks under bench/ compare against (not needed to
# build or test): wrk and nginx for serve, Flask/gunicorn and PyTorch (with OpenMP OpenBLAS)
# baselines, jq for the zcat | jq baseline, hyperfine; h2load (nghttp2-client) paces requests at a
# fixed rate for serve_bench.sh's latency run; valgrind counts instructions for
# serve_instructions.sh.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
  wrk nghttp2-client nginx-light hyperfine bc jq pigz time valgrind \
  python3-flask gunicorn python3-numpy python3-torch libopenblas0-openmp
