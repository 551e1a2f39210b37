#!/usr/bin/env bash
# Usage: update_project_status.sh [ID] [STATE]   (default: archive my-project)
set -euo pipefail
source "$(dirname "$0")/_buf.sh"
ID="${1:-my-project}"; STATE="${2:-PROJECT_STATE_ARCHIVED}"
bufcurl flyteidl2.project.ProjectService/UpdateProject \
  "{\"project\":{\"id\":\"$ID\",\"name\":\"$ID\",\"state\":\"$STATE\"}}"
