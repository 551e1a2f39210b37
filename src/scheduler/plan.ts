/**
 * Which slots each registered trigger fires in one scheduler pass (pure: no
 * I/O, no clock). A trigger's due slots are those after its cursor, up to
 * now. The latest of them is "on time" when it came due while the trigger
 * was registered, and is always fired. Every other due slot — missed before
 * registration (downtime, restart, a trigger picked up late) or piled up
 * behind a slow or failing fire — is catch-up: all triggers share one budget
 * per pass, handed out round-robin, oldest slots first. Catch-up slots beyond
 * the budget are skipped (counted for the log).
 */
import type { TriggerRow } from "../repository/schema/index.js";
import type { Timeline } from "./timeline.js";

/** A registered trigger, as the scheduler tracks it. */
export interface Entry {
  /** project/domain/task/name */
  key: string;
  /** The trigger as read when this revision was registered. */
  row: TriggerRow;
  timeline: Timeline;
  /** When this revision was registered: slots after it are on time, earlier ones catch-up. */
  registeredAtMs: number;
  /** Every slot at or before this has been handled (fired, skipped or given up). */
  cursorMs: number;
  /** After a failure: not before this. */
  retryAtMs?: number;
  /** Consecutive failures (for the backoff). */
  failures: number;
  /** Failed attempts at the slot right after the cursor (for giving up). */
  slotAttempts: number;
}

/** The slots one trigger fires in a pass, oldest first. */
export interface Plan {
  entry: Entry;
  slots: { ms: number; catchUp: boolean }[];
  /** Catch-up slots left out for the budget (cron slots counted up to SKIP_COUNT_CAP). */
  skipped: number;
  /** The first skipped slot, for the log. */
  firstSkippedMs?: number;
  /** Where the cursor goes once every planned slot is handled. */
  endMs: number;
}

/** Skipped catch-up slots of cron schedules are counted up to this many per trigger and pass (for the log). */
export const SKIP_COUNT_CAP = 10_000;

/**
 * Due slots of each trigger (after its cursor, up to now), with the shared
 * catch-up budget applied. The latest due slot is on time when it came due
 * while the trigger was registered; every other due slot is catch-up.
 */
export function planPass(entries: Iterable<Entry>, nowMs: number, catchUpBudget: number): Plan[] {
  const plans: Plan[] = [];
  const candidates: { plan: Plan; listed: number[]; total: number }[] = [];
  for (const entry of entries) {
    if (entry.retryAtMs !== undefined && entry.retryAtMs > nowMs) continue;
    const first = entry.timeline.nextAfter(entry.cursorMs);
    if (first === undefined || first > nowMs) continue;
    const p: Plan = { entry, slots: [], skipped: 0, endMs: nowMs };
    // Only a trigger registered before now can have a slot that came due while it was registered.
    const last = entry.registeredAtMs < nowMs ? entry.timeline.lastBetween(entry.cursorMs, nowMs) : undefined;
    const onTime = last !== undefined && last > entry.registeredAtMs ? last : undefined;
    if (onTime !== undefined) p.slots.push({ ms: onTime, catchUp: false });
    // The oldest catch-up slots, as many as the whole budget could take.
    const listed: number[] = [];
    let more = false;
    for (let t: number | undefined = first; t !== undefined && t <= nowMs && t !== onTime; t = entry.timeline.nextAfter(t)) {
      if (listed.length === catchUpBudget) {
        more = true;
        break;
      }
      listed.push(t);
    }
    // Catch-up slots beyond the budget are only counted, for the log.
    let total = listed.length;
    if (more) {
      const countFrom = listed.length > 0 ? listed[listed.length - 1] : entry.cursorMs;
      const countTo = onTime === undefined ? nowMs : onTime - 1;
      total += entry.timeline.countBetween(countFrom, countTo, SKIP_COUNT_CAP);
    }
    candidates.push({ plan: p, listed, total });
    plans.push(p);
  }
  // Round-robin over the triggers, oldest slots first.
  let budget = catchUpBudget;
  const taken = new Map<Plan, number>();
  for (let round = 0; budget > 0; round++) {
    let any = false;
    for (const c of candidates) {
      if (budget === 0) break;
      if (round < c.listed.length) {
        taken.set(c.plan, round + 1);
        budget--;
        any = true;
      }
    }
    if (!any) break;
  }
  for (const c of candidates) {
    const n = taken.get(c.plan) ?? 0;
    // Catch-up slots are older than the on-time slot: fire oldest first.
    c.plan.slots = [...c.listed.slice(0, n).map((ms) => ({ ms, catchUp: true })), ...c.plan.slots];
    const left = c.total - n;
    if (left > 0) {
      c.plan.skipped = left;
      c.plan.firstSkippedMs = n < c.listed.length ? c.listed[n] : c.plan.entry.timeline.nextAfter(c.listed[n - 1] ?? c.plan.entry.cursorMs);
    }
  }
  return plans;
}
