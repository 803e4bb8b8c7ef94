#!/usr/bin/env bash
# A long day under load. Builds the release binary, starts keyward on a fresh SQLite database
# (server pinned to CPU $SERVER_CPU), and drives it with `keyward-bench soak` (pinned to CPU
# $LOAD_CPU): first a short closed-loop phase that measures the peak rate of the token mix,
# then $DURATION seconds at $RATE token requests/s (default: half that peak), taking the four
# client authentication methods in turn (client_secret_basic, client_secret_post,
# client_secret_jwt HS256, private_key_jwt ES256; every assertion signed when sent, with its
# own jti), plus one round of admin writes every second (create a client, update it, import a
# key, delete the key, delete the client, rotate another client's secret and use the new one).
#
# Every minute it prints a markdown row (and appends it to $CSV): token requests, p50/p99/max
# latency (open loop: counted from when each request was due), non-2xx and transport errors,
# admin writes and failures (with every failure by kind), the server's RSS (highest of the
# minute, /proc/PID/status), its CPU, the load generator's CPU, and the replay store's size (rows
# of `replay_log`, read with a read-only SQLite connection; expired entries are purged every
# replay_purge_seconds, so it stays bounded).
#
# Exits non-zero if any request failed (peak phase included), if the server's highest RSS in
# the second half exceeds the first half's by more than $RSS_GROWTH_PERCENT (default 10) %, or
# if the replay store held more rows than rate/2 x (assertion lifetime + clock skew + purge
# interval + 30 s).
#
#   bench/soak.sh                          # 30 minutes at half the measured peak
#   DURATION=120 bench/soak.sh             # a short run
#   RATE=4000 DURATION=600 CSV=/tmp/soak.csv bench/soak.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
INTEROP=${INTEROP:-$ROOT/../shared/interop}
DURATION=${DURATION:-1800}
RATE=${RATE:-0}
PEAK_SECONDS=${PEAK_SECONDS:-20}
PEAK_CONNECTIONS=${PEAK_CONNECTIONS:-32}
# Requests (so connections) in flight at most in the timed phase; see `keyward-bench soak --help`.
MAX_IN_FLIGHT=${MAX_IN_FLIGHT:-256}
REPORT_SECONDS=${REPORT_SECONDS:-60}
RSS_GROWTH_PERCENT=${RSS_GROWTH_PERCENT:-10}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
TOKEN_ALG=${TOKEN_ALG:-ES256}
CSV=${CSV:-soak-$(date -u +%Y%m%dT%H%M%SZ).csv}
ADMIN_SECRET=soak-admin-secret-0123456789

# The same build as bench/run.sh, so one target directory serves both.
(cd "$ROOT" && cargo build --release -q -p keyward -p keyward-bench --features keyward/bench-baseline)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
KEYWARD=$TARGET/release/keyward
GEN=$TARGET/release/keyward-bench

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT
ISSUER=http://keyward.soak
# The data directory holds only what keyward writes there (the logs go next to it).
mkdir -m 700 "$WORK/data"
# warn: a log line per issued token at info would be most of the server's work and disk.
KEYWARD_ISSUER=$ISSUER KEYWARD_LISTEN=127.0.0.1:0 KEYWARD_METRICS_LISTEN=127.0.0.1:0 KEYWARD_DATA_DIR=$WORK/data \
  KEYWARD_DATABASE_URL=sqlite://$WORK/data/keyward.db KEYWARD_ADMIN_SECRET=$ADMIN_SECRET \
  KEYWARD_TOKEN_SIGNING_ALG=$TOKEN_ALG KEYWARD_LOG=warn,keyward_server::serve=info \
  taskset -c "$SERVER_CPU" "$KEYWARD" serve >"$WORK/stdout" 2>"$WORK/log" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/log" 2>/dev/null && break; sleep 0.1; done
BASE=$(grep 'listening on' "$WORK/log" | grep -o 'http://127.0.0.1:[0-9]*' | head -1)
[ -n "$BASE" ] || { cat "$WORK/log"; exit 1; }
sleep 1
IDLE_RSS=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status")

echo "keyward $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), SQLite, token alg $TOKEN_ALG, server CPU $SERVER_CPU, load CPU $LOAD_CPU, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start, idle RSS $((IDLE_RSS / 1024)) MiB, CSV $CSV"
status=0
KEYWARD_ADMIN_SECRET=$ADMIN_SECRET taskset -c "$LOAD_CPU" "$GEN" soak --base "$BASE" --issuer "$ISSUER" \
  --key "$INTEROP/sample-ec256-private.pem" --jwk "$INTEROP/sample-ec256-public.jwk" \
  --pid "$SERVER_PID" --db "$WORK/data/keyward.db" --duration "$DURATION" --rate "$RATE" \
  --peak-seconds "$PEAK_SECONDS" --peak-connections "$PEAK_CONNECTIONS" --max-in-flight "$MAX_IN_FLIGHT" \
  --report-seconds "$REPORT_SECONDS" --rss-growth-percent "$RSS_GROWTH_PERCENT" --csv "$CSV" || status=$?
kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server is gone" >&2; status=1; }
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); server log lines (warn and above): $(grep -cv 'listening on' "$WORK/log" || true)"
if grep -q ERROR "$WORK/log"; then echo "the server logged errors:" >&2; grep ERROR "$WORK/log" | head -5 >&2; status=1; fi
exit $status
