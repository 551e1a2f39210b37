#!/usr/bin/env bash
# Usage: watch_action_details.sh RUN_NAME [ACTION]   (or RUN_NAME / ACTION in the environment; ACTION defaults to a0).
# Env: ORG, PROJECT, DOMAIN, ENDPOINT. Streams the action's details until it has finished or you interrupt.
set -euo pipefail
source "$(dirname "$0")/_buf.sh"
ORG="${ORG:-testorg}"; PROJECT="${PROJECT:-flytesnacks}"; DOMAIN="${DOMAIN:-development}"
RUN_NAME="${1:-${RUN_NAME:?usage: watch_action_details.sh RUN_NAME [ACTION]}}"
ACTION="${2:-${ACTION:-a0}}"
bufcurl flyteidl2.workflow.RunService/WatchActionDetails \
  "{\"actionId\":{\"run\":{\"org\":\"$ORG\",\"project\":\"$PROJECT\",\"domain\":\"$DOMAIN\",\"name\":\"$RUN_NAME\"},\"name\":\"$ACTION\"}}"
