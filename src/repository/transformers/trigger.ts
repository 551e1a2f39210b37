import { clone, create, fromBinary, toBinary, type DescEnum } from "@bufbuild/protobuf";
import type { Timestamp as PbTimestamp } from "@bufbuild/protobuf/wkt";
import { TriggerIdentifierSchema, type TriggerName } from "#gen/flyteidl2/common/identifier_pb.js";
import {
  TriggerAutomationSpecSchema,
  TriggerAutomationSpecTypeSchema,
  type TriggerAutomationSpec,
} from "#gen/flyteidl2/task/common_pb.js";
import {
  TriggerDetailsSchema,
  TriggerRevisionActionSchema,
  TriggerRevisionSchema,
  TriggerSchema,
  TriggerSpecSchema,
  TriggerStatusSchema,
  type TriggerDetails,
  type Trigger,
  type TriggerRevision,
  type TriggerRevisionAction,
  type TriggerSpec,
  type TriggerStatus,
} from "#gen/flyteidl2/trigger/trigger_definition_pb.js";
import type { TriggerDraft, TriggerKey } from "../interfaces/trigger.js";
import { sqlBool, type TriggerRevisionRow, type TriggerRow } from "../schema/index.js";
import { toEpochMicros, type Timestamp } from "../timestamps.js";
import { automationType } from "../../scheduler/automation.js";
import { pbTimestamp } from "./action.js";

function enumName(desc: DescEnum, value: number): string {
  return desc.values.find((v) => v.number === value)?.name ?? String(value);
}

function enumNumber(desc: DescEnum, name: string): number | undefined {
  return desc.values.find((v) => v.name === name)?.number;
}

/** Stored name of a revision action, e.g. "TRIGGER_REVISION_ACTION_DEPLOY". */
export function revisionActionName(action: TriggerRevisionAction): string {
  return enumName(TriggerRevisionActionSchema, action);
}

/** Revision action from its stored name; UNSPECIFIED (0) when unknown. */
export function parseRevisionAction(name: string): TriggerRevisionAction {
  return (enumNumber(TriggerRevisionActionSchema, name) ?? 0) as TriggerRevisionAction;
}

export { pbTimestamp };

function optionalTimestamp(ts: Timestamp | null): PbTimestamp | undefined {
  return ts === null ? undefined : pbTimestamp(ts);
}

export function triggerKeyOf(name: TriggerName): TriggerKey {
  return { project: name.project, domain: name.domain, taskName: name.taskName, name: name.name };
}

/**
 * The automation spec as stored: a missing spec becomes an empty one, and the
 * type is TYPE_SCHEDULE when a schedule is present, TYPE_NONE otherwise,
 * whatever the client sent. Returns a normalised copy.
 */
export function normalizeAutomationSpec(spec: TriggerAutomationSpec | undefined): TriggerAutomationSpec {
  const copy = spec ? clone(TriggerAutomationSpecSchema, spec) : create(TriggerAutomationSpecSchema);
  copy.type = automationType(copy);
  return copy;
}

/**
 * The row a deploy writes. `spec` is stored as given; its active flag,
 * task version and description are also kept in columns (an empty
 * description is NULL).
 */
export function triggerDraft(name: TriggerName, spec: TriggerSpec, automation: TriggerAutomationSpec | undefined): TriggerDraft {
  const normalized = normalizeAutomationSpec(automation);
  return {
    project: name.project,
    domain: name.domain,
    task_name: name.taskName,
    name: name.name,
    spec: toBinary(TriggerSpecSchema, spec),
    automation_spec: toBinary(TriggerAutomationSpecSchema, normalized),
    task_version: spec.taskVersion,
    active: spec.active,
    automation_type: enumName(TriggerAutomationSpecTypeSchema, normalized.type),
    description: spec.description === "" ? null : spec.description,
  };
}

/**
 * Decodes stored automation spec bytes; the type column presets the type
 * (an empty blob yields just that). Throws when the bytes do not decode.
 */
export function decodeAutomationSpec(bytes: Uint8Array | null, typeName: string): TriggerAutomationSpec {
  const spec = create(TriggerAutomationSpecSchema);
  const type = enumNumber(TriggerAutomationSpecTypeSchema, typeName);
  if (type !== undefined) spec.type = type;
  if (!bytes || bytes.length === 0) return spec;
  const decoded = fromBinary(TriggerAutomationSpecSchema, bytes);
  // Fields present in the blob win, as a protobuf merge would do.
  if (decoded.type !== 0) spec.type = decoded.type;
  spec.automation = decoded.automation;
  return spec;
}

function decodeSpec(row: { spec: Uint8Array; active: TriggerRow["active"]; task_version: string }): TriggerSpec {
  const spec = fromBinary(TriggerSpecSchema, row.spec);
  spec.active = sqlBool(row.active);
  spec.taskVersion = row.task_version;
  return spec;
}

function identifier(row: { project: string; domain: string; task_name: string; name: string }, revision: number) {
  return create(TriggerIdentifierSchema, {
    name: { org: "", project: row.project, domain: row.domain, taskName: row.task_name, name: row.name },
    revision: BigInt(revision),
  });
}

function status(row: TriggerRow | TriggerRevisionRow, withDeleted: boolean): TriggerStatus {
  return create(TriggerStatusSchema, {
    deployedAt: pbTimestamp(row.deployed_at),
    updatedAt: pbTimestamp(row.updated_at),
    triggeredAt: optionalTimestamp(row.triggered_at),
    deletedAt: withDeleted ? optionalTimestamp(row.deleted_at) : undefined,
  });
}

/** A trigger's latest state; spec overlaid with the row's active, task version and description. */
export function rowToTriggerDetails(row: TriggerRow): TriggerDetails {
  const spec = decodeSpec(row);
  if (row.description !== null) spec.description = row.description;
  return create(TriggerDetailsSchema, {
    id: identifier(row, row.latest_revision),
    spec,
    status: status(row, true),
    automationSpec: decodeAutomationSpec(row.automation_spec, row.automation_type),
  });
}

/** One stored revision; spec overlaid with that revision's active flag and task version. */
export function revisionToTriggerDetails(row: TriggerRevisionRow): TriggerDetails {
  return create(TriggerDetailsSchema, {
    id: identifier(row, row.revision),
    spec: decodeSpec(row),
    status: status(row, true),
    automationSpec: decodeAutomationSpec(row.automation_spec, row.automation_type),
  });
}

/** List view of a live trigger. */
export function rowToTrigger(row: TriggerRow): Trigger {
  return create(TriggerSchema, {
    id: identifier(row, row.latest_revision),
    status: status(row, false),
    active: sqlBool(row.active),
    automationSpec: decodeAutomationSpec(row.automation_spec, row.automation_type),
  });
}

/** History entry; created_at is the latest of deployed_at, updated_at and deleted_at. */
export function revisionToTriggerRevision(row: TriggerRevisionRow): TriggerRevision {
  let latest = row.deployed_at;
  for (const ts of [row.updated_at, row.deleted_at]) {
    if (ts !== null && toEpochMicros(ts) > toEpochMicros(latest)) latest = ts;
  }
  return create(TriggerRevisionSchema, {
    id: identifier(row, row.revision),
    status: status(row, true),
    action: parseRevisionAction(row.action),
    createdAt: pbTimestamp(latest),
  });
}
