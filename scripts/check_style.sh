#!/usr/bin/env bash
# House-style checks CI runs before building: every C++ file as clang-format (.clang-format:
# Google, 100 columns) would write it, and every include going down the component order
# CMakeLists.txt declares (scripts/check_layering.py). Fix formatting with
#   git ls-files '*.h' '*.cc' '*.inc' | xargs clang-format-14 -i
set -euo pipefail
cd "$(dirname "$0")/.."
# The tree is formatted by clang-format 14 (Debian 12's): other versions wrap differently.
missing=()
command -v clang-format-14 >/dev/null || missing+=(clang-format-14)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
mapfile -t files < <(git ls-files '*.h' '*.cc' '*.inc')
clang-format-14 --dry-run -Werror "${files[@]}"
echo "format: ${#files[@]} files as clang-format $(clang-format-14 --version | grep -o '[0-9][0-9.]*' | head -1) writes them"
python3 scripts/check_layering.py
