#!/usr/bin/env bash
# Usage: get_task_details.sh [TASK_NAME] [VERSION]
# Env: ORG (testorg), PROJECT (flytesnacks), DOMAIN (development), ENDPOINT.
set -euo pipefail
source "$(dirname "$0")/_buf.sh"
ORG="${ORG:-testorg}"; PROJECT="${PROJECT:-flytesnacks}"; DOMAIN="${DOMAIN:-development}"
bufcurl flyteidl2.task.TaskService/GetTaskDetails \
  "{\"task_id\":{\"org\":\"$ORG\",\"project\":\"$PROJECT\",\"domain\":\"$DOMAIN\",\"name\":\"${1:-my_env.my_task}\",\"version\":\"${2:-1}\"}}"
