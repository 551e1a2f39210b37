#!/usr/bin/env bash
# Usage: list_projects.sh [LIMIT] [TOKEN] [FILTERS]   e.g. list_projects.sh 10 "" "eq(state,1)"
set -euo pipefail
source "$(dirname "$0")/_buf.sh"
bufcurl flyteidl2.project.ProjectService/ListProjects \
  "{\"limit\":${1:-10},\"token\":\"${2:-}\",\"filters\":\"${3:-}\",\"org\":\"\"}"
