/**
 * When a schedule trigger fires: its slots (scheduled times) and the point
 * after which its slots are still owed a run.
 *
 * - Cron schedules (five fields, descriptors, with CRON_TZ / the structured
 *   cron's time zone honoured) fire at absolute times, the same on every
 *   replica.
 * - Fixed rates and `@every` fire on a grid: `start_time` (rates only) or
 *   else the trigger's updated_at (its last deploy / activation), cut to the
 *   whole second, plus multiples of the interval. Anchoring on a stored time
 *   rather than on the last fire keeps the grid identical on every replica
 *   and across restarts, so the deterministic run names agree.
 * - The baseline is the later of updated_at and triggered_at: only slots
 *   strictly after it are owed. A (re)deployed or re-activated trigger
 *   therefore first fires at its next slot, never at once, and a restart
 *   resumes after the last run the trigger created.
 */
import type { Schedule } from "#gen/flyteidl2/task/common_pb.js";
import type { TriggerRow } from "../repository/schema/index.js";
import { toEpochMicros, type Timestamp } from "../repository/timestamps.js";
import { decodeAutomationSpec } from "../repository/transformers/trigger.js";
import { resolveSchedule, type TriggerSchedule } from "./automation.js";

export interface Timeline {
  /** For logs, e.g. `cron "CRON_TZ=Europe/Berlin 0 9 * * *"` or `every 3600s from 2026-01-01T00:00:00.000Z`. */
  readonly description: string;
  /** The first slot strictly after `afterMs` (ms since the epoch, on a whole second); undefined when none. */
  nextAfter(afterMs: number): number | undefined;
  /** The latest slot in (afterMs, toMs]; undefined when there is none. */
  lastBetween(afterMs: number, toMs: number): number | undefined;
  /** How many slots lie in (afterMs, toMs], counting at most `cap` (stepping schedules stop there). */
  countBetween(afterMs: number, toMs: number, cap: number): number;
}

type NextFn = (afterMs: number) => number | undefined;

/**
 * The latest slot in (afterMs, toMs] of a schedule that can only be stepped
 * forwards: look back over a window that doubles until it holds a slot,
 * then step through that window. Costs O(log gap) plus the slots of one
 * window, instead of every slot since `afterMs`.
 */
export function lastByGalloping(next: NextFn, afterMs: number, toMs: number): number | undefined {
  for (let window = 60_000; ; window *= 2) {
    const from = Math.max(afterMs, toMs - window);
    let last = next(from);
    if (last !== undefined && last <= toMs) {
      for (let n = next(last); n !== undefined && n <= toMs; n = next(last)) last = n;
      return last;
    }
    if (from === afterMs) return undefined;
  }
}

function countByStepping(next: NextFn, afterMs: number, toMs: number, cap: number): number {
  let count = 0;
  for (let t = next(afterMs); t !== undefined && t <= toMs && count < cap; t = next(t)) count++;
  return count;
}

const truncateToSecond = (ms: number) => ms - (((ms % 1000) + 1000) % 1000);

/** Milliseconds of a stored timestamp, rounded down. */
export function timestampMs(ts: Timestamp): number {
  return Number(toEpochMicros(ts) / 1000n);
}

/** Slots at anchor + k × interval, k ≥ 0. */
export function gridTimeline(anchorMs: number, intervalMs: number): Timeline {
  if (!(intervalMs > 0)) throw new RangeError(`interval must be positive, got ${intervalMs}`);
  // Index of the last grid point at or before t (−1 before the anchor).
  const lastIndex = (t: number) => (t < anchorMs ? -1 : Math.floor((t - anchorMs) / intervalMs));
  return {
    description: `every ${intervalMs / 1000}s from ${new Date(anchorMs).toISOString()}`,
    nextAfter(afterMs) {
      return anchorMs + (lastIndex(afterMs) + 1) * intervalMs;
    },
    lastBetween(afterMs, toMs) {
      return lastIndex(toMs) > lastIndex(afterMs) ? anchorMs + lastIndex(toMs) * intervalMs : undefined;
    },
    countBetween(afterMs, toMs, cap) {
      return Math.min(cap, Math.max(0, lastIndex(toMs) - lastIndex(afterMs)));
    },
  };
}

/** The schedule of a trigger's automation spec; undefined when it has none. Throws InvalidScheduleError or a decode error. */
export function triggerSchedule(row: Pick<TriggerRow, "automation_spec" | "automation_type">): { schedule: Schedule; resolved: TriggerSchedule } | undefined {
  const spec = decodeAutomationSpec(row.automation_spec, row.automation_type);
  if (spec.automation.case !== "schedule") return undefined;
  const schedule = spec.automation.value;
  return { schedule, resolved: resolveSchedule(schedule) };
}

export { kickoffTimeInputArg } from "../service/run-service/trigger-run.js";

/** Slots strictly after this are owed a run: the later of updated_at and triggered_at. */
export function baselineMs(row: Pick<TriggerRow, "updated_at" | "triggered_at">): number {
  const updated = timestampMs(row.updated_at);
  const triggered = row.triggered_at === null ? updated : timestampMs(row.triggered_at);
  return Math.max(updated, triggered);
}

/**
 * The timeline of a schedule trigger; undefined when it schedules nothing.
 * Throws (InvalidScheduleError, decode errors) when its schedule is unusable.
 */
export function timelineOf(row: Pick<TriggerRow, "automation_spec" | "automation_type" | "updated_at">): Timeline | undefined {
  const found = triggerSchedule(row);
  if (!found) return undefined;
  const { resolved } = found;
  const deployedMs = truncateToSecond(timestampMs(row.updated_at));
  if (resolved.kind === "rate") {
    const start = resolved.rate.startTime;
    const anchor = start ? truncateToSecond(Number(start.seconds) * 1000 + Math.floor(start.nanos / 1e6)) : deployedMs;
    return gridTimeline(anchor, resolved.intervalMs);
  }
  const cron = resolved.schedule;
  if (cron.kind === "every") {
    // `@every d` adds d to the previous time cut to the second, so next(epoch) is d itself.
    const interval = cron.next(new Date(0))!.getTime();
    return { ...gridTimeline(deployedMs, interval), description: `${JSON.stringify(resolved.spec)} (every ${interval / 1000}s from ${new Date(deployedMs).toISOString()})` };
  }
  const nextAfter = (afterMs: number) => cron.next(new Date(afterMs))?.getTime();
  return {
    description: `cron ${JSON.stringify(resolved.spec)}`,
    nextAfter,
    lastBetween: (afterMs, toMs) => lastByGalloping(nextAfter, afterMs, toMs),
    countBetween: (afterMs, toMs, cap) => countByStepping(nextAfter, afterMs, toMs, cap),
  };
}
