/**
 * actions rows → the Run / Action messages of ListRuns, CreateRun, WatchRuns
 * and ListActions. Identifiers always carry org "" (org is never stored).
 */
import { create, fromBinary } from "@bufbuild/protobuf";
import { EnrichedIdentitySchema, type EnrichedIdentity } from "#gen/flyteidl2/common/identity_pb.js";
import { TimestampSchema, type Timestamp as PbTimestamp } from "@bufbuild/protobuf/wkt";
import {
  ActionIdentifierSchema,
  TriggerIdentifierSchema,
  TriggerNameSchema,
  type ActionIdentifier,
  type RunIdentifier,
} from "#gen/flyteidl2/common/identifier_pb.js";
import { TaskIdentifierSchema } from "#gen/flyteidl2/task/task_definition_pb.js";
import {
  ActionMetadataSchema,
  ActionSchema,
  ActionStatusSchema,
  ActionSpecSchema,
  ActionType,
  ConditionActionMetadataSchema,
  RunSchema,
  RunSourceSchema,
  TaskActionMetadataSchema,
  TraceActionMetadataSchema,
  type Action,
  type ActionMetadata,
  type ActionStatus,
  type ConditionActionMetadata,
  type Run,
} from "#gen/flyteidl2/workflow/run_definition_pb.js";
import type { ActionListRow } from "../interfaces/action.js";
import type { ActionRow } from "../schema/index.js";
import { toSecondsNanos, type Timestamp } from "../timestamps.js";

/** Canonical timestamp text → protobuf Timestamp (microseconds kept). */
export function pbTimestamp(ts: Timestamp): PbTimestamp {
  return create(TimestampSchema, toSecondsNanos(ts));
}

/** The row's project/domain/run/action as an ActionIdentifier (org ""). */
export function actionIdFromRow(row: Pick<ActionRow, "project" | "domain" | "run_name" | "name">): ActionIdentifier {
  return create(ActionIdentifierSchema, {
    run: { org: "", project: row.project, domain: row.domain, name: row.run_name },
    name: row.name,
  });
}

/** The stored creator (created_by); undefined when absent or unreadable, as the reference. */
export function executedByFromRow(row: Pick<ActionRow, "created_by">): EnrichedIdentity | undefined {
  if (row.created_by === null || row.created_by.length === 0) return undefined;
  try {
    return fromBinary(EnrichedIdentitySchema, row.created_by);
  } catch {
    return undefined;
  }
}

/** RunSource enum name → number; unknown or empty names give UNSPECIFIED (0). */
function runSourceFromName(name: string): number {
  if (name === "") return 0;
  return RunSourceSchema.values.find((v) => v.name === name)?.number ?? 0;
}

/**
 * Everything the row knows about the action (runs and action details):
 * type, function name, parent, group, environment, source, trigger and the
 * task/trace summary.
 */
export function actionMetadataFromRow(row: ActionRow): ActionMetadata {
  const metadata = create(ActionMetadataSchema, {
    actionType: row.action_type,
    funtionName: row.function_name,
    parent: row.parent_action_name ?? "",
    group: row.action_group ?? "",
    environmentName: row.environment_name ?? "",
    source: runSourceFromName(row.run_source),
  });
  metadata.executedBy = executedByFromRow(row);
  if (row.trigger_name !== null) {
    metadata.triggerName = row.trigger_name;
    metadata.triggerId = create(TriggerIdentifierSchema, {
      name: create(TriggerNameSchema, {
        org: "",
        project: row.project,
        domain: row.domain,
        name: row.trigger_name,
        taskName: row.trigger_task_name ?? "",
      }),
      revision: row.trigger_revision !== null && row.trigger_revision >= 0 ? BigInt(row.trigger_revision) : 0n,
    });
  }
  if (row.action_type === ActionType.TASK) {
    const task = create(TaskActionMetadataSchema, { taskType: row.task_type, shortName: row.task_short_name ?? "" });
    if (row.task_name !== null) {
      task.id = create(TaskIdentifierSchema, {
        org: "",
        project: row.task_project ?? "",
        domain: row.task_domain ?? "",
        name: row.task_name,
        version: row.task_version ?? "",
      });
    }
    metadata.spec = { case: "task", value: task };
  } else if (row.action_type === ActionType.TRACE) {
    metadata.spec = { case: "trace", value: create(TraceActionMetadataSchema, { name: row.function_name }) };
  } else if (row.action_type === ActionType.CONDITION) {
    metadata.spec = { case: "condition", value: conditionMetadataFromRow(row) };
  }
  return metadata;
}

/**
 * A condition's metadata: its name (the function-name column, else the name
 * in the stored ConditionAction; an undecodable spec only loses that fallback).
 */
export function conditionMetadataFromRow(
  row: Pick<ActionRow, "function_name"> & { action_spec?: ActionRow["action_spec"] },
): ConditionActionMetadata {
  let name = row.function_name;
  if (name === "" && row.action_spec && row.action_spec.length > 0) {
    try {
      const spec = fromBinary(ActionSpecSchema, row.action_spec).spec;
      if (spec.case === "condition") name = spec.value.name;
    } catch {
      // keep the empty name
    }
  }
  return create(ConditionActionMetadataSchema, { name });
}

/** Status from the row columns; duration_ms is kept when `keepDuration` accepts it. */
function statusFromRow(
  row: Pick<ActionRow, "phase" | "created_at" | "attempts" | "cache_status" | "ended_at" | "duration_ms">,
  keepDuration: (ms: number) => boolean): ActionStatus {
  const status = create(ActionStatusSchema, {
    phase: row.phase,
    startTime: pbTimestamp(row.created_at),
    attempts: row.attempts,
    cacheStatus: row.cache_status,
  });
  if (row.ended_at !== null) status.endTime = pbTimestamp(row.ended_at);
  if (row.duration_ms !== null && keepDuration(row.duration_ms)) status.durationMs = BigInt(row.duration_ms);
  return status;
}

/**
 * A run (root action row) as returned by CreateRun, ListRuns and WatchRuns:
 * full metadata, status from the row (duration when ≥ 0), then the legacy
 * JSON `action_details` status override (see applyLegacyDetailsStatus).
 */
export function runRowToRun(row: ActionRow): Run {
  const status = statusFromRow(row, (ms) => ms >= 0);
  applyLegacyDetailsStatus(status, row.action_details);
  return create(RunSchema, {
    action: create(ActionSchema, { id: actionIdFromRow(row), metadata: actionMetadataFromRow(row), status }),
  });
}

/**
 * A ListActions item: metadata holds only parent and group; duration only when > 0.
 * `run` (the run's identifier, shared by every item of a page) saves building it per row.
 */
export function actionRowToAction(row: ActionListRow, run?: RunIdentifier): Action {
  return create(ActionSchema, {
    id: run ? create(ActionIdentifierSchema, { run, name: row.name }) : actionIdFromRow(row),
    metadata: create(ActionMetadataSchema, { parent: row.parent_action_name ?? "", group: row.action_group ?? "" }),
    status: statusFromRow(row, (ms) => ms > 0),
  });
}

// --- legacy action_details JSON ----------------------------------------------

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Key lookup ignoring ASCII case, as Go's encoding/json matches field names. */
function field(obj: JsonObject, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return obj[key];
  return undefined;
}

function jsonInt(value: unknown): number | undefined | null {
  if (value === undefined || value === null) return undefined;
  return typeof value === "number" && Number.isInteger(value) ? value : null;
}

/** `{seconds, nanos}` (Go's struct encoding of a Timestamp); null when malformed. */
function jsonTimestamp(value: unknown): PbTimestamp | undefined | null {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) return null;
  const seconds = jsonInt(field(value, "seconds"));
  const nanos = jsonInt(field(value, "nanos"));
  if (seconds === null || nanos === null) return null;
  return create(TimestampSchema, { seconds: BigInt(seconds ?? 0), nanos: nanos ?? 0 });
}

function millisBetween(start: PbTimestamp, end: PbTimestamp): bigint {
  const nanos = (end.seconds - start.seconds) * 1_000_000_000n + BigInt(end.nanos - start.nanos);
  return nanos / 1_000_000n;
}

/**
 * The reference stores `action_details` as Go-encoding/json of ActionDetails
 * (snake_case keys, timestamps as {seconds, nanos}); when it holds a status,
 * that status overrides attempts and cache status, and start/end/duration
 * where present (a missing duration is end − start). This service only ever
 * writes "{}", so in practice nothing changes; malformed JSON is ignored.
 */
export function applyLegacyDetailsStatus(status: ActionStatus, details: Uint8Array | null): void {
  if (!details || details.length === 0) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(details).toString("utf8"));
  } catch {
    return;
  }
  if (!isObject(parsed)) return;
  const legacy = field(parsed, "status");
  if (!isObject(legacy)) return;
  const attempts = jsonInt(field(legacy, "attempts"));
  const cacheStatus = jsonInt(field(legacy, "cache_status"));
  const start = jsonTimestamp(field(legacy, "start_time"));
  const end = jsonTimestamp(field(legacy, "end_time"));
  const duration = jsonInt(field(legacy, "duration_ms"));
  if (attempts === null || cacheStatus === null || start === null || end === null || duration === null) return;
  if ((attempts ?? 0) < 0 || (duration ?? 0) < 0) return;

  status.attempts = attempts ?? 0;
  status.cacheStatus = cacheStatus ?? 0;
  if (start) status.startTime = start;
  if (end) status.endTime = end;
  if (duration !== undefined) {
    status.durationMs = BigInt(duration);
  } else if (status.startTime && status.endTime) {
    const ms = millisBetween(status.startTime, status.endTime);
    if (ms >= 0n) status.durationMs = ms;
  }
}
