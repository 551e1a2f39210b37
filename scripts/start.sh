#!/usr/bin/env bash
# Starts the built service (dist/main.js) with the project's Node.js and the
# runtime settings of scripts/service-runtime.env; arguments go to the service
# (e.g. --config config.yaml). Replaces itself with node, so signals sent to
# this process reach the service.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=service-runtime.env
source "$root/scripts/service-runtime.env"
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-$RUNS_DEFAULT_MALLOC_ARENA_MAX}"
# Word splitting of the flags is intended.
# shellcheck disable=SC2086
exec bash "$root/scripts/node-run.sh" ${RUNS_NODE_FLAGS-$RUNS_DEFAULT_NODE_FLAGS} "$root/dist/main.js" "$@"
