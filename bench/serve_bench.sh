#!/usr/bin/env bash
# serve_bench.sh: requests/s and latency of `ipinsights serve` against nginx answering a
# fixed body of the same size (the physical ceiling here) and a Flask/gunicorn server of the
# same contract (bench/baselines/flask_ipinsights.py), all with wrk on loopback, in one run.
#
#   1. one-pair text/csv requests with varied entities, keep-alive, CONNS connections, the
#      same number of server threads / nginx workers / gunicorn workers (THREADS);
#   2. latency at half of nginx's rate, ipinsights and nginx, paced by h2load (p50/p99/p99.9)
#      and evenly paced by bench/paced_load (built beside the binary);
#   3. large batches: pairs/s with 10,000-row CSV requests;
#   4. memory: RSS after load, and RSS growth per idle keep-alive connection.
# The model is trained here with the tutorial's shape (vector_dim 128, one encoder layer).
# Each answer is checked against the server (a wrong or non-200 answer fails the run).
#
# Needs: wrk, nghttp2-client (h2load), nginx-light, bc, jq; for the Flask baseline python3-flask,
# gunicorn, python3-numpy (scripts/install-bench-deps.sh installs them all).
#
#   bench/serve_bench.sh [BINARY]      env: THREADS (default nproc), CONNS (64),
#                                           DURATION (seconds per run, 8), WRK_THREADS (1)
set -euo pipefail
BIN=$(realpath "${1:-build/release/ipinsights}")
HERE=$(cd "$(dirname "$0")" && pwd)
THREADS=${THREADS:-$(nproc)}
CONNS=${CONNS:-64}
DURATION=${DURATION:-8}
WRK_THREADS=${WRK_THREADS:-1}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; return 1; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# wrk summary: "req/s p50 p99" (latencies in ms).
wrk_run() {
  local url=$1; shift
  wrk -t "$WRK_THREADS" -c "$CONNS" -d "${DURATION}s" --latency -s "$HERE/serve_bench.lua" "$url" -- "$@" 2>"$WORK/wrk_err" \
    | tee "$WORK/wrk_out" | awk '
      function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
      /^ +50%/ {p50 = ms($2)} /^ +99%/ {p99 = ms($2)} /^Requests\/sec/ {rps = $2}
      /Non-2xx/ {bad = $NF}
      END { printf "%.0f %.3f %.3f %d\n", rps, p50, p99, bad }'
  if [ -s "$WORK/wrk_err" ]; then echo "serve_bench: FAILED: wrk reported errors:" >&2; sort "$WORK/wrk_err" | uniq -c | head >&2; exit 1; fi
}

# --- model -------------------------------------------------------------------------------
awk 'BEGIN { srand(7); for (i = 0; i < 200000; i++) { u = i % 10000; net = (u * 7 + int(rand() * 3)) % 60000;
  printf "user%d,%d.%d.%d.%d\n", u, 1 + int(net / 256) % 200, net % 256, int(rand() * 4), 1 + int(rand() * 250) } }' > "$WORK/train.csv"
"$BIN" train --train "$WORK/train.csv" --model-dir "$WORK/model" --num-entity-vectors 20000 --vector-dim 128 \
  --epochs 1 --mini-batch-size 1000 --quiet
MODEL="$WORK/model/model.ipinsights"
head -n 10000 "$WORK/train.csv" > "$WORK/batch10k.csv"

# --- servers -----------------------------------------------------------------------------
P_IPI=$(free_port)
"$BIN" serve --model "ct=$MODEL" --port "$P_IPI" --threads "$THREADS" 2>"$WORK/serve.log" &
PID_IPI=$!; PIDS+=("$PID_IPI")
wait_port "$P_IPI"
SAMPLE=$(curl -s -H 'Content-Type: text/csv' --data-binary 'user1,1.2.3.4' "http://127.0.0.1:$P_IPI/invocations")
case "$SAMPLE" in '{"predictions":[{"dot_product":'*) ;; *) echo "serve_bench: FAILED: bad answer $SAMPLE" >&2; exit 1;; esac

P_NGX=$(free_port)
mkdir -p "$WORK/nginx_body"
sed -e "s|__WORKERS__|$THREADS|" -e "s|__WORK__|$WORK|g" -e "s|__PORT__|$P_NGX|" -e "s|__BODY__|$SAMPLE|" \
  "$HERE/baselines/nginx-fixed.conf" > "$WORK/nginx.conf"
nginx -c "$WORK/nginx.conf" -p "$WORK" -g 'daemon off;' 2>"$WORK/nginx.stderr" &
PIDS+=($!)
wait_port "$P_NGX"
[ "$(curl -s -X POST -H 'Content-Type: text/csv' --data-binary 'user1,1.2.3.4' "http://127.0.0.1:$P_NGX/")" = "$SAMPLE" ] \
  || { echo "serve_bench: FAILED: nginx answers differently" >&2; exit 1; }

HAVE_FLASK=0
if /usr/bin/python3 -c 'import flask, gunicorn, numpy' 2>/dev/null; then
  P_FLASK=$(free_port)
  # One BLAS thread per worker, as one deploys it (several per worker thrash on few cores).
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
  IPI_ENTITY_VECTORS=20000 IPI_VECTOR_DIM=128 /usr/bin/python3 -m gunicorn -w "$THREADS" -b "127.0.0.1:$P_FLASK" \
    --chdir "$HERE/baselines" --log-level warning flask_ipinsights:app 2>"$WORK/gunicorn.log" &
  PIDS+=($!)
  wait_port "$P_FLASK" && HAVE_FLASK=1
fi

echo "serve_bench: $(nproc) cores, server threads/workers $THREADS, wrk -t$WRK_THREADS -c$CONNS, ${DURATION}s per run"
echo "  one-pair response: $SAMPLE (${#SAMPLE} bytes)"
printf "  %-34s %10s %9s %9s\n" "server" "req/s" "p50 ms" "p99 ms"
read -r NGX_RPS NGX_P50 NGX_P99 _ < <(wrk_run "http://127.0.0.1:$P_NGX/invocations")
printf "  %-34s %10s %9s %9s\n" "nginx, fixed body" "$NGX_RPS" "$NGX_P50" "$NGX_P99"
read -r IPI_RPS IPI_P50 IPI_P99 _ < <(wrk_run "http://127.0.0.1:$P_IPI/invocations")
printf "  %-34s %10s %9s %9s   (%.0f%% of nginx)\n" "ipinsights serve" "$IPI_RPS" "$IPI_P50" "$IPI_P99" \
  "$(echo "100 * $IPI_RPS / $NGX_RPS" | bc -l)"
if [ "$HAVE_FLASK" = 1 ]; then
  read -r FL_RPS FL_P50 FL_P99 _ < <(wrk_run "http://127.0.0.1:$P_FLASK/invocations")
  printf "  %-34s %10s %9s %9s\n" "Flask + gunicorn ($THREADS sync workers)" "$FL_RPS" "$FL_P50" "$FL_P99"
else
  echo "  (Flask/gunicorn baseline skipped: /usr/bin/python3 lacks flask, gunicorn or numpy)"
fi
# Latency at half of nginx's rate, both servers, paced by h2load (open loop: each connection
# sends at a fixed rate whether or not answers are late, unlike wrk's closed loop), at the
# run's connection count and at 16. h2load sends one body, so this run scores one pair.
HALF=$((NGX_RPS / 2))
paced() {  # paced URL CONNECTIONS -> "req/s p50 p99 p99.9" (ms)
  local conns=$2 per_client=$(( (HALF + $2 - 1) / $2 ))
  h2load --h1 -c "$conns" -t 1 --rps "$per_client" -D "$DURATION" -d "$WORK/one_pair.csv" \
    -H 'Content-Type: text/csv' --log-file "$WORK/h2load.log" "$1" > "$WORK/h2load.out" 2>&1 \
    || { echo "serve_bench: FAILED: h2load:" >&2; tail -5 "$WORK/h2load.out" >&2; exit 1; }
  if awk '$2 != 200 {bad = 1} END {exit !bad}' "$WORK/h2load.log"; then
    echo "serve_bench: FAILED: non-200 answers in the paced run" >&2; exit 1
  fi
  local rps=$(grep -oE 'finished in [0-9.]+s, [0-9.]+ req/s' "$WORK/h2load.out" | awk '{print $4}')
  awk '{print $3}' "$WORK/h2load.log" | sort -n | awk -v rps="$rps" '{a[NR] = $1}
    END {printf "%.0f %.3f %.3f %.3f\n", rps, a[int(NR * 0.5)] / 1000, a[int(NR * 0.99)] / 1000, a[int(NR * 0.999)] / 1000}'
}
if command -v h2load > /dev/null; then
  printf 'user1,1.2.3.4' > "$WORK/one_pair.csv"
  echo "  at half of nginx's rate ($HALF req/s, h2load --rps, open loop):"
  printf "  %-34s %10s %9s %9s %9s\n" "server, connections" "req/s" "p50 ms" "p99 ms" "p99.9 ms"
  for conns in "$CONNS" 16; do
    read -r R P50 P99 P999 < <(paced "http://127.0.0.1:$P_NGX/invocations" "$conns")
    printf "  %-34s %10s %9s %9s %9s\n" "nginx, $conns" "$R" "$P50" "$P99" "$P999"
    read -r R P50 P99 P999 < <(paced "http://127.0.0.1:$P_IPI/invocations" "$conns")
    printf "  %-34s %10s %9s %9s %9s   (target p99 < 2 ms)\n" "ipinsights serve, $conns" "$R" "$P50" "$P99" "$P999"
  done
else
  echo "  (latency at half rate skipped: no h2load; apt-get install nghttp2-client)"
fi
# The same rate evenly spread in time (request k due at k/rate, on connection k mod C: wrk2's
# pacing), by bench/paced_load.cc. h2load's connections all tick together, so it sends in
# bursts of one request per connection; here latency counts from when each request was due
# (a stall of the machine counts in full) and, separately, from when it was sent. Host steal
# time during the run is printed beside it: on a shared VM it is what the tail follows.
PACED=$(dirname "$BIN")/paced_load
steal_ms() { awk 'NR == 1 {print $9 * 10}' /proc/stat; }
if [ -x "$PACED" ]; then
  echo "  at half of nginx's rate, evenly paced (bench/paced_load; latency from due time | from send time):"
  printf "  %-34s %10s %9s %9s %9s | %9s %9s %9s\n" "server, connections" "req/s" "p50 ms" "p99 ms" "p99.9 ms" "p99 sent" "p99.9 sent" "steal ms"
  for conns in "$CONNS" 16; do
    for target in "nginx:$P_NGX" "ipinsights serve:$P_IPI"; do
      STEAL_BEFORE=$(steal_ms)
      "$PACED" --port "${target##*:}" --path /invocations --rate "$HALF" --connections "$conns" --duration "$DURATION" \
        --header 'Content-Type: text/csv' --body-file "$WORK/one_pair.csv" > "$WORK/paced.json" \
        || { echo "serve_bench: FAILED: paced_load: $(cat "$WORK/paced.json")" >&2; exit 1; }
      STEAL=$(( $(steal_ms) - STEAL_BEFORE ))
      jq -r --arg name "${target%%:*}, $conns" --arg steal "$STEAL" \
        '"  " + ($name | . + " " * (34 - length)) + " " + (.rate | tostring | " " * (10 - length) + .)
         + ([.p50_ms, .p99_ms, .p999_ms] | map(" " + (tostring | " " * (9 - length) + .)) | join(""))
         + " |" + ([.sent_p99_ms, .sent_p999_ms] | map(" " + (tostring | " " * (9 - length) + .)) | join(""))
         + " " + ($steal | " " * (9 - length) + .)' "$WORK/paced.json"
    done
  done
else
  echo "  (evenly paced latency skipped: no $PACED; build the paced_load target)"
fi

# Large batches: 10,000-row requests, 2 connections.
SAVED_CONNS=$CONNS; CONNS=2
read -r BATCH_RPS _ _ _ < <(wrk_run "http://127.0.0.1:$P_IPI/invocations" 0 "$WORK/batch10k.csv")
CONNS=$SAVED_CONNS
echo "  large batches (10,000-row CSV, 2 connections): $BATCH_RPS req/s = $(echo "$BATCH_RPS * 10000" | bc) pairs/s"

# Memory: RSS after the load, then with 1,000 idle keep-alive connections more.
MODEL_KB=$(( $(stat -c %s "$MODEL") / 1024 ))
RSS_BEFORE=$(rss_kb "$PID_IPI")
python3 - "$P_IPI" <<'PY' &
import socket, sys, time
socks = []
for _ in range(1000):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
    socks.append(s)
for s in socks:
    s.recv(4096)
time.sleep(3)
PY
HOLDER=$!
sleep 2
RSS_IDLE=$(rss_kb "$PID_IPI")
wait "$HOLDER"
echo "  memory: model file ${MODEL_KB} KB; RSS after load ${RSS_BEFORE} KB; +1,000 idle connections: ${RSS_IDLE} KB" \
     "($(( (RSS_IDLE - RSS_BEFORE) * 1024 / 1000 )) bytes/connection)"
