/**
 * What the bigrun scenario sends (bench group `bigrun`): one run `a0` with N
 * child actions `c0…c{N-1}` reported by an executor through the three
 * InternalRunService bidi streams, and the rows the B4 baselines write for
 * each item (the same columns and blobs as the port).
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import {
  RecordActionEventStreamRequestSchema,
  RecordActionStreamRequestSchema,
  UpdateActionStatusStreamRequestSchema,
  type RecordActionEventStreamRequest,
  type RecordActionStreamRequest,
  type UpdateActionStatusStreamRequest,
} from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { ActionEventSchema, ActionSpecSchema, ActionType } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { RunInfoSchema } from "#gen/flyteidl2/workflow/run_info_pb.js";
import { DOMAIN, ORG, PROJECT, TASK_NAME, TASK_SPEC, TASK_VERSION } from "./request.js";

/** The phases every child goes through on the update stream, in order (3 items per child). */
export const UPDATE_PHASES = [ActionPhase.INITIALIZING, ActionPhase.RUNNING, ActionPhase.SUCCEEDED] as const;

export const childName = (i: number) => `c${i}`;

const runIdOf = (run: string) => ({ org: ORG, project: PROJECT, domain: DOMAIN, name: run });

export function recordItem(run: string, i: number, prefix: string): RecordActionStreamRequest {
  return create(RecordActionStreamRequestSchema, {
    request: {
      actionId: { run: runIdOf(run), name: childName(i) },
      parent: "a0",
      inputUri: `${prefix}/${PROJECT}/${DOMAIN}/${run}/${childName(i)}/inputs.pb`,
      spec: {
        case: "task",
        value: { id: { org: ORG, project: PROJECT, domain: DOMAIN, name: TASK_NAME, version: TASK_VERSION }, spec: TASK_SPEC },
      },
    },
  });
}

/** Item k of the update stream: child k/3 moves to UPDATE_PHASES[k%3]. */
export function updateItem(run: string, k: number): UpdateActionStatusStreamRequest {
  const i = Math.floor(k / UPDATE_PHASES.length);
  const phase = UPDATE_PHASES[k % UPDATE_PHASES.length];
  const now = BigInt(Math.floor(Date.now() / 1000));
  return create(UpdateActionStatusStreamRequestSchema, {
    nonce: BigInt(k + 1),
    request: {
      actionId: { run: runIdOf(run), name: childName(i) },
      status: { phase, attempts: 1, ...(phase === ActionPhase.SUCCEEDED ? { endTime: { seconds: now, nanos: 0 } } : {}) },
    },
  });
}

/** One event per child: attempt 1 succeeded. */
export function eventItem(run: string, i: number): RecordActionEventStreamRequest {
  const now = BigInt(Math.floor(Date.now() / 1000));
  return create(RecordActionEventStreamRequestSchema, {
    nonce: BigInt(i + 1),
    request: {
      event: {
        id: { run: runIdOf(run), name: childName(i) },
        attempt: 1,
        phase: ActionPhase.SUCCEEDED,
        version: 0,
        updatedTime: { seconds: now, nanos: 0 },
        cluster: "bench",
        logContext: { primaryPodName: `pod-${childName(i)}` },
      },
    },
  });
}

/** The repository's canonical timestamp text (UTC, microseconds). */
export function nowText(): string {
  return `${new Date().toISOString().slice(0, 23)}000Z`;
}

/** B4: the actions row of a recorded child (as RecordAction stores it). */
export function childRow(item: RecordActionStreamRequest, asBytes: (b: Uint8Array) => Uint8Array) {
  const req = item.request!;
  const id = req.actionId!;
  const task = req.spec.case === "task" ? req.spec.value : undefined;
  const spec = create(ActionSpecSchema, { actionId: id, inputUri: req.inputUri, group: req.group, parentActionName: req.parent });
  if (task) spec.spec = { case: "task", value: task };
  const ts = nowText();
  return {
    project: id.run!.project,
    domain: id.run!.domain,
    run_name: id.run!.name,
    name: id.name,
    parent_action_name: req.parent,
    phase: ActionPhase.QUEUED,
    run_source: "RUN_SOURCE_UNSPECIFIED",
    action_type: ActionType.TASK,
    action_group: null,
    task_project: task?.id?.project ?? null,
    task_domain: task?.id?.domain ?? null,
    task_name: task?.id?.name ?? null,
    task_version: task?.id?.version ?? null,
    task_type: task?.spec?.taskTemplate?.type ?? "",
    task_short_name: task?.spec?.shortName || null,
    function_name: task?.id?.name ?? "",
    environment_name: null,
    action_spec: asBytes(toBinary(ActionSpecSchema, spec)),
    action_details: null,
    detailed_info: asBytes(toBinary(RunInfoSchema, create(RunInfoSchema, { inputsUri: req.inputUri, taskSpecDigest: "0".repeat(64) }))),
    run_spec: null,
    abort_requested_at: null,
    abort_attempt_count: 0,
    abort_reason: null,
    created_at: ts,
    updated_at: ts,
    ended_at: null,
    duration_ms: null,
    attempts: 0,
    cache_status: 0,
    trigger_name: null,
    trigger_task_name: null,
    trigger_revision: null,
  };
}

/** B4: the action_events row of an event item. */
export function eventRow(item: RecordActionEventStreamRequest, asBytes: (b: Uint8Array) => Uint8Array) {
  const event = item.request!.event!;
  const ts = nowText();
  return {
    project: event.id!.run!.project,
    domain: event.id!.run!.domain,
    run_name: event.id!.run!.name,
    name: event.id!.name,
    attempt: event.attempt,
    phase: event.phase,
    version: event.version,
    info: asBytes(toBinary(ActionEventSchema, event)),
    error_kind: null,
    created_at: ts,
    updated_at: ts,
  };
}
