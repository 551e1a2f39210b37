#!/usr/bin/env bash
# Usage: get_run_details.sh RUN_NAME   (or RUN_NAME in the environment). Env: ORG, PROJECT, DOMAIN, ENDPOINT.
set -euo pipefail
source "$(dirname "$0")/_buf.sh"
ORG="${ORG:-testorg}"; PROJECT="${PROJECT:-flytesnacks}"; DOMAIN="${DOMAIN:-development}"
RUN_NAME="${1:-${RUN_NAME:?usage: get_run_details.sh RUN_NAME}}"
bufcurl flyteidl2.workflow.RunService/GetRunDetails \
  "{\"runId\":{\"org\":\"$ORG\",\"project\":\"$PROJECT\",\"domain\":\"$DOMAIN\",\"name\":\"$RUN_NAME\"}}"
