#!/usr/bin/env bash
# Usage: create_project.sh [ID] [NAME] [STATE]   (STATE: PROJECT_STATE_ACTIVE | PROJECT_STATE_ARCHIVED …)
set -euo pipefail
source "$(dirname "$0")/_buf.sh"
ID="${1:-my-project}"; NAME="${2:-My Project}"; STATE="${3:-PROJECT_STATE_ACTIVE}"
bufcurl flyteidl2.project.ProjectService/CreateProject \
  "{\"project\":{\"id\":\"$ID\",\"name\":\"$NAME\",\"description\":\"created by create_project.sh\",\"labels\":{\"values\":{\"team\":\"runs\"}},\"state\":\"$STATE\",\"org\":\"\"}}"
