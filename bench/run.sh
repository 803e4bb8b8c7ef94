#!/usr/bin/env bash
# Load benchmark of POST /token. Builds the release binary, starts keyward on a loopback port
# with a fresh database (server pinned to CPU $SERVER_CPU), registers one client per scenario,
# and drives each scenario with wrk (pinned to CPU $LOAD_CPU) for $DURATION seconds, $RUNS
# times; prints the median req/s with p50/p99 latency, non-2xx count, server peak RSS and the
# server's CPU microseconds per request.
#
#   bench/run.sh                      # all scenarios
#   SCENARIOS="basic pkjwt-es256" bench/run.sh
#   DURATION=10 RUNS=3 CONNECTIONS=32 TOKEN_ALG=ES256 bench/run.sh
#   DATABASE=postgres NODES=2 SCENARIOS=pkjwt-es256 bench/run.sh   # nodes sharing PostgreSQL
#   PERF=/tmp/prof SCENARIOS=hs256 bench/run.sh   # also `perf record` the server during run 1
#   CLIENTS=100000 SCENARIOS=pkjwt-es256 bench/run.sh   # assertions spread over that many clients
#   PREFILL_JTI=1000000 SCENARIOS=pkjwt-es256 bench/run.sh   # 1M live jtis stored before the start
#   SCENARIOS="baseline baseline-spin-17" bench/run.sh   # H, and H with 17 us of CPU burnt per request
#
# Before run 1 of each scenario a 1 s warm-up (not counted) fills the caches. The header line
# gives the server's RSS once it has started and before any request ("idle RSS").
#
# DATABASE=postgres creates a fresh database next to $KEYWARD_TEST_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/test) and drops it afterwards. With NODES=2 both nodes are
# pinned to $SERVER_CPU and each gets its own wrk with half the connections; req/s is the sum.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
INTEROP=${INTEROP:-$ROOT/../shared/interop}
DURATION=${DURATION:-10}
RUNS=${RUNS:-3}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
CLIENTS=${CLIENTS:-1}
PREFILL_JTI=${PREFILL_JTI:-0}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
TOKEN_ALG=${TOKEN_ALG:-ES256}
SCENARIOS=${SCENARIOS:-"basic post hs256 pkjwt-es256 pkjwt-rs256 pkjwt-eddsa jwksuri-es256"}
DATABASE=${DATABASE:-sqlite}
NODES=${NODES:-1}
ADMIN_SECRET=bench-admin-secret-0123456789

command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }
# The benchmark build adds POST /bench/baseline (feature bench-baseline) for the H scenario.
(cd "$ROOT" && cargo build --release -q -p keyward -p keyward-bench --features keyward/bench-baseline)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
KEYWARD=$TARGET/release/keyward
GEN=$TARGET/release/keyward-bench

WORK=$(mktemp -d)
JWKS_PID=
SERVER_PIDS=()
PG_BASE=${KEYWARD_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
PG_DB=kw_bench_$$
cleanup() {
  kill "${SERVER_PIDS[@]}" $JWKS_PID 2>/dev/null || true
  wait "${SERVER_PIDS[@]}" 2>/dev/null || true
  if [ "$DATABASE" = postgres ]; then psql "$PG_BASE" -qc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
case $DATABASE in
  sqlite) DB_URL=sqlite://$WORK/keyward.db ;;
  postgres)
    psql "$PG_BASE" -qc "CREATE DATABASE $PG_DB" >/dev/null
    DB_URL=${PG_BASE%/*}/$PG_DB
    # Every node of a cluster shares these (README: several nodes).
    export KEYWARD_PEPPER KEYWARD_KEY_ENCRYPTION_KEY
    KEYWARD_PEPPER=$(head -c32 /dev/urandom | basenc --base64url | tr -d =)
    KEYWARD_KEY_ENCRYPTION_KEY=$(head -c32 /dev/urandom | basenc --base64url | tr -d =) ;;
  *) echo "DATABASE must be sqlite or postgres" >&2; exit 1 ;;
esac
[ "$DATABASE" = sqlite ] && [ "$NODES" != 1 ] && { echo "SQLite serves one node; use DATABASE=postgres" >&2; exit 1; }
# wrk needs at least one connection per thread.
PER_NODE=$((CONNECTIONS / NODES))
[ "$THREADS" -gt "$PER_NODE" ] && THREADS=$PER_NODE
if [ "$PREFILL_JTI" -gt 0 ]; then
  [ "$DATABASE" = sqlite ] || { echo "PREFILL_JTI needs DATABASE=sqlite" >&2; exit 1; }
  # Live entries of another client, expiring in an hour: the store the token path sees is full.
  "$GEN" replay --prefill "$PREFILL_JTI" --count 0 --db "$WORK/keyward.db" >/dev/null
fi
ISSUER=http://keyward.bench
BASES=()
for n in $(seq "$NODES"); do
  # The JWKS-URL scenario serves the client's keys from this machine, over http on loopback.
  KEYWARD_JWKS_ALLOW_HTTP=true KEYWARD_JWKS_ALLOW_PRIVATE_NETWORKS=true KEYWARD_ISSUER=$ISSUER \
  KEYWARD_LISTEN=127.0.0.1:0 KEYWARD_METRICS_LISTEN=127.0.0.1:0 KEYWARD_DATA_DIR=$WORK KEYWARD_DATABASE_URL=$DB_URL \
    KEYWARD_ADMIN_SECRET=$ADMIN_SECRET KEYWARD_TOKEN_SIGNING_ALG=$TOKEN_ALG KEYWARD_LOG=warn,keyward_server::serve=info \
    taskset -c "$SERVER_CPU" "$KEYWARD" serve >"$WORK/stdout.$n" 2>"$WORK/log.$n" &
  SERVER_PIDS+=($!)
  for _ in $(seq 100); do grep -q "listening on" "$WORK/log.$n" 2>/dev/null && break; sleep 0.1; done
  b=$(grep 'listening on' "$WORK/log.$n" | grep -o 'http://127.0.0.1:[0-9]*' | head -1)
  [ -n "$b" ] || { cat "$WORK/log.$n"; exit 1; }
  BASES+=("$b")
done
BASE=${BASES[0]}
SERVER_PID=${SERVER_PIDS[0]}
sleep 1
IDLE_RSS=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$SERVER_PID/status")

admin_token() {
  curl -sf -u "keyward-admin:$ADMIN_SECRET" -d grant_type=client_credentials "$BASE/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
register() { # JSON metadata -> response JSON (a fresh admin token each time: runs outlast one)
  curl -sf -H "Authorization: Bearer $(admin_token)" -H 'Content-Type: application/json' -d "$1" "$BASE/admin/clients"
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
jwk() { cat "$INTEROP/sample-$1-public.jwk"; }
kid() { python3 -c "import json; print(json.load(open('$INTEROP/sample-$1-public.jwk'))['kid'])"; }

cpu_ticks() { # all nodes together
  local t=0; for p in "${SERVER_PIDS[@]}"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t
}
TICKS=$(getconf CLK_TCK)

# Signs the scenario's assertions ($REGEN), if it has any. They live 55 s from signing, so a
# signing time plus run that comes near that means expired assertions, which the server rightly
# refuses (non-2xx): say so instead of leaving a reader to guess.
regen() {
  [ -n "${REGEN:-}" ] || return 0
  local t0=$SECONDS
  $REGEN
  local took=$((SECONDS - t0))
  if [ $((took + DURATION + 2)) -ge 55 ]; then
    echo "warning: signing the assertions took ${took}s; with a ${DURATION}s run some expire before use (lower ASSERTIONS_PER_SECOND / RSA_ASSERTIONS_PER_SECOND)" >&2
  fi
}

# run_wrk NAME BODIES_FILE AUTH_HEADER [PATH]
run_wrk() {
  local name=$1 bodies=$2 auth=$3 path=${4:-/token} results=()
  regen
  BODIES=$bodies AUTH=$auth WRK_THREADS=$THREADS PARTS=1 PART=0 taskset -c "$LOAD_CPU" \
    wrk -t"$THREADS" -c"$PER_NODE" -d1s -s "$ROOT/bench/wrk/bodies.lua" "$BASE$path" >/dev/null 2>&1
  for r in $(seq "$RUNS"); do
    regen
    local before; before=$(cpu_ticks)
    local part=0 wrk_pids=()
    for b in "${BASES[@]}"; do
      BODIES=$bodies AUTH=$auth WRK_THREADS=$THREADS PARTS=$NODES PART=$part taskset -c "$LOAD_CPU" \
        wrk -t"$THREADS" -c"$PER_NODE" -d"${DURATION}s" --latency -s "$ROOT/bench/wrk/bodies.lua" "$b$path" >"$WORK/wrk.$r.$part" 2>&1 &
      wrk_pids+=($!)
      part=$((part + 1))
    done
    if [ -n "${PERF:-}" ] && [ "$r" = 1 ]; then
      mkdir -p "$PERF"
      perf record -q -F 1999 -g -p "$SERVER_PID" -o "$PERF/$name.data" -- sleep "$((DURATION - 1))" >/dev/null 2>&1 || true
    fi
    wait "${wrk_pids[@]}"
    local after; after=$(cpu_ticks)
    local rps p50 p99 non2xx reqs
    # Sums over the wrk processes; latency percentiles are the first node's.
    rps=$(cat "$WORK"/wrk.$r.* | awk '/Requests\/sec/ {s += $2} END {printf "%.2f", s}')
    p50=$(awk '/ 50%/ {print $2}' "$WORK/wrk.$r.0")
    p99=$(awk '/ 99%/ {print $2}' "$WORK/wrk.$r.0")
    non2xx=$(cat "$WORK"/wrk.$r.* | awk '/Non-2xx/ {s += $5} END {print s + 0}')
    reqs=$(cat "$WORK"/wrk.$r.* | awk '/requests in/ {s += $1} END {print s + 0}')
    results+=("$rps $p50 $p99 $non2xx $(python3 -c "print(round(($after-$before)/$TICKS/max($reqs,1)*1e6, 1))")")
  done
  local median; median=$(printf '%s\n' "${results[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
  local rss; rss=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")  # first node
  local m_rps m_p50 m_p99 m_non m_cpu
  read -r m_rps m_p50 m_p99 m_non m_cpu <<<"$median"
  printf '%-18s %10s %9s %9s %8s %10s %9s   runs: %s\n' "$name" "$m_rps" "$m_p50" "$m_p99" "$m_non" "$m_cpu" \
    "$((rss / 1024))MiB" "$(printf '%s\n' "${results[@]}" | awk '{printf "%s ", $1}')"
}

# clone_client ID N: adds ID-1 .. ID-(N-1), copies of ID with their own credential ids, through
# `keyward admin export` / `admin import` (the documented way to move clients in bulk).
clone_client() {
  local env=(KEYWARD_DATA_DIR="$WORK" KEYWARD_DATABASE_URL="$DB_URL")
  env "${env[@]}" "$KEYWARD" admin export --out "$WORK/export.json" >/dev/null 2>&1
  python3 - "$WORK/export.json" "$1" "$2" >"$WORK/clones.json" <<'PY'
import json, sys, uuid
doc, base, n = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3])
tpl = next(c for c in doc["clients"] if c["client"]["client_id"] == base)
out = []
for k in range(1, n):
    c = json.loads(json.dumps(tpl))
    c["client"]["client_id"] = f"{base}-{k}"
    for cred in c["credentials"]:
        cred["id"] = str(uuid.uuid4())
    out.append(c)
doc["clients"], doc["signing_keys"], doc["users"] = out, [], []
json.dump(doc, sys.stdout)
PY
  env "${env[@]}" "$KEYWARD" admin import "$WORK/clones.json" >/dev/null
}

static_body() { echo "$1" >"$WORK/$2.body"; echo "$WORK/$2.body"; }
# Enough different assertions for a run at the rates this machine reaches (a shortfall shows up
# as non-2xx: the wrapped-around repeats are replays).
COUNT=$((DURATION * ${ASSERTIONS_PER_SECOND:-45000}))
# RSA signing is slow on the client side: this many must be signed and sent within their 55 s
# lifetime (about 9,000 signatures/s on 2 cores here).
RSA_COUNT=$((DURATION * ${RSA_ASSERTIONS_PER_SECOND:-25000}))

echo "keyward $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $DATABASE x $NODES node(s), token alg $TOKEN_ALG, server CPU $SERVER_CPU, wrk CPU $LOAD_CPU, $CONNECTIONS connections, $THREADS wrk threads, ${DURATION}s x $RUNS runs (median), clients per pkjwt scenario $CLIENTS, prefilled jtis $PREFILL_JTI, idle RSS ${IDLE_RSS}MiB"
printf '%-18s %10s %9s %9s %8s %10s %9s\n' scenario req/s p50 p99 non-2xx cpu-us/req peak-rss
for s in $SCENARIOS; do
  REGEN=
  case $s in
    baseline) # H: the same stack with no authentication, storage or crypto
      run_wrk baseline "$(static_body grant_type=client_credentials baseline)" "" /bench/baseline ;;
    baseline-spin-*) # H with the handler burning N us of CPU (baseline-spin-17 etc.): see BENCHMARKS.md
      run_wrk "$s" "$(static_body "grant_type=client_credentials&spin_us=${s#baseline-spin-}" "$s")" "" /bench/baseline ;;
    basic)
      SECRET=$(register '{"client_id":"b-basic","scope":"read"}' | field client_secret)
      run_wrk basic "$(static_body grant_type=client_credentials basic)" "Basic $(printf 'b-basic:%s' "$SECRET" | base64 -w0)" ;;
    post)
      SECRET=$(register '{"client_id":"b-post","scope":"read","token_endpoint_auth_method":"client_secret_post"}' | field client_secret)
      run_wrk post "$(static_body "grant_type=client_credentials&client_id=b-post&client_secret=$SECRET" post)" "" ;;
    hs256)
      SECRET=$(register '{"client_id":"b-hs","scope":"read","token_endpoint_auth_method":"client_secret_jwt"}' | field client_secret)
      REGEN="$GEN assertions --client-id b-hs --aud $ISSUER --alg HS256 --secret=$SECRET --count $COUNT --out $WORK/hs.bodies"
      run_wrk client_secret_jwt "$WORK/hs.bodies" "" ;;
    pkjwt-*)
      case $s in
        pkjwt-es256) key=ec256; alg=ES256 ;;
        pkjwt-rs256) key=rsa2048; alg=RS256 ;;
        pkjwt-eddsa) key=ed25519; alg=EdDSA ;;
      esac
      register "{\"client_id\":\"b-$key\",\"scope\":\"read\",\"token_endpoint_auth_method\":\"private_key_jwt\",\"jwks\":{\"keys\":[$(jwk $key)]}}" >/dev/null
      [ "$CLIENTS" -gt 1 ] && clone_client "b-$key" "$CLIENTS"
      REGEN="$GEN assertions --clients $CLIENTS --client-id b-$key --aud $ISSUER --alg $alg --key $INTEROP/sample-$key-private.pem --kid $(kid $key) --count $([ $key = rsa2048 ] && echo $RSA_COUNT || echo $COUNT) --out $WORK/$key.bodies"
      run_wrk "$s" "$WORK/$key.bodies" "" ;;
    jwksuri-es256)
      mkdir -p "$WORK/jwks" && cp "$INTEROP/sample-jwks.json" "$WORK/jwks/jwks.json"
      JWKS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      taskset -c "$LOAD_CPU" python3 -m http.server --bind 127.0.0.1 --directory "$WORK/jwks" "$JWKS_PORT" >/dev/null 2>&1 &
      JWKS_PID=$!
      sleep 0.5
      register "{\"client_id\":\"b-jwks\",\"scope\":\"read\",\"token_endpoint_auth_method\":\"private_key_jwt\",\"jwks_uri\":\"http://127.0.0.1:$JWKS_PORT/jwks.json\"}" >/dev/null
      REGEN="$GEN assertions --client-id b-jwks --aud $ISSUER --alg ES256 --key $INTEROP/sample-ec256-private.pem --kid $(kid ec256) --count $COUNT --out $WORK/jwks.bodies"
      run_wrk "$s" "$WORK/jwks.bodies" "" ;;
    *) echo "unknown scenario $s" >&2; exit 1 ;;
  esac
done
