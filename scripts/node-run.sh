#!/usr/bin/env bash
# Runs node with the project's Node.js (see scripts/node-env.sh), so that
# `npm start` and `npm test` use Node 24 (or the machine's own, when it is 22
# or newer) even when npm itself was started by an older node.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
info="$(bash "$root/scripts/node-env.sh")"
bin="$(sed -n 's/^BIN=//p' <<<"$info")"
if [[ -n "$bin" ]]; then
  export PATH="$bin:$PATH"
  export npm_config_nodedir="$(dirname "$bin")"
fi
exec node "$@"
