#!/usr/bin/env bash
# Usage: create_run.sh [RUN_NAME]
# Creates a run with an inline python task spec and a float-collection input.
# Without RUN_NAME the name is generated (project id form). Env: ORG, PROJECT, DOMAIN, ENDPOINT.
set -euo pipefail
source "$(dirname "$0")/_buf.sh"
ORG="${ORG:-testorg}"; PROJECT="${PROJECT:-flytesnacks}"; DOMAIN="${DOMAIN:-development}"
if [ -n "${1:-}" ]; then
  ID="\"runId\":{\"org\":\"$ORG\",\"project\":\"$PROJECT\",\"domain\":\"$DOMAIN\",\"name\":\"$1\"}"
else
  ID="\"projectId\":{\"organization\":\"$ORG\",\"name\":\"$PROJECT\",\"domain\":\"$DOMAIN\"}"
fi
bufcurl flyteidl2.workflow.RunService/CreateRun "{$ID,
  \"taskSpec\":{\"taskTemplate\":{
    \"id\":{\"resourceType\":\"TASK\",\"org\":\"$ORG\",\"project\":\"$PROJECT\",\"domain\":\"$DOMAIN\",\"name\":\"hello_world.say_hello\",\"version\":\"v1\"},
    \"type\":\"python\",
    \"metadata\":{\"runtime\":{\"type\":\"FLYTE_SDK\",\"version\":\"2.0.0\",\"flavor\":\"python\"},\"retries\":{\"retries\":0}},
    \"interface\":{\"inputs\":{\"variables\":[{\"key\":\"x_list\",\"value\":{\"type\":{\"collectionType\":{\"simple\":\"FLOAT\"}}}}]},
                 \"outputs\":{\"variables\":[{\"key\":\"o0\",\"value\":{\"type\":{\"simple\":\"STRING\"}}}]}},
    \"container\":{\"image\":\"ghcr.io/flyteorg/flyte:py3.10\",\"args\":[\"a0\",\"--inputs\",\"{{.input}}\",\"--outputs-path\",\"{{.outputPrefix}}\"]}},
    \"shortName\":\"say_hello\"},
  \"inputs\":{\"literals\":[{\"name\":\"x_list\",\"value\":{\"collection\":{\"literals\":[
     {\"scalar\":{\"primitive\":{\"floatValue\":1.5}}},{\"scalar\":{\"primitive\":{\"floatValue\":2.5}}}]}}}]}
}"
