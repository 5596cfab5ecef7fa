#!/usr/bin/env bash
# Runs one gtest suite in one process (CMakeLists.txt: suites that share a server per
# process) and tells ctest how it went by the exit status alone: the binary's own when a test
# failed or one passed, 77 (ctest's SKIP_RETURN_CODE) when every test skipped. A skip pattern
# on the output would not do: ctest lets it win over a failed exit status, so one skipped test
# would hide another's failure.
#
#   bash tests/testing/one_process_suite.sh BINARY SUITE
set -uo pipefail
binary="${1:?usage: one_process_suite.sh BINARY SUITE}"
suite="${2:?usage: one_process_suite.sh BINARY SUITE}"
output="$(mktemp)"
trap 'rm -f "$output"' EXIT
"$binary" --gtest_filter="$suite.*" --gtest_color=no 2>&1 | tee "$output"
status=${PIPESTATUS[0]}
if ! grep -q '^\[ RUN      \]' "$output"; then
  echo "one_process_suite.sh: no test of $suite ran (renamed suite?)" >&2
  exit 1
fi
if ((status == 0)) && grep -q '^\[  PASSED  \] 0 tests' "$output" &&
  grep -q '^\[  SKIPPED \]' "$output"; then
  exit 77
fi
exit "$status"
