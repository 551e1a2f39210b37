#!/usr/bin/env bash
# Usage: create_task.sh [TASK_NAME] [VERSION] [CRON]
# Deploys a minimal python task; with CRON (e.g. "0 * * * *") it also gets an active trigger "schedule".
# Env: ORG (testorg), PROJECT (flytesnacks), DOMAIN (development), ENDPOINT.
set -euo pipefail
source "$(dirname "$0")/_buf.sh"
ORG="${ORG:-testorg}"; PROJECT="${PROJECT:-flytesnacks}"; DOMAIN="${DOMAIN:-development}"
TASK_NAME="${1:-my_env.my_task}"; VERSION="${2:-1}"; CRON="${3:-}"
TRIGGERS="[]"
if [ -n "$CRON" ]; then
  TRIGGERS="[{\"name\":\"schedule\",\"spec\":{\"active\":true},\"automation_spec\":{\"type\":\"TYPE_SCHEDULE\",\"schedule\":{\"cron\":{\"expression\":\"$CRON\"}}}}]"
fi
bufcurl flyteidl2.task.TaskService/DeployTask \
  "{\"task_id\":{\"org\":\"$ORG\",\"project\":\"$PROJECT\",\"domain\":\"$DOMAIN\",\"name\":\"$TASK_NAME\",\"version\":\"$VERSION\"},\"spec\":{\"task_template\":{\"type\":\"python\"},\"environment\":{\"name\":\"${TASK_NAME%%.*}\"}},\"triggers\":$TRIGGERS}"
