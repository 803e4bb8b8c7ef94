#!/usr/bin/env bash
# Back channel of the authorization code flow beside client_credentials. Builds the release
# binary, starts keyward on a fresh SQLite database (server pinned to CPU $SERVER_CPU), and for
# each client authentication method in $METHODS and each call in $GRANTS runs
# `keyward-bench code-flow` (pinned to CPU $LOAD_CPU): it registers its own first-party client
# (and for the code-flow calls a user, signed in once as a browser), prepares every single-use
# input before each timed window (codes, refresh tokens, access tokens to introspect, and for
# private_key_jwt one pre-signed ES256 assertion per request), then keeps $CONCURRENCY requests
# in flight over keep-alive connections for $DURATION seconds, $RUNS times after a 1 s warm-up.
# One server and one sitting for every row. Prints a markdown table: the median run by req/s
# with its p50/p99, the server's CPU per request, and the ratio to client_credentials of the
# same method. Any non-2xx (or an inactive introspection) fails the row and the script.
#
#   bench/code-flow.sh
#   DURATION=10 RUNS=3 CONCURRENCY=32 bench/code-flow.sh
#   METHODS=basic GRANTS="cc code" bench/code-flow.sh
#   AUTHORIZE=0 bench/code-flow.sh   # without the GET /authorize (code issuance) row
#
# Codes live 60 s, so DURATION stays short (the driver refuses a window that would outlive them).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
INTEROP=${INTEROP:-$ROOT/../shared/interop}
DURATION=${DURATION:-10}
RUNS=${RUNS:-3}
CONCURRENCY=${CONCURRENCY:-32}
METHODS=${METHODS:-"basic pkjwt-es256"}
GRANTS=${GRANTS:-"cc code refresh introspect"}
AUTHORIZE=${AUTHORIZE:-1}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
TOKEN_ALG=${TOKEN_ALG:-ES256}
ADMIN_SECRET=bench-admin-secret-0123456789

(cd "$ROOT" && cargo build --release -q -p keyward -p keyward-bench)
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
ISSUER=http://keyward.bench
mkdir -m 700 "$WORK/data"
# warn: at info every issued code and token is a log line, which would be most of the work.
KEYWARD_ISSUER=$ISSUER KEYWARD_LISTEN=127.0.0.1:0 KEYWARD_METRICS_LISTEN=127.0.0.1:0 KEYWARD_DATA_DIR=$WORK/data \
  KEYWARD_DATABASE_URL=sqlite://$WORK/data/keyward.db KEYWARD_ADMIN_SECRET=$ADMIN_SECRET \
  KEYWARD_TOKEN_SIGNING_ALG=$TOKEN_ALG KEYWARD_LOG=warn,keyward_server::serve=info \
  taskset -c "$SERVER_CPU" "$KEYWARD" serve >"$WORK/stdout" 2>"$WORK/log" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/log" 2>/dev/null && break; sleep 0.1; done
BASE=$(grep 'listening on' "$WORK/log" | grep -o 'http://127.0.0.1:[0-9]*' | head -1)
[ -n "$BASE" ] || { cat "$WORK/log"; exit 1; }
sleep 1
IDLE_RSS=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$SERVER_PID/status")

echo "keyward $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), SQLite, token alg $TOKEN_ALG, server CPU $SERVER_CPU, driver CPU $LOAD_CPU, $(nproc) CPUs, $CONCURRENCY in flight, ${DURATION}s x $RUNS runs (median), load average $(cut -d' ' -f1-3 /proc/loadavg) at the start, idle RSS ${IDLE_RSS}MiB"

ROWS=()
failed=0
# row METHOD GRANT: runs the driver, keeps its log, appends "method grant median-line all-rps"
row() {
  local method=$1 grant=$2 out=$WORK/$1.$2.out
  echo "== $method / $grant" >&2
  if ! KEYWARD_ADMIN_SECRET=$ADMIN_SECRET RUST_LIB_BACKTRACE=0 taskset -c "$LOAD_CPU" "$GEN" code-flow --base "$BASE" --issuer "$ISSUER" \
      --method "$method" --key "$INTEROP/sample-ec256-private.pem" --jwk "$INTEROP/sample-ec256-public.jwk" \
      --grant "$grant" --duration "$DURATION" --runs "$RUNS" --concurrency "$CONCURRENCY" --pid "$SERVER_PID" \
      >"$out" 2>&1; then
    grep -v '^RESULT' "$out" | tail -20 >&2
    ROWS+=("$method $grant FAILED")
    failed=1
    return
  fi
  grep -v -e '^RESULT' -e '^timed window' "$out" >&2
  # RESULT req/s p50 p99 server-us/req driver-cpu-%; the median run by req/s.
  local median all
  median=$(grep '^RESULT' "$out" | cut -d' ' -f2- | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
  all=$(grep '^RESULT' "$out" | awk '{printf "%.0f ", $2}')
  # The server's peak RSS so far (VmHWM: cumulative over the rows of this sitting).
  local hwm; hwm=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$SERVER_PID/status")
  ROWS+=("$method $grant $median $hwm | $all")
}

for m in $METHODS; do
  for g in $GRANTS; do row "$m" "$g"; done
done
[ "$AUTHORIZE" = 1 ] && row basic authorize

echo
echo "| method | call | req/s | vs client_credentials | p50 ms | p99 ms | server CPU us/req | driver CPU % | server peak RSS | runs (req/s) |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
for r in "${ROWS[@]}"; do
  python3 - "$r" "${ROWS[@]}" <<'PY'
import sys
names = {"basic": "client_secret_basic", "pkjwt-es256": "private_key_jwt ES256"}
calls = {"cc": "client_credentials", "code": "authorization_code", "refresh": "refresh_token",
         "introspect": "introspection (user access token)", "authorize": "GET /authorize with a session (code issuance)"}
def parse(line):
    head, _, runs = line.partition(" | ")
    f = head.split()
    return f, runs.strip()
f, runs = parse(sys.argv[1])
method, grant = f[0], f[1]
label = "-" if grant == "authorize" else names.get(method, method)
if f[2] == "FAILED":
    print(f"| {label} | {calls[grant]} | **FAILED** | | | | | | | |")
    sys.exit()
rps, p50, p99, cpu, drv, hwm = (float(x) for x in f[2:8])
ratio = ""
for other in sys.argv[2:]:
    o, _ = parse(other)
    if o[0] == method and o[1] == "cc" and o[2] != "FAILED" and grant not in ("cc", "authorize"):
        ratio = f"{rps / float(o[2]):.2f}"
if grant == "cc":
    ratio = "1"
print(f"| {label} | {calls[grant]} | {rps:,.0f} | {ratio} | {p50:.2f} | {p99:.2f} | {cpu:.0f} | {drv:.0f} | {hwm:.0f} MiB | {runs} |")
PY
done
echo
echo "peak RSS $(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$SERVER_PID/status")MiB; load average at the end $(cut -d' ' -f1-3 /proc/loadavg); server log lines (warn and above): $(grep -cv 'listening on' "$WORK/log" || true)"
grep -v 'listening on' "$WORK/log" | head -5 >&2 || true
exit $failed
