/**
 * action_events rows ⇄ ActionEvent messages, and the per-attempt view
 * (ActionAttempt) that GetActionDetails and WatchActionDetails show.
 */
import { clone, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Timestamp as PbTimestamp } from "@bufbuild/protobuf/wkt";
import type { LogContext, TaskLog } from "#gen/flyteidl2/core/execution_pb.js";
import { OutputReferencesSchema } from "#gen/flyteidl2/task/common_pb.js";
import {
  ActionAttemptSchema,
  ActionEventSchema,
  ErrorInfo_KindSchema,
  PhaseTransitionSchema,
  type ActionAttempt,
  type ActionEvent,
  type ClusterEvent,
  type PhaseTransition,
} from "#gen/flyteidl2/workflow/run_definition_pb.js";
import type { ActionEventRow, NewActionEventRow } from "../schema/index.js";
import type { Timestamp } from "../timestamps.js";
import { isTerminalPhase } from "./phase.js";

function errorKindName(kind: number): string {
  return ErrorInfo_KindSchema.values.find((v) => v.number === kind)?.name ?? String(kind);
}

/** An event as stored: key columns from the event, the whole message in `info`, the error kind by name. */
export function actionEventToRow(event: ActionEvent, now: Timestamp): NewActionEventRow {
  const run = event.id?.run;
  return {
    project: run?.project ?? "",
    domain: run?.domain ?? "",
    run_name: run?.name ?? "",
    name: event.id?.name ?? "",
    attempt: event.attempt,
    phase: event.phase,
    version: event.version,
    info: toBinary(ActionEventSchema, event),
    error_kind: event.errorInfo ? errorKindName(event.errorInfo.kind) : null,
    created_at: now,
    updated_at: now,
  };
}

/** Decodes a stored event; throws an Error naming the event when `info` is not an ActionEvent. */
export function rowToActionEvent(row: ActionEventRow): ActionEvent {
  try {
    return fromBinary(ActionEventSchema, row.info ?? new Uint8Array());
  } catch (error) {
    const key = `${row.project}/${row.domain}/${row.run_name}/${row.name} attempt ${row.attempt} phase ${row.phase} version ${row.version}`;
    throw new Error(`action event ${key}: stored info does not decode: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The attempts of an action from its stored events: grouped by the events'
 * attempt number, merged (mergeEvents), in ascending attempt order.
 */
export function attemptsFromEvents(rows: readonly ActionEventRow[]): ActionAttempt[] {
  const groups = new Map<number, ActionEvent[]>();
  for (const row of rows) {
    const event = rowToActionEvent(row);
    const group = groups.get(event.attempt);
    if (group) group.push(event);
    else groups.set(event.attempt, [event]);
  }
  return [...groups.keys()].sort((a, b) => a - b).map((attempt) => mergeEvents(attempt, groups.get(attempt)!));
}

// --- merging ----------------------------------------------------------------

/** Compares two timestamps; a missing one counts as the Unix epoch. */
function compareTime(a: PbTimestamp | undefined, b: PbTimestamp | undefined): number {
  const as = a?.seconds ?? 0n;
  const bs = b?.seconds ?? 0n;
  if (as !== bs) return as < bs ? -1 : 1;
  return (a?.nanos ?? 0) - (b?.nanos ?? 0);
}

/** Event order: by reported_time when both events have one, otherwise by updated_time. */
function eventBefore(a: ActionEvent, b: ActionEvent): boolean {
  if (a.reportedTime && b.reportedTime) return compareTime(a.reportedTime, b.reportedTime) < 0;
  return compareTime(a.updatedTime, b.updatedTime) < 0;
}

/**
 * Stable insertion sort. The comparison above is not a total order when only
 * some events carry reported_time, so the algorithm matters: this is the one
 * the reference's stable sort uses for small inputs.
 */
function sortEvents(events: readonly ActionEvent[]): ActionEvent[] {
  const out = [...events];
  for (let i = 1; i < out.length; i++) {
    for (let j = i; j > 0 && eventBefore(out[j], out[j - 1]); j--) {
      [out[j - 1], out[j]] = [out[j], out[j - 1]];
    }
  }
  return out;
}

/** Byte-wise (UTF-8) string order. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/**
 * Phase transitions in event order: each first occurrence of a phase closes
 * the previous transition and opens a new one; a terminal phase opens and
 * closes at the same time and ends the walk.
 */
function phaseTransitions(events: readonly ActionEvent[]): PhaseTransition[] {
  const out: PhaseTransition[] = [];
  const seen = new Set<number>();
  for (const event of events) {
    if (seen.has(event.phase)) continue;
    const previous = out[out.length - 1];
    if (previous) previous.endTime = event.updatedTime;
    const transition = create(PhaseTransitionSchema, { phase: event.phase, startTime: event.updatedTime });
    out.push(transition);
    if (isTerminalPhase(event.phase)) {
      transition.endTime = event.updatedTime;
      break;
    }
    seen.add(event.phase);
  }
  return out;
}

/**
 * Merges the events of one attempt into an ActionAttempt. The result's
 * phase, outputs, error, cache status and cluster come from the last event,
 * or from the earliest terminal event when there is one; logs are the union
 * by name (newest wins, sorted by name); log context is the newest one;
 * start is the first event's updated_time and end the deciding event's
 * updated_time when it is terminal (never before start). The input events
 * are not modified.
 */
export function mergeEvents(attempt: number, input: readonly ActionEvent[]): ActionAttempt {
  if (input.length === 0) return create(ActionAttemptSchema, { attempt });
  const events = sortEvents(input);

  const logs = new Map<string, TaskLog>();
  let logContext: LogContext | undefined;
  let reportUri = "";
  let last = events[events.length - 1];
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i];
    if (!logContext && event.logContext) logContext = event.logContext;
    for (const log of event.logInfo) if (!logs.has(log.name)) logs.set(log.name, log);
    if (reportUri === "" && event.outputs && event.outputs.reportUri !== "") reportUri = event.outputs.reportUri;
    if (isTerminalPhase(event.phase)) last = event;
  }

  let outputs = last.outputs;
  if (reportUri !== "") {
    outputs = outputs ? clone(OutputReferencesSchema, outputs) : create(OutputReferencesSchema);
    outputs.reportUri = reportUri;
  }

  const startTime = events[0].updatedTime;
  let endTime = isTerminalPhase(last.phase) ? last.updatedTime : undefined;
  if (endTime && compareTime(startTime, endTime) > 0) endTime = startTime;

  const clusterEvents: ClusterEvent[] = events.flatMap((e) => e.clusterEvents);

  return create(ActionAttemptSchema, {
    attempt,
    phase: last.phase,
    startTime,
    endTime,
    outputs,
    errorInfo: last.errorInfo,
    logsAvailable: logContext !== undefined,
    logContext,
    logInfo: [...logs.values()].sort((a, b) => compareBytes(a.name, b.name)),
    cacheStatus: last.cacheStatus,
    clusterEvents,
    cluster: last.cluster,
    phaseTransitions: phaseTransitions(events),
  });
}
