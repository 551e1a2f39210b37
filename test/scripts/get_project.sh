#!/usr/bin/env bash
# Usage: get_project.sh [ID]
set -euo pipefail
source "$(dirname "$0")/_buf.sh"
bufcurl flyteidl2.project.ProjectService/GetProject "{\"id\":\"${1:-flytesnacks}\",\"org\":\"\"}"
