#!/usr/bin/env bash
# Starts the built service on a fresh database, runs the integration client
# (test/client/integration.ts) against it, and stops the service.
# Usage: scripts/integration.sh sqlite|postgres
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-sqlite}"
work="$(mktemp -d)"
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
if [ "$kind" = postgres ]; then
  db=$'  postgres:\n    host: "127.0.0.1"\n    port: 5432\n    dbname: "flyte_runs_integration"\n    username: "postgres"\n    password: ""'
else
  db=$'  sqlite:\n    file: "'"$work"'/runs.db"'
fi
cat > "$work/config.yaml" <<YAML
runs:
  server:
    host: "127.0.0.1"
    port: $port
  storagePrefix: "file://$work/data"
  triggerScheduler:
    enabled: false
database:
$db
logger:
  level: 4
YAML
node dist/main.js --config "$work/config.yaml" > "$work/service.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 $pid 2>/dev/null || { cat "$work/service.log"; exit 1; }
  sleep 0.1
done
echo "service on $kind at http://127.0.0.1:$port (log: $work/service.log)"
status=0
node_modules/.bin/tsx test/client/integration.ts "http://127.0.0.1:$port" || status=$?
kill -TERM $pid
wait $pid || true
trap - EXIT
exit $status
