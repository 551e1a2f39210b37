#!/usr/bin/env bash
# Usage: watch_actions.sh RUN_NAME   (or RUN_NAME in the environment). Env: ORG, PROJECT, DOMAIN, ENDPOINT.
# Streams the run's actions (snapshot, then changes) until interrupted.
set -euo pipefail
source "$(dirname "$0")/_buf.sh"
ORG="${ORG:-testorg}"; PROJECT="${PROJECT:-flytesnacks}"; DOMAIN="${DOMAIN:-development}"
RUN_NAME="${1:-${RUN_NAME:?usage: watch_actions.sh RUN_NAME}}"
bufcurl flyteidl2.workflow.RunService/WatchActions \
  "{\"runId\":{\"org\":\"$ORG\",\"project\":\"$PROJECT\",\"domain\":\"$DOMAIN\",\"name\":\"$RUN_NAME\"}}"
