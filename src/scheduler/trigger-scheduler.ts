/**
 * The trigger scheduler: fires a run for every slot of every active
 * schedule trigger, through the same CreateRun logic the RPC uses.
 *
 * One loop, one pass at a time:
 * 1. Resync (at start, then every `resyncInterval`): reload the active
 *    schedule triggers. New ones are registered, ones with a new revision
 *    (redeploy, re-activation) are registered afresh, vanished ones
 *    (deactivated, deleted) are dropped.
 * 2. Plan the pass (./plan.ts): each trigger's due slots; the latest one is
 *    on time, the others are catch-up, capped by `maxCatchupRunsPerLoop`
 *    per pass across all triggers.
 * 3. Before firing, the trigger is read again: deleted, deactivated or
 *    changed triggers are not fired from a stale copy.
 * 4. Each fire waits for a token (`executionQps`, `executionBurst`), then
 *    calls CreateRun with the deterministic run name of the slot. CreateRun
 *    returns the existing run for a known name, so a restart or a second
 *    replica never creates a second run for a slot.
 * 5. Sleep until the next slot, retry or resync, whichever comes first.
 *
 * Failures never end the loop: a failed trigger listing is retried with
 * backoff, a fire that failed for a transient reason (database or executor
 * unavailable) is retried with backoff, other failures are retried a few
 * times and then the slot is given up (logged).
 *
 * Differences from the reference (see PORT_MAP §9, decision D10/D11): the
 * cron time zone is honoured; a new or re-activated trigger first fires at
 * its next slot, not at once; every catch-up is capped, not only the one at
 * start-up; fixed-rate/@every grids are anchored on stored times; a failed
 * start-up listing does not stop the process; fired runs carry the trigger's
 * inputs and run spec.
 */
import type { Logger } from "pino";
import { NotFoundError } from "../repository/errors.js";
import type { TriggerKey } from "../repository/interfaces/trigger.js";
import { sqlBool, type TriggerRow } from "../repository/schema/index.js";
import { fullJitterDelay, realTimers } from "../util/backoff.js";
import { systemClock } from "../util/clock.js";
import { defaultIsTransientError, isPermanentError } from "./fire-errors.js";
import { scheduledRunRequest } from "./run-request.js";
import { planPass, type Entry, type Plan } from "./plan.js";
import { createRegistry } from "./registry.js";

export { triggerKeyString } from "./registry.js";
import { createTokenBucket, type TokenBucket } from "./token-bucket.js";
import type { PassResult, TriggerScheduler, TriggerSchedulerDeps } from "./scheduler-types.js";

export type { CreateRunFn } from "./in-process.js";
export { defaultIsTransientError } from "./fire-errors.js";

export type { FiredSlot, PassResult, TriggerScheduler, TriggerSchedulerDeps } from "./scheduler-types.js";

const DEFAULT_QPS = 10;
const DEFAULT_BURST = 20;
/** Backoff of retried fires and listings: from 1 s up to the resync interval. */
const RETRY_INITIAL_MS = 1000;
/** Non-transient failures of one slot are tried this many times. */
const MAX_SLOT_ATTEMPTS = 3;
/** setTimeout's largest delay. */
const MAX_SLEEP_MS = 2 ** 31 - 1;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function keyOf(row: TriggerRow): TriggerKey {
  return { project: row.project, domain: row.domain, taskName: row.task_name, name: row.name };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Non-positive rates fall back to the defaults (a zero-rate bucket would never fire). */
function effectiveRate(config: TriggerSchedulerDeps["config"], log: Logger): { qps: number; burst: number } {
  let qps = config.executionQps;
  let burst = Math.floor(config.executionBurst);
  if (!(qps > 0) || !Number.isFinite(qps)) {
    log.warn({ executionQps: qps, using: DEFAULT_QPS }, "executionQps must be positive; using the default");
    qps = DEFAULT_QPS;
  }
  if (!(burst >= 1)) {
    log.warn({ executionBurst: config.executionBurst, using: DEFAULT_BURST }, "executionBurst must be at least 1; using the default");
    burst = DEFAULT_BURST;
  }
  return { qps, burst };
}

export function createTriggerScheduler(deps: TriggerSchedulerDeps): TriggerScheduler {
  const log = deps.logger;
  const clock = deps.clock ?? systemClock();
  const timers = deps.timers ?? realTimers;
  const random = deps.random ?? Math.random;
  const isTransient = deps.isTransientError ?? defaultIsTransientError;
  const { config } = deps;
  const resyncMs = Math.max(1, config.resyncInterval);
  const catchUpBudget = Math.max(0, Math.floor(config.maxCatchupRunsPerLoop));
  const rate = effectiveRate(config, log);
  const bucket: TokenBucket = createTokenBucket({ ratePerSecond: rate.qps, burst: rate.burst, nowMs: () => clock.nowMs() });

  const registry = createRegistry(log);
  let nextResyncAtMs: number | undefined;
  let listFailures = 0;
  /** Set when a pass re-registered a trigger: run another pass right away. */
  let passAgain = false;

  let started = false;
  let stopping = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let sleeping = false;
  let idleWaiters: (() => void)[] = [];
  let passInFlight: Promise<PassResult> | undefined;

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const handle = timers.setTimeout(() => {
        wake = undefined;
        resolve();
      }, Math.min(MAX_SLEEP_MS, Math.max(0, ms)));
      wake = () => {
        timers.clearTimeout(handle);
        wake = undefined;
        resolve();
      };
    });
  }

  function notifyIdle(): void {
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }

  async function resync(nowMs: number): Promise<void> {
    let rows: TriggerRow[];
    try {
      rows = await deps.source.listActiveSchedules();
    } catch (error) {
      listFailures++;
      const delay = fullJitterDelay(listFailures, RETRY_INITIAL_MS, resyncMs, random);
      nextResyncAtMs = nowMs + Math.max(1, delay);
      log.error({ err: describe(error), attempt: listFailures, retryInMs: delay }, "failed to list active schedule triggers; keeping the current schedule");
      return;
    }
    listFailures = 0;
    nextResyncAtMs = nowMs + resyncMs;
    registry.reconcile(rows, nowMs);
    log.debug({ active: rows.length, registered: registry.size() }, "trigger schedules synced");
  }

  // --- firing ---------------------------------------------------------------

  /** Waits for a rate-limit token; false when stopping interrupted the wait. */
  async function takeToken(): Promise<boolean> {
    const wait = bucket.reserve();
    if (wait > 0) {
      await sleep(wait);
      if (stopping) {
        bucket.release();
        return false;
      }
    }
    return !stopping;
  }

  function failed(entry: Entry, slotMs: number, error: unknown, nowMs: number): void {
    entry.failures++;
    if (isTransient(error)) {
      const delay = fullJitterDelay(entry.failures, RETRY_INITIAL_MS, Math.max(RETRY_INITIAL_MS, resyncMs), random);
      entry.retryAtMs = nowMs + Math.max(1, delay);
      log.warn(
        { trigger: entry.key, slot: iso(slotMs), attempt: entry.failures, retryInMs: delay, err: describe(error) },
        "scheduled run not created (transient); will retry",
      );
      return;
    }
    entry.slotAttempts++;
    if (isPermanentError(error) || entry.slotAttempts >= MAX_SLOT_ATTEMPTS) {
      log.error(
        { trigger: entry.key, slot: iso(slotMs), attempts: entry.slotAttempts, err: describe(error) },
        "scheduled run could not be created; giving up on this slot",
      );
      entry.cursorMs = slotMs;
      entry.slotAttempts = 0;
      entry.retryAtMs = undefined;
      return;
    }
    const delay = fullJitterDelay(entry.failures, RETRY_INITIAL_MS, Math.max(RETRY_INITIAL_MS, resyncMs), random);
    entry.retryAtMs = nowMs + Math.max(1, delay);
    log.warn(
      { trigger: entry.key, slot: iso(slotMs), attempt: entry.slotAttempts, retryInMs: delay, err: describe(error) },
      "scheduled run not created; will retry",
    );
  }

  /** Reads the trigger again; returns the row to fire from, or undefined when this entry must not fire. */
  async function freshRow(entry: Entry, nowMs: number, firstSlotMs: number): Promise<TriggerRow | undefined> {
    let row: TriggerRow;
    try {
      row = await deps.triggers.get(keyOf(entry.row));
    } catch (error) {
      if (error instanceof NotFoundError) {
        registry.remove(entry, "trigger unregistered (deleted)");
        return undefined;
      }
      failed(entry, firstSlotMs, error, nowMs);
      return undefined;
    }
    if (!sqlBool(row.active) || row.automation_type !== "TYPE_SCHEDULE") {
      registry.remove(entry, "trigger unregistered (deactivated)");
      return undefined;
    }
    if (row.latest_revision !== entry.row.latest_revision) {
      registry.replace(entry, row, nowMs);
      passAgain = true;
      return undefined;
    }
    return row;
  }

  async function firePlan(p: Plan, nowMs: number, result: PassResult): Promise<void> {
    const { entry } = p;
    if (p.slots.length > 0) {
      const row = await freshRow(entry, nowMs, p.slots[0].ms);
      if (!row) return;
      if (!(await fireSlots(entry, row, p.slots, result))) return;
    }
    if (p.skipped > 0) {
      result.skipped += p.skipped;
      deps.onMissedSlots?.(p.skipped);
      log.warn(
        {
          trigger: entry.key,
          skipped: p.skipped,
          from: p.firstSkippedMs === undefined ? undefined : iso(p.firstSkippedMs),
          through: iso(p.endMs),
          maxCatchupRunsPerLoop: catchUpBudget,
        },
        "missed slots skipped: catch-up budget of this pass used up",
      );
    }
    entry.cursorMs = Math.max(entry.cursorMs, p.endMs);
  }

  /** Fires the slots in order; false when it stopped early (a retry is pending, or stopping). */
  async function fireSlots(entry: Entry, row: TriggerRow, slots: Plan["slots"], result: PassResult): Promise<boolean> {
    for (const slot of slots) {
      if (stopping || !(await takeToken())) return false;
      try {
        const request = scheduledRunRequest(row, slot.ms);
        const requested = request.id.case === "runId" ? request.id.value.name : "";
        const run = await deps.createRun(request);
        const name = run.action?.id?.run?.name || requested;
        entry.cursorMs = slot.ms;
        entry.failures = 0;
        entry.slotAttempts = 0;
        entry.retryAtMs = undefined;
        result.fired.push({ trigger: entry.key, slot: iso(slot.ms), run: name, catchUp: slot.catchUp });
        log.info(
          { trigger: entry.key, revision: row.latest_revision, slot: iso(slot.ms), run: name, catchUp: slot.catchUp },
          "scheduled run fired",
        );
      } catch (error) {
        result.failed++;
        failed(entry, slot.ms, error, clock.nowMs());
        // Not given up: retry this slot later, keeping the order of the slots.
        if (entry.cursorMs < slot.ms) return false;
      }
    }
    return !stopping;
  }

  async function pass(opts: { resync?: boolean } = {}): Promise<PassResult> {
    const result: PassResult = { fired: [], skipped: 0, failed: 0 };
    let nowMs = clock.nowMs();
    if (opts.resync || nextResyncAtMs === undefined || nowMs >= nextResyncAtMs) {
      await resync(nowMs);
      nowMs = clock.nowMs();
    }
    passAgain = false;
    const plans = planPass(registry.entries(), nowMs, catchUpBudget);
    for (const p of plans) {
      if (stopping) break;
      // The entry may have been replaced or dropped meanwhile.
      if (!registry.holds(p.entry)) continue;
      try {
        await firePlan(p, nowMs, result);
      } catch (error) {
        // Unexpected (each step handles its own failures): back off so the loop cannot spin on it.
        log.error({ trigger: p.entry.key, err: describe(error) }, "scheduler error while firing a trigger");
        p.entry.failures++;
        p.entry.retryAtMs = clock.nowMs() + Math.max(RETRY_INITIAL_MS, fullJitterDelay(p.entry.failures, RETRY_INITIAL_MS, resyncMs, random));
      }
    }
    return result;
  }

  function runPass(opts?: { resync?: boolean }): Promise<PassResult> {
    // Never two passes at once (the loop and a test or a second caller).
    const previous = passInFlight ?? Promise.resolve(undefined);
    const current = previous.then(() => pass(opts), () => pass(opts));
    passInFlight = current;
    return current.finally(() => {
      if (passInFlight === current) passInFlight = undefined;
    });
  }

  function computeNextWake(): number | undefined {
    if (nextResyncAtMs === undefined) return undefined;
    let wakeAt = nextResyncAtMs;
    for (const entry of registry.entries()) {
      const at = entry.retryAtMs ?? entry.timeline.nextAfter(entry.cursorMs);
      if (at !== undefined && at < wakeAt) wakeAt = at;
    }
    return wakeAt;
  }

  async function run(): Promise<void> {
    log.info(
      { resyncIntervalMs: resyncMs, maxCatchupRunsPerLoop: catchUpBudget, executionQps: rate.qps, executionBurst: rate.burst },
      "trigger scheduler starting",
    );
    let first = true;
    while (!stopping) {
      try {
        await runPass({ resync: first });
      } catch (error) {
        log.error({ err: describe(error) }, "trigger scheduler pass failed");
      }
      first = false;
      if (stopping) break;
      if (passAgain) continue;
      const wakeAt = computeNextWake() ?? clock.nowMs() + resyncMs;
      sleeping = true;
      notifyIdle();
      await sleep(wakeAt - clock.nowMs());
      sleeping = false;
    }
    log.info("trigger scheduler stopped");
  }

  return {
    start() {
      if (started || stopping) return;
      started = true;
      loop = run().finally(() => {
        sleeping = false;
        notifyIdle();
      });
    },

    async stop() {
      stopping = true;
      wake?.();
      await loop;
      await passInFlight?.catch(() => undefined);
    },

    runPass,

    registered() {
      return [...registry.entries()].map((e) => `${e.key}@${e.row.latest_revision}`);
    },

    nextWakeMs: computeNextWake,

    whenIdle() {
      if (!loop || sleeping) return Promise.resolve();
      if (stopping) return loop;
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
