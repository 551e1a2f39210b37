#!/usr/bin/env bash
# Chooses the Node.js the project runs on and prints two lines for the Makefile:
#   BIN=<directory to put first on PATH, empty to keep PATH as it is>
#   WHY=<one sentence saying which Node and why>
# The machine's own node is used when it is 22 or newer. Otherwise (or when
# RUNS_NODE_MAJOR asks for a major the machine does not have) a pinned Node is
# unpacked from the npm registry's per-platform package (node-<os>-<arch>, the
# binary and its headers) into .node/ and used by every target.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

# The pinned releases, one per supported major. 24 is the default.
declare -A PINNED=([24]=24.22.3 [22]=22.23.5)
want="${RUNS_NODE_MAJOR:-}"

system_version="$(node --version 2>/dev/null || true)"
system_major="${system_version#v}"
system_major="${system_major%%.*}"

if [[ -n "$system_version" ]]; then
  if [[ -z "$want" && "$system_major" -ge 22 ]]; then
    echo "BIN="
    echo "WHY=node: using the machine's $system_version (22 or newer)"
    exit 0
  fi
  if [[ -n "$want" && "$system_major" == "$want" ]]; then
    echo "BIN="
    echo "WHY=node: using the machine's $system_version (RUNS_NODE_MAJOR=$want)"
    exit 0
  fi
fi

major="${want:-24}"
version="${PINNED[$major]:-}"
if [[ -z "$version" ]]; then
  echo "node-env: no pinned Node.js for major '$major' (pinned: ${!PINNED[*]})" >&2
  exit 1
fi

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) echo "node-env: no Node.js package for $(uname -s); install Node.js 22 or newer" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node-env: no Node.js package for $(uname -m); install Node.js 22 or newer" >&2; exit 1 ;;
esac

dir="$root/.node/node-$os-$arch-$version"
if [[ ! -x "$dir/bin/node" ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "node-env: npm is needed to fetch Node.js $version (install any Node.js with npm)" >&2
    exit 1
  fi
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "node-env: fetching node-$os-$arch@$version from the npm registry" >&2
  (cd "$tmp" && npm pack --silent "node-$os-$arch@$version" >/dev/null)
  mkdir -p "$tmp/unpacked"
  tar -xzf "$tmp"/node-"$os"-"$arch"-"$version".tgz -C "$tmp/unpacked"
  chmod +x "$tmp/unpacked/package/bin/node"
  mkdir -p "$root/.node"
  rm -rf "$dir"
  mv "$tmp/unpacked/package" "$dir"
fi

echo "BIN=$dir/bin"
if [[ -n "$want" ]]; then
  echo "WHY=node: using pinned v$version from .node/ (RUNS_NODE_MAJOR=$want)"
elif [[ -n "$system_version" ]]; then
  echo "WHY=node: using pinned v$version from .node/ (the machine's $system_version is older than 22)"
else
  echo "WHY=node: using pinned v$version from .node/ (no node on PATH)"
fi
