/**
 * GetRunDetails / GetActionDetails / WatchActionDetails: one action row,
 * its stored events and its spec → ActionDetails.
 */
import { create, fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { TaskSpecSchema, TraceSpecSchema } from "#gen/flyteidl2/task/task_definition_pb.js";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import {
  AbortInfoSchema,
  ActionDetailsSchema,
  ActionSpecSchema,
  ActionStatusSchema,
  ActionType,
  type ActionDetails,
} from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { RunInfoSchema } from "#gen/flyteidl2/workflow/run_info_pb.js";
import type { ActionEventRow, ActionRow } from "../schema/index.js";
import { actionIdFromRow, actionMetadataFromRow, pbTimestamp } from "./action.js";
import { attemptsFromEvents } from "./action-events.js";

/** Loads a stored spec by digest; undefined when none is stored under it. */
export type SpecLoader = (digest: string) => Promise<Uint8Array | undefined>;

function rowLabel(row: ActionRow): string {
  return `${row.project}/${row.domain}/${row.run_name}/${row.name}`;
}

/** Decodes stored bytes, or throws an Error saying which column of which action does not decode. */
function decodeStored<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array, what: string, row: ActionRow): MessageShape<Desc> {
  try {
    return fromBinary(schema, bytes);
  } catch (error) {
    throw new Error(`action ${rowLabel(row)}: stored ${what} does not decode: ${(error as Error).message}`, { cause: error });
  }
}

type DetailsSpec = ActionDetails["spec"];

/** The spec stored under the RunInfo digest, by action type; undefined when there is none to show. */
async function specFromDigest(row: ActionRow, digest: string, loadSpec: SpecLoader): Promise<DetailsSpec | undefined> {
  const bytes = await loadSpec(digest);
  switch (row.action_type) {
    case ActionType.UNSPECIFIED:
    case ActionType.CONDITION: // no spec to show in the 2.0.16 ActionDetails
      return undefined;
    case ActionType.TASK:
      return bytes ? { case: "task", value: decodeStored(TaskSpecSchema, bytes, `task spec ${digest}`, row) } : undefined;
    case ActionType.TRACE:
      return bytes ? { case: "trace", value: decodeStored(TraceSpecSchema, bytes, `trace spec ${digest}`, row) } : undefined;
    default:
      throw new Error(`action ${rowLabel(row)}: unknown action type ${row.action_type}`);
  }
}

/** The task or trace spec embedded in action_spec, if any. */
function specFromActionSpec(row: ActionRow): DetailsSpec | undefined {
  if (!row.action_spec || row.action_spec.length === 0) return undefined;
  const spec = decodeStored(ActionSpecSchema, row.action_spec, "action_spec", row).spec;
  if (spec.case === "task" && spec.value.spec) return { case: "task", value: spec.value.spec };
  if (spec.case === "trace" && spec.value.spec) return { case: "trace", value: spec.value.spec };
  return undefined;
}

/**
 * Builds the details of one action:
 * - status from the row (duration whenever the column is set, 0 included);
 * - full metadata;
 * - spec: the TaskSpec (TASK) or TraceSpec (TRACE) stored under the RunInfo
 *   digest; when there is no digest or nothing is stored under it, the spec
 *   embedded in action_spec. A failing `loadSpec` rejects the whole call;
 * - attempts merged from `events` (the action's events, any order);
 * - result: FAILED ⇒ the last attempt's error, only when that attempt's
 *   number equals the row's attempt count (events may lag behind the row);
 *   ABORTED ⇒ the abort reason.
 * Stored bytes that do not decode (detailed_info, action_spec, specs,
 * events) are an Error naming the action.
 */
export async function buildActionDetails(
  row: ActionRow,
  events: readonly ActionEventRow[],
  loadSpec: SpecLoader,
): Promise<ActionDetails> {
  const status = create(ActionStatusSchema, {
    phase: row.phase,
    startTime: pbTimestamp(row.created_at),
    attempts: row.attempts,
    cacheStatus: row.cache_status,
  });
  if (row.ended_at !== null) status.endTime = pbTimestamp(row.ended_at);
  if (row.duration_ms !== null && row.duration_ms >= 0) status.durationMs = BigInt(row.duration_ms);

  const details = create(ActionDetailsSchema, {
    id: actionIdFromRow(row),
    metadata: actionMetadataFromRow(row),
    status,
  });

  const digest =
    row.detailed_info && row.detailed_info.length > 0
      ? decodeStored(RunInfoSchema, row.detailed_info, "detailed_info", row).taskSpecDigest
      : "";
  const attempts = attemptsFromEvents(events);
  const spec = (digest !== "" ? await specFromDigest(row, digest, loadSpec) : undefined) ?? specFromActionSpec(row);
  if (spec) details.spec = spec;
  details.attempts = attempts;

  if (row.phase === ActionPhase.FAILED) {
    const last = attempts[attempts.length - 1];
    if (last && last.attempt === row.attempts && last.errorInfo) {
      details.result = { case: "errorInfo", value: last.errorInfo };
    }
  } else if (row.phase === ActionPhase.ABORTED) {
    details.result = { case: "abortInfo", value: create(AbortInfoSchema, { reason: row.abort_reason ?? "" }) };
  }
  return details;
}
