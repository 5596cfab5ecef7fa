#!/usr/bin/env bash
# Builds and runs the tests under the sanitizers, as CI does on every run:
#   asan: every test (unit, integration, conformance, fuzz seed replays) under ASan + UBSan,
#         preset "asan" (RelWithDebInfo: -O2 keeps the training tests fast enough; line
#         tables only, which is all a sanitizer's stack trace needs: objects half the size
#         of full debug information, so the builds compile and link faster);
#   tsan: the server and trainer tests (ctest labels serve, train) under TSan, preset "tsan".
# The tests start the `ipinsights` binary of the same build, so servers and commands run
# sanitized too. Any report fails the run (halt_on_error below; UBSan stays recoverable in the
# build so the out-of-descriptors server test can tolerate its false "invalid vptr" report).
#
#   bash scripts/sanitize.sh          # both
#   bash scripts/sanitize.sh asan     # one of them
#   JOBS=4 bash scripts/sanitize.sh   # build and test parallelism (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."

which="${1:-all}"
case "$which" in all | asan | tsan) ;; *)
  echo "usage: $0 [asan|tsan]" >&2
  exit 2
  ;;
esac
jobs="${JOBS:-$(nproc)}"
bash scripts/install-deps.sh --fuzz  # clang: its sanitizer builds take minutes where gcc's take an hour

export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# A small quarantine: the server tests bound the server's RSS under attack, and ASan's
# default 256 MB quarantine of freed blocks would count against that bound.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:quarantine_size_mb=32:malloc_context_size=20${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"

run() {
  local preset="$1" labels="$2"
  shift 2
  local start
  start=$(date +%s)
  cmake --preset "$preset" > /dev/null
  cmake --build "build/$preset" --parallel "$jobs" ${1:+--target "$@"}
  echo "$preset build: $(($(date +%s) - start)) s" >&2
  start=$(date +%s)
  # The README's recipe (label readme) is minutes of training at full size: the release run
  # covers it, and every command it uses is tested here in smaller form. The container tests
  # (label container) check the packaging of the release binary, which is what ships (a
  # sanitized binary also needs /proc, which the image's root filesystem does not have).
  ctest --test-dir "build/$preset" --output-on-failure --parallel "$jobs" --timeout 1800 \
    ${labels:+-L "$labels"} -LE '^(readme|container)$'
  echo "$preset tests: $(($(date +%s) - start)) s" >&2
}

if [[ "$which" == all || "$which" == asan ]]; then
  run asan ""
fi
if [[ "$which" == all || "$which" == tsan ]]; then
  run tsan "^(serve|train)$" ipinsights serve_test train_test
fi
