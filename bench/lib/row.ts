/**
 * What the baselines store: the `actions` row of a run's root action with the
 * same columns and blob contents CreateRun writes for the bench request, and
 * a CreateRunResponse of the same shape.
 */
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { RunSpecSchema } from "#gen/flyteidl2/task/run_pb.js";
import { ActionSpecSchema, ActionType } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { RunInfoSchema } from "#gen/flyteidl2/workflow/run_info_pb.js";
import { CreateRunResponseSchema, type CreateRunRequest, type CreateRunResponse } from "#gen/flyteidl2/workflow/run_service_pb.js";

export type Bytes = Uint8Array;

/** The row CreateRun inserts for the bench request (timestamps as the repository's canonical text). */
export function actionRow(req: CreateRunRequest, storagePrefix: string, asBytes: (b: Uint8Array) => Bytes) {
  if (req.id.case !== "runId" || req.task.case !== "taskSpec") throw new Error("bench request expected");
  const { org, project, domain, name } = req.id.value;
  const spec = req.task.value;
  const tmpl = spec.taskTemplate;
  const base = `${storagePrefix}/${project}/${domain}/${name}/`;
  const inputUri = `${base}inputs/inputs.pb`;
  const runSpec = create(RunSpecSchema, { rawDataStorage: { rawDataPrefix: storagePrefix } });
  const actionSpec = create(ActionSpecSchema, {
    actionId: { run: { org, project, domain, name }, name: "a0" },
    runSpec,
    inputUri,
    runOutputBase: base,
    spec: {
      case: "task",
      value: { id: { project: tmpl?.id?.project, domain: tmpl?.id?.domain, name: tmpl?.id?.name, version: tmpl?.id?.version }, spec },
    },
  });
  const now = new Date();
  const ts = `${now.toISOString().slice(0, 23)}000Z`;
  return {
    project,
    domain,
    run_name: name,
    name: "a0",
    parent_action_name: null,
    phase: ActionPhase.QUEUED,
    run_source: "RUN_SOURCE_UNSPECIFIED",
    action_type: ActionType.TASK,
    action_group: null,
    task_project: tmpl?.id?.project ?? null,
    task_domain: tmpl?.id?.domain ?? null,
    task_name: tmpl?.id?.name ?? null,
    task_version: tmpl?.id?.version ?? null,
    task_type: tmpl?.type ?? "",
    task_short_name: spec.shortName || null,
    function_name: tmpl?.id?.name ?? "",
    environment_name: null,
    action_spec: asBytes(toBinary(ActionSpecSchema, actionSpec)),
    action_details: asBytes(new TextEncoder().encode("{}")),
    detailed_info: asBytes(toBinary(RunInfoSchema, create(RunInfoSchema, { inputsUri: inputUri, taskSpecDigest: "0".repeat(64) }))),
    run_spec: asBytes(toBinary(RunSpecSchema, runSpec)),
    abort_requested_at: null,
    abort_attempt_count: 0,
    abort_reason: null,
    created_at: ts,
    updated_at: ts,
    ended_at: null,
    duration_ms: null,
    attempts: 1,
    cache_status: 0,
    trigger_name: null,
    trigger_task_name: null,
    trigger_revision: null,
  };
}

/** A response shaped like the port's: the run's root action with its id, metadata and QUEUED status. */
export function runResponse(req: CreateRunRequest): CreateRunResponse {
  const id = req.id.case === "runId" ? req.id.value : undefined;
  const tmpl = req.task.case === "taskSpec" ? req.task.value.taskTemplate : undefined;
  const init: MessageInitShape<typeof CreateRunResponseSchema> = {
    run: {
      action: {
        id: { run: { org: "", project: id?.project, domain: id?.domain, name: id?.name }, name: "a0" },
        metadata: {
          spec: {
            case: "task",
            value: {
              id: { project: tmpl?.id?.project, domain: tmpl?.id?.domain, name: tmpl?.id?.name, version: tmpl?.id?.version },
              taskType: tmpl?.type,
              shortName: req.task.case === "taskSpec" ? req.task.value.shortName : "",
            },
          },
          actionType: ActionType.TASK,
          funtionName: tmpl?.id?.name,
        },
        status: { phase: ActionPhase.QUEUED, startTime: timestampFromDate(new Date()), attempts: 1 },
      },
    },
  };
  return create(CreateRunResponseSchema, init);
}
