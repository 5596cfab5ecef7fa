#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the build and the tests need (idempotent).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libsimdjson-dev libdeflate-dev zlib1g-dev libcli11-dev libfmt-dev libxxhash-dev
  libboost-dev libcurl4-openssl-dev libssl-dev libyaml-cpp-dev libmaxminddb-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 curl jq openssl
  python3-botocore  # tests/storage: SigV4 checked against botocore's signer
  awscli  # tests/detect: `aws securityhub batch-import-findings` accepts our ASFF as-is
  umoci  # tests/container: the OCI image is assembled and unpacked without a daemon
  ca-certificates  # scripts/build-image.sh: the image's CA bundle (S3 over HTTPS) comes from here
  python3-yaml  # tests/container: the Kubernetes manifest is parsed
  util-linux  # tests/container: unshare/nsenter run the image's rootfs in its own namespaces
  chromium  # tests/eval/report_browser.py: the HTML report loaded and checked in headless Chromium
  fonts-liberation  # chromium recommends it; without a font the report's text renders as nothing
)
# --fuzz (scripts/fuzz.sh): clang and libFuzzer's runtime (libclang_rt.fuzzer for clang-14);
# the normal build does not need them.
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang libclang-rt-14-dev)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
