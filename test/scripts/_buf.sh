# Shared by the scripts in this folder: `bufcurl <Service/Method> <json>` against $ENDPOINT.
# The server answers gRPC reflection, so no schema or proto checkout is needed.
ENDPOINT="${ENDPOINT:-http://localhost:8090}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if command -v buf >/dev/null 2>&1; then BUF=buf; else BUF="$ROOT/node_modules/.bin/buf"; fi
bufcurl() {
  "$BUF" curl --http2-prior-knowledge -d "$2" "$ENDPOINT/$1"
}
