#!/usr/bin/env bash
# Issue 8 "scale with work": the token endpoint at 1, 8, 32, 128 and 512 connections, and with
# 10, 10,000 and 100,000 registered clients (assertions spread over all of them). Each line is
# one bench/run.sh invocation with a fresh server and database; see BENCHMARKS.md.
#
#   bench/scale.sh                                  # both tables
#   SWEEP=connections SCENARIOS="basic" bench/scale.sh
#   SWEEP=clients DURATION=5 RUNS=1 bench/scale.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SWEEP=${SWEEP:-"connections clients"}
export DURATION=${DURATION:-10} RUNS=${RUNS:-3}

row() { # label, then run.sh's output: print its scenario lines with the label in front
  grep -E '^(basic|post|client_secret_jwt|pkjwt|jwksuri|baseline)' | sed "s/^/$1  /"
}

for sweep in $SWEEP; do
  case $sweep in
    connections)
      echo "## connections (scenarios: ${SCENARIOS:-basic pkjwt-es256})"
      for c in ${CONNECTION_COUNTS:-1 8 32 128 512}; do
        CONNECTIONS=$c SCENARIOS=${SCENARIOS:-"basic pkjwt-es256"} "$ROOT/bench/run.sh" | row "c=$c"
      done ;;
    clients)
      echo "## registered clients (pkjwt-es256, 32 connections)"
      for n in ${CLIENT_COUNTS:-10 10000 100000}; do
        CLIENTS=$n SCENARIOS=pkjwt-es256 "$ROOT/bench/run.sh" | row "clients=$n"
      done ;;
    *) echo "unknown sweep $sweep" >&2; exit 1 ;;
  esac
done
