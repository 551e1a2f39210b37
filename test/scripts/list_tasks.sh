#!/usr/bin/env bash
# Usage: list_tasks.sh [NAME_CONTAINS] [LIMIT] [TOKEN]
# Latest version of each task in the project whose name contains NAME_CONTAINS (case-insensitive), by name ascending.
# Env: ORG (testorg), PROJECT (flytesnacks), DOMAIN (development), ENDPOINT.
set -euo pipefail
source "$(dirname "$0")/_buf.sh"
ORG="${ORG:-testorg}"; PROJECT="${PROJECT:-flytesnacks}"; DOMAIN="${DOMAIN:-development}"
bufcurl flyteidl2.task.TaskService/ListTasks \
  "{\"request\":{\"limit\":${2:-10},\"token\":\"${3:-}\",\"filters\":[{\"field\":\"name\",\"function\":\"CONTAINS_CASE_INSENSITIVE\",\"values\":[\"${1:-my_task}\"]}],\"sort_by_fields\":[{\"key\":\"name\",\"direction\":\"ASCENDING\"}]},\"project_id\":{\"organization\":\"$ORG\",\"domain\":\"$DOMAIN\",\"name\":\"$PROJECT\"}}"
