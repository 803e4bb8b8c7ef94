#!/usr/bin/env bash
# /token under hostile keystore uploads: client_secret_basic p50/p99 alone, then while
# $UPLOADERS admin clients upload, again and again, the costliest PKCS#12 file the import limits
# let through (`keyward-bench hostile-p12`: a MAC and three encrypted parts at 1,000,000
# iterations and a key bag at 500,000, exactly the 8,000,000-unit budget, every derivation of
# which really runs). Its key is of a type keyward refuses, so each upload pays the whole cost,
# is answered 400 and stores nothing.
#
#   bench/upload-pressure.sh
#   UPLOADERS=8 DURATION=10 RUNS=3 bench/upload-pressure.sh
#
# Server on CPU $SERVER_CPU, wrk and the uploaders on CPU $LOAD_CPU (the uploaders only wait on
# the server). Prints, for each phase, the median run's req/s, p50 and p99, non-2xx, and the
# uploads answered per second with their status codes.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-10}
RUNS=${RUNS:-3}
CONNECTIONS=${CONNECTIONS:-32}
UPLOADERS=${UPLOADERS:-8}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
ADMIN_SECRET=bench-admin-secret-0123456789

command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }
(cd "$ROOT" && cargo build --release -q -p keyward -p keyward-bench)
KEYWARD=${CARGO_TARGET_DIR:-$ROOT/target}/release/keyward
GEN=${CARGO_TARGET_DIR:-$ROOT/target}/release/keyward-bench

WORK=$(mktemp -d)
SERVER_PID=
UPLOAD_PID=
cleanup() {
  kill $UPLOAD_PID $SERVER_PID 2>/dev/null || true
  wait $UPLOAD_PID $SERVER_PID 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$GEN" hostile-p12 --password storepass --out "$WORK/worst.p12"

KEYWARD_LISTEN=127.0.0.1:0 KEYWARD_METRICS_LISTEN=127.0.0.1:0 KEYWARD_DATA_DIR=$WORK KEYWARD_DATABASE_URL=sqlite://$WORK/keyward.db \
  KEYWARD_ADMIN_SECRET=$ADMIN_SECRET KEYWARD_TOKEN_SIGNING_ALG=ES256 KEYWARD_LOG=warn,keyward_server::serve=info \
  taskset -c "$SERVER_CPU" "$KEYWARD" serve >"$WORK/stdout" 2>"$WORK/log" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/log" 2>/dev/null && break; sleep 0.1; done
BASE=$(grep 'listening on' "$WORK/log" | grep -o 'http://127.0.0.1:[0-9]*' | head -1)
[ -n "$BASE" ] || { cat "$WORK/log"; exit 1; }

admin_token() {
  curl -sf -u "keyward-admin:$ADMIN_SECRET" -d grant_type=client_credentials "$BASE/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
SECRET=$(curl -sf -H "Authorization: Bearer $(admin_token)" -H 'Content-Type: application/json' \
  -d '{"client_id":"b-basic","scope":"read"}' "$BASE/admin/clients" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
echo grant_type=client_credentials >"$WORK/basic.body"
AUTH="Basic $(printf 'b-basic:%s' "$SECRET" | base64 -w0)"

# One private_key_jwt client per uploader to upload to.
for i in $(seq 0 $((UPLOADERS - 1))); do
  curl -sf -o /dev/null -H "Authorization: Bearer $(admin_token)" -H 'Content-Type: application/json' \
    -d "{\"client_id\":\"up-$i\",\"scope\":\"read\",\"token_endpoint_auth_method\":\"private_key_jwt\"}" "$BASE/admin/clients"
done
# run_wrk LABEL: RUNS runs of DURATION s; prints the median run (by req/s) and every run's req/s.
run_wrk() {
  local results=()
  BODIES=$WORK/basic.body AUTH=$AUTH WRK_THREADS=1 PARTS=1 PART=0 taskset -c "$LOAD_CPU" \
    wrk -t1 -c"$CONNECTIONS" -d1s -s "$ROOT/bench/wrk/bodies.lua" "$BASE/token" >/dev/null 2>&1
  for r in $(seq "$RUNS"); do
    BODIES=$WORK/basic.body AUTH=$AUTH WRK_THREADS=1 PARTS=1 PART=0 taskset -c "$LOAD_CPU" \
      wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$ROOT/bench/wrk/bodies.lua" "$BASE/token" >"$WORK/wrk.$r" 2>&1
    results+=("$(awk '/Requests\/sec/ {rps=$2} / 50%/ {p50=$2} / 99%/ {p99=$2} /Non-2xx/ {n=$5} END {printf "%s %s %s %d", rps, p50, p99, n}' "$WORK/wrk.$r")")
  done
  local median; median=$(printf '%s\n' "${results[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
  printf '%-28s %10s %9s %9s %8s   runs: %s\n' "$1" $median "$(printf '%s\n' "${results[@]}" | awk '{printf "%s ", $1}')"
}

echo "keyward $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), SQLite, server CPU $SERVER_CPU, wrk + uploaders CPU $LOAD_CPU, $CONNECTIONS connections, ${DURATION}s x $RUNS runs (median), $UPLOADERS uploaders, worst allowed file $(stat -c %s "$WORK/worst.p12") bytes"
printf '%-28s %10s %9s %9s %8s\n' phase req/s p50 p99 non-2xx
run_wrk "basic alone"

taskset -c "$LOAD_CPU" python3 - "$BASE" "$ADMIN_SECRET" "$WORK/worst.p12" "$UPLOADERS" "$WORK/uploads.json" <<'PY' &
import base64, collections, json, sys, threading, time, urllib.error, urllib.request
base, admin_secret, path, n, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
data = json.dumps({"format": "pkcs12", "password": "storepass",
                   "data": base64.b64encode(open(path, "rb").read()).decode()}).encode()
def admin_token():
    cred = base64.b64encode(f"keyward-admin:{admin_secret}".encode()).decode()
    req = urllib.request.Request(base + "/token", b"grant_type=client_credentials",
        {"Authorization": "Basic " + cred, "Content-Type": "application/x-www-form-urlencoded"})
    return json.load(urllib.request.urlopen(req))["access_token"]
token = admin_token()
counts, lock, start = collections.Counter(), threading.Lock(), time.time()
def upload(i):
    while True:
        req = urllib.request.Request(f"{base}/admin/clients/up-{i}/credentials", data,
            {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        try:
            status = urllib.request.urlopen(req, timeout=60).status
        except urllib.error.HTTPError as e:
            status = e.code
        except Exception:
            status = "error"
        with lock:
            counts[status] += 1
            json.dump({"seconds": time.time() - start, "statuses": {str(k): v for k, v in counts.items()}}, open(out, "w"))
for i in range(n):
    threading.Thread(target=upload, args=(i,), daemon=True).start()
while True:
    time.sleep(1)
PY
UPLOAD_PID=$!
sleep 2
run_wrk "basic, $UPLOADERS uploading"
kill $UPLOAD_PID 2>/dev/null || true
wait $UPLOAD_PID 2>/dev/null || true
UPLOAD_PID=
python3 -c "
import json; d = json.load(open('$WORK/uploads.json'))
total = sum(d['statuses'].values())
print(f\"uploads answered: {total} in {d['seconds']:.0f} s ({total / d['seconds']:.1f}/s), by status: {d['statuses']}\")"
