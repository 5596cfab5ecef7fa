#!/usr/bin/env bash
# serve_instructions.sh: user-space instructions per one-pair request in `ipinsights serve`,
# counted by callgrind (valgrind). Unlike seconds, the count hardly moves with whatever else
# the machine is doing, so a change to the request path can be judged on a noisy machine.
# Kernel work (recv, send, epoll) is not counted: it is about two thirds of the CPU time.
#
# One server thread, 20,000 one-pair text/csv requests from h2load on 16 keep-alive
# connections; the figure is the instructions under the I/O thread's event loop (model loading
# excluded) divided by the requests. It moves by about 2% between runs (how requests batch
# into event-loop wake-ups).
#
#   bench/serve_instructions.sh [BINARY]     needs valgrind, nghttp2-client (h2load), curl
set -euo pipefail
BIN=$(realpath "${1:-build/release/ipinsights}")
REQUESTS=20000
WORK=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
awk 'BEGIN { srand(7); for (i = 0; i < 20000; i++) printf "user%d,10.%d.%d.%d\n", i % 2000, i % 200, int(rand() * 250), 1 + i % 250 }' \
  > "$WORK/train.csv"
"$BIN" train --train "$WORK/train.csv" --model-dir "$WORK/model" --num-entity-vectors 4000 --vector-dim 128 \
  --epochs 1 --quiet
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" \
  "$BIN" serve --model "ct=$WORK/model/model.ipinsights" --port "$PORT" --threads 1 2>"$WORK/serve.log" &
PID=$!
for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$PORT/ping" && break; sleep 0.2; done
printf 'user1,10.1.2.3' > "$WORK/one_pair.csv"
h2load --h1 -c 16 -t 1 -n "$REQUESTS" -d "$WORK/one_pair.csv" -H 'Content-Type: text/csv' \
  "http://127.0.0.1:$PORT/invocations" > "$WORK/h2load.out"
grep -q "$REQUESTS succeeded" "$WORK/h2load.out" || { echo "serve_instructions: FAILED: $(grep requests: "$WORK/h2load.out")" >&2; exit 1; }
kill -TERM "$PID"; wait "$PID" || true; PID=""
callgrind_annotate --inclusive=yes "$WORK/callgrind.out" 2>/dev/null | awk -v n="$REQUESTS" '
  /scheduler::run/ && !done { gsub(",", "", $1); printf "serve_instructions: %.0f user-space instructions per one-pair request (%d requests, 1 thread)\n", $1 / n, n; done = 1 }
  END { if (!done) { print "serve_instructions: FAILED: no event loop in the profile" > "/dev/stderr"; exit 1 } }'
