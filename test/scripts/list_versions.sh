#!/usr/bin/env bash
# Usage: list_versions.sh [TASK_NAME] [LIMIT] [TOKEN]   (newest first)
# Env: ORG (testorg), PROJECT (flytesnacks), DOMAIN (development), ENDPOINT.
set -euo pipefail
source "$(dirname "$0")/_buf.sh"
ORG="${ORG:-testorg}"; PROJECT="${PROJECT:-flytesnacks}"; DOMAIN="${DOMAIN:-development}"
bufcurl flyteidl2.task.TaskService/ListVersions \
  "{\"task_name\":{\"org\":\"$ORG\",\"project\":\"$PROJECT\",\"domain\":\"$DOMAIN\",\"name\":\"${1:-my_env.my_task}\"},\"request\":{\"limit\":${2:-10},\"token\":\"${3:-}\"}}"
