/**
 * The CreateRun request every load phase sends: project flytesnacks, domain
 * development, a unique run name per call, and a small inline task spec (a
 * python template with one int input) plus that input's value.
 */
import { create } from "@bufbuild/protobuf";
import { SimpleType } from "#gen/flyteidl2/core/types_pb.js";
import { TaskSpecSchema, type TaskSpec } from "#gen/flyteidl2/task/task_definition_pb.js";
import { InputsSchema, type Inputs } from "#gen/flyteidl2/task/common_pb.js";
import { CreateRunRequestSchema, type CreateRunRequest } from "#gen/flyteidl2/workflow/run_service_pb.js";

export const ORG = "bench";
export const PROJECT = "flytesnacks";
export const DOMAIN = "development";
export const TASK_NAME = "bench.add_one";
export const TASK_VERSION = "v1";

/** Built once: the request differs only in its run name. */
export const TASK_SPEC: TaskSpec = create(TaskSpecSchema, {
  taskTemplate: {
    id: { org: ORG, project: PROJECT, domain: DOMAIN, name: TASK_NAME, version: TASK_VERSION },
    type: "python",
    metadata: { runtime: { version: "2.0.0", flavor: "python" }, retries: { retries: 0 } },
    interface: {
      inputs: { variables: [{ key: "x", value: { type: { type: { case: "simple", value: SimpleType.INTEGER } } } }] },
      outputs: { variables: [{ key: "o0", value: { type: { type: { case: "simple", value: SimpleType.INTEGER } } } }] },
    },
    target: {
      case: "container",
      value: {
        image: "ghcr.io/flyteorg/flyte:py3.12",
        args: ["a0", "--inputs", "{{.input}}", "--outputs-path", "{{.outputPrefix}}"],
      },
    },
  },
  shortName: "add_one",
});

export const INPUTS: Inputs = create(InputsSchema, {
  literals: [{ name: "x", value: { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "integer", value: 41n } } } } } } }],
});

/** Run names unique per process and call: "b" + a per-process tag + a counter (≤ 30 characters). */
export function runNamer(tag: string): () => string {
  let n = 0;
  const prefix = `b${tag}`;
  return () => `${prefix}${(n++).toString(36)}`;
}

export function createRunRequest(runName: string): CreateRunRequest {
  return create(CreateRunRequestSchema, {
    id: { case: "runId", value: { org: ORG, project: PROJECT, domain: DOMAIN, name: runName } },
    task: { case: "taskSpec", value: TASK_SPEC },
    inputWrapper: { case: "inputs", value: INPUTS },
  });
}
