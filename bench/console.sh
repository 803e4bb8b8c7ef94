#!/usr/bin/env bash
# Console page latency with many clients. Builds the release binary, starts keyward on a fresh
# SQLite database (the default backend; server pinned to CPU $SERVER_CPU), registers $CLIENTS
# clients through the admin API, signs in to the console, and requests each main page
# $ROUNDS times over one keep-alive connection (client pinned to CPU $LOAD_CPU), printing a
# markdown table of p50 / p95 / max in milliseconds (time to the last byte of the page).
#
#   bench/console.sh                    # 10,000 clients, 200 rounds
#   CLIENTS=1000 ROUNDS=50 bench/console.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLIENTS=${CLIENTS:-10000}
ROUNDS=${ROUNDS:-200}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT=${PORT:-18480}

cargo build --release -p keyward --manifest-path "$ROOT/Cargo.toml" >&2
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/keyward
DIR=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DIR"' EXIT
cd "$DIR"
KEYWARD_LISTEN=127.0.0.1:$PORT KEYWARD_ADMIN_SECRET=bench-admin-secret-0123456789 \
KEYWARD_ADMIN_PASSWORD=bench-console-password KEYWARD_METRICS_LISTEN=none KEYWARD_LOG_FORMAT=json \
  taskset -c "$SERVER_CPU" "$BIN" serve >server.log 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

taskset -c "$LOAD_CPU" python3 - "$PORT" "$CLIENTS" "$ROUNDS" <<'PY'
import base64, http.client, json, re, statistics, sys, time, urllib.parse
port, clients, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

def conn():
    return http.client.HTTPConnection("127.0.0.1", port)

c = conn()
basic = base64.b64encode(b"keyward-admin:bench-admin-secret-0123456789").decode()
c.request("POST", "/token", "grant_type=client_credentials&scope=keyward%3Aadmin",
          {"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"})
token = json.loads(c.getresponse().read())["access_token"]
t0 = time.time()
for n in range(clients):
    body = json.dumps({"client_id": f"svc-{n:05d}", "client_name": f"Service {n}", "scope": "read"})
    c.request("POST", "/admin/clients", body, {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    if r.status != 201:
        sys.exit(f"create failed: {r.status}")
    if n % 2000 == 1999:  # admin tokens live 5 minutes; take a fresh one now and then
        c.request("POST", "/token", "grant_type=client_credentials&scope=keyward%3Aadmin",
                  {"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"})
        token = json.loads(c.getresponse().read())["access_token"]
print(f"registered {clients} clients in {time.time() - t0:.1f} s", file=sys.stderr)

cookies = {}
def send(method, path, body=None, headers=None):
    h = dict(headers or {})
    if cookies:
        h["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    c.request(method, path, body, h)
    r = c.getresponse(); data = r.read()
    for k, v in r.getheaders():
        if k.lower() == "set-cookie":
            name, value = v.split(";")[0].split("=", 1)
            cookies[name] = value
    return r.status, data.decode()

status, page = send("GET", "/console/login")
csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
form = urllib.parse.urlencode({"csrf": csrf, "username": "admin", "password": "bench-console-password"})
status, _ = send("POST", "/console/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
assert status == 303, status

mid = f"svc-{clients // 2:05d}"
pages = [
    ("clients, first page", "/console/clients"),
    ("clients, a middle page", f"/console/clients?after={mid}"),
    ("clients, search by name", "/console/clients?search=Service%20999"),
    ("client settings", f"/console/clients/{mid}"),
    ("client credentials", f"/console/clients/{mid}/credentials"),
    ("users", "/console/users"),
    ("audit log", "/console/audit"),
    ("audit log, one client", f"/console/audit?client_id={mid}"),
    ("signing keys", "/console/signing-keys"),
]
print(f"| page ({clients} clients) | p50 ms | p95 ms | max ms |")
print("|---|---:|---:|---:|")
for label, path in pages:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        status, _ = send("GET", path)
        times.append((time.perf_counter() - t) * 1000)
        assert status == 200, (path, status)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"| {label} | {statistics.median(times):.2f} | {p95:.2f} | {times[-1]:.2f} |")
PY
