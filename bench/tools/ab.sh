#!/usr/bin/env bash
# Development aid: A/B of two builds of the port, alternating A B B A …, one
# server start per run; prints each run's phase lines. Extra BENCH_* env vars
# pass through (e.g. BENCH_PHASES=proto-c16 BENCH_ONLY=pg BENCH_SERVERS=port-pg).
# Usage: bench/tools/ab.sh bench/.build/ab/A/main.js bench/.build/ab/B/main.js [rounds]
# (copy each build's whole dist/ folder to bench/.build/ab/<name>/ first)
set -euo pipefail
A=$1; B=$2; ROUNDS=${3:-3}
cd "$(dirname "$0")/../.."
# A bundle finds migrations at ../migrations and packages in node_modules
# above it: keep copies under bench/.build/ab/<name>/ and link the migrations.
mkdir -p bench/.build/ab && ln -sfn ../../../migrations bench/.build/ab/migrations
run() {
  BENCH_PORT_ENTRY=$1 BENCH_SERVERS=${BENCH_SERVERS:-port-sqlite} BENCH_ONLY=${BENCH_ONLY:-sqlite} BENCH_PAIRS=1 \
    BENCH_RESULTS_DIR=${BENCH_RESULTS_DIR:-/tmp/bench-ab} node bench/.build/driver.js | grep -E "^  pair .*(req/s)" | sed "s|^  pair 1|$2|"
}
for ((i = 0; i < ROUNDS; i++)); do
  if ((i % 2 == 0)); then run "$A" A; run "$B" B; else run "$B" B; run "$A" A; fi
done
