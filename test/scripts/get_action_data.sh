#!/usr/bin/env bash
# Usage: get_action_data.sh RUN_NAME [ACTION_NAME]   (action defaults to a0). Env: ORG, PROJECT, DOMAIN, ENDPOINT.
set -euo pipefail
source "$(dirname "$0")/_buf.sh"
ORG="${ORG:-testorg}"; PROJECT="${PROJECT:-flytesnacks}"; DOMAIN="${DOMAIN:-development}"
RUN_NAME="${1:-${RUN_NAME:?usage: get_action_data.sh RUN_NAME [ACTION]}}"; ACTION="${2:-a0}"
bufcurl flyteidl2.workflow.RunService/GetActionData \
  "{\"actionId\":{\"run\":{\"org\":\"$ORG\",\"project\":\"$PROJECT\",\"domain\":\"$DOMAIN\",\"name\":\"$RUN_NAME\"},\"name\":\"$ACTION\"}}"
