#!/usr/bin/env bash
# S3 on loopback against local disk: read throughput of a CloudTrail-layout corpus, request
# counts of a pruned --from/--to listing, and (when the CLI's prepare works) the whole
# `ipinsights prepare cloudtrail` from s3:// against the same files on disk.
#
#   bash bench/s3_bench.sh [build-dir]        (default build/release)
#
# Needs moto_server and python3 (pyenv image). The corpus (about 42 MiB of gzipped
# CloudTrail files: 2 accounts x 2 regions x 4 days x 4 files) is made once under
# ${IPI_BENCH_DIR:-/tmp/ipi_s3_bench}. moto_server is started on a free port and stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
work=${IPI_BENCH_DIR:-/tmp/ipi_s3_bench}
corpus=$work/corpus
command -v moto_server >/dev/null || { echo "s3_bench: moto_server not on PATH" >&2; exit 2; }
[ -x "$build/s3_bench" ] || ninja -C "$build" s3_bench

if [ ! -f "$work/corpus.done" ]; then
  echo "making the corpus in $corpus" >&2
  rm -rf "$corpus"
  python3 - "$corpus" <<'PY'
import gzip, json, os, random, sys
root = sys.argv[1]
rng = random.Random(42)
users = ["user%d" % i for i in range(2000)]
for account in ("111111111111", "222222222222"):
    for region in ("us-east-1", "eu-west-1"):
        for day in (1, 2, 3, 4):
            folder = "%s/AWSLogs/%s/CloudTrail/%s/2024/05/%02d" % (root, account, region, day)
            os.makedirs(folder, exist_ok=True)
            for part in range(4):
                records = []
                for i in range(12000):
                    user = rng.choice(users)
                    ip = "%d.%d.%d.%d" % (rng.randint(1, 223), rng.randint(0, 255),
                                          rng.randint(0, 255), rng.randint(1, 254))
                    records.append(
                        '{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA%s",'
                        '"arn":"arn:aws:iam::%s:user/%s","accountId":"%s","userName":"%s"},'
                        '"eventTime":"2024-05-%02dT%02d:%02d:%02dZ","eventSource":"s3.amazonaws.com",'
                        '"eventName":"GetObject","awsRegion":"%s","sourceIPAddress":"%s",'
                        '"userAgent":"aws-cli/2.15.0","requestID":"%016x","eventID":"%032x",'
                        '"readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"%s"}'
                        % (user.upper(), account, user, account, user, day, i % 24, i % 60, i % 60,
                           region, ip, rng.getrandbits(64), rng.getrandbits(128), account))
                name = "%s/%s_CloudTrail_%s_202405%02dT%04dZ_%d.json.gz" % (
                    folder, account, region, day, part * 15, part)
                with gzip.open(name, "wt", compresslevel=6) as out:
                    out.write('{"Records":[' + ",".join(records) + "]}")
PY
  touch "$work/corpus.done"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 150); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export AWS_ENDPOINT_URL_S3="http://127.0.0.1:$port"
IPI_BENCH_CORPUS=$corpus IPI_BENCH_ENDPOINT=$AWS_ENDPOINT_URL_S3 IPI_BENCH_BUCKET=ipi-bench \
  "$build/s3_bench" --benchmark_counters_tabular=true "${@:2}"

# The whole command, when the CLI can read s3:// through prepare.
cli=$build/ipinsights
if [ -x "$cli" ] && "$cli" prepare --help >/dev/null 2>&1; then
  echo
  echo "ipinsights prepare cloudtrail: local disk vs s3:// on loopback (same corpus)"
  for source in "$corpus/AWSLogs" "s3://ipi-bench/AWSLogs"; do
    start=$(date +%s.%N)
    if "$cli" prepare cloudtrail --input "$source" --output "$work/out.csv" --quiet; then
      end=$(date +%s.%N)
      printf '%-40s %6.2f s  %s\n' "$source" "$(echo "$end - $start" | bc)" \
        "$(sha256sum "$work/out.csv" | cut -c1-16)"
    else
      echo "$source: prepare failed"
    fi
  done
  echo "one day (--from 2024-05-02 --to 2024-05-02):"
  for source in "$corpus/AWSLogs" "s3://ipi-bench/AWSLogs"; do
    start=$(date +%s.%N)
    if "$cli" prepare cloudtrail --input "$source" --from 2024-05-02 --to 2024-05-02 \
        --output "$work/out-day.csv" --quiet; then
      end=$(date +%s.%N)
      printf '%-40s %6.2f s  %s\n' "$source" "$(echo "$end - $start" | bc)" \
        "$(sha256sum "$work/out-day.csv" | cut -c1-16)"
    else
      echo "$source: prepare failed"
    fi
  done
fi
