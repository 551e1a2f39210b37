/**
 * Durable ActionsService.Enqueue. The reference only logs a failed Enqueue,
 * so an acknowledged run can stay QUEUED for ever. Here CreateRun's Enqueue
 * goes through `retrier.prepare`:
 *
 * 1. the request is recorded in `pending_enqueues` (claimed by the first
 *    attempt for `leaseMs`) in the same transaction as the run's insert
 *    (ActionRepo.createAction), so no stored run lacks it;
 * 2. `send()` calls the executor; when it accepts (or already has the
 *    action) the record is deleted without making CreateRun wait for that,
 *    the deletions of calls within removalDelayMs grouped into one statement
 *    (src/util/batcher.ts);
 * 3. otherwise the record keeps its next attempt time and `send()` rethrows,
 *    so CreateRun logs the failure and still answers as before.
 *
 * The retrier then retries every record with full-jitter exponential backoff
 * (src/util/backoff.ts, as for aborts) until the executor accepts it, or
 * drops it once the run no longer waits for it: gone, abort requested,
 * terminal, or already picked up by the executor (phase past QUEUED).
 *
 * Restarts and replicas: the record holds the request bytes and the time of
 * the next attempt, so a start-up scan resumes pending retries, and a
 * periodic scan also finds records other (crashed) replicas left behind.
 * Each attempt first claims its record (next attempt time ≤ now, moved to
 * now + lease in one UPDATE), so two replicas never send the same retry at
 * the same time.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { EnqueueRequestSchema, type EnqueueRequest } from "#gen/flyteidl2/actions/actions_service_pb.js";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { NotFoundError } from "../repository/errors.js";
import type { ActionKey } from "../repository/interfaces/action.js";
import { fromEpochMicros, toEpochMicros, type Timestamp } from "../repository/timestamps.js";
import { createBatcher } from "../util/batcher.js";
import { systemClock } from "../util/clock.js";
import type { EnqueueRequestInit } from "./actions-client.js";
import type { PreparedEnqueue } from "./enqueuer.js";
import { fullJitterDelay, realTimers } from "../util/backoff.js";
import type { EnqueueRetrier, EnqueueRetrierDeps } from "./enqueue-retrier-types.js";

export type { EnqueueRetrier, EnqueueRetrierDeps, EnqueueRetrierOptions } from "./enqueue-retrier-types.js";

/** A timer may fire a little before the stored due time; claims accept that much. */
const CLAIM_SLACK_MS = 250;

const DEFAULTS = { initialDelayMs: 1000, maxDelayMs: 300_000, leaseMs: 60_000, scanIntervalMs: 60_000, concurrency: 4, scanLimit: 1000, removalDelayMs: 50 };

function positive(value: number | undefined, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : fallback;
}

function keyString(k: ActionKey): string {
  return `${k.project}/${k.domain}/${k.run}/${k.action}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The action an Enqueue request is about; undefined when the request does not name one completely. */
export function enqueueKey(req: EnqueueRequest): ActionKey | undefined {
  const id = req.action?.actionId;
  const run = id?.run;
  if (!id || !run || !run.project || !run.domain || !run.name || !id.name) return undefined;
  return { project: run.project, domain: run.domain, run: run.name, action: id.name };
}

/** The executor already has the action: as good as accepted. */
function alreadyAccepted(error: unknown): boolean {
  return error instanceof ConnectError && error.code === Code.AlreadyExists;
}

export function createEnqueueRetrier(deps: EnqueueRetrierDeps): EnqueueRetrier {
  const log = deps.logger;
  const clock = deps.clock ?? systemClock();
  const timers = deps.timers ?? realTimers;
  const random = deps.random ?? Math.random;
  const initialDelay = positive(deps.initialDelayMs, DEFAULTS.initialDelayMs);
  const maxDelay = Math.max(initialDelay, positive(deps.maxDelayMs, DEFAULTS.maxDelayMs));
  const leaseMs = positive(deps.leaseMs, DEFAULTS.leaseMs);
  const scanIntervalMs = positive(deps.scanIntervalMs, DEFAULTS.scanIntervalMs);
  const concurrency = Math.floor(positive(deps.concurrency, DEFAULTS.concurrency));
  const scanLimit = Math.floor(positive(deps.scanLimit, DEFAULTS.scanLimit));
  const { pending, actions, client: inner } = deps;

  const at = (ms: number): Timestamp => fromEpochMicros(BigInt(Math.floor(ms)) * 1000n);

  /** Keys queued, in flight or waiting for their timer: never handled twice at once. */
  const known = new Map<string, ActionKey>();
  const retryTimers = new Map<string, unknown>();
  const queue: string[] = [];
  let inFlight = 0;
  let scanning: Promise<void> | undefined;
  let scanTimer: unknown;
  let started = false;
  let stopping = false;
  const cancelCalls = new AbortController();
  const running = new Set<Promise<void>>();
  let idleWaiters: (() => void)[] = [];

  /** Removals of records after a successful first attempt, still running. */
  let removing = 0;
  const isIdle = () => queue.length === 0 && inFlight === 0 && scanning === undefined && removing === 0;
  function checkIdle(): void {
    if (!isIdle()) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Arms the retry timer of `key`. With `replace` (the caller just stored the
   * next attempt time) an armed timer is replaced; without it (a scan) a key
   * already waiting, queued or in flight is left alone.
   */
  function retryLater(key: ActionKey, delayMs: number, replace: boolean): void {
    if (stopping) return;
    const id = keyString(key);
    const armed = retryTimers.get(id);
    if (armed !== undefined) {
      if (!replace) return;
      timers.clearTimeout(armed);
    } else if (known.has(id) && !replace) {
      return;
    }
    known.set(id, key);
    const handle = timers.setTimeout(() => {
      retryTimers.delete(id);
      queue.push(id);
      pump();
    }, Math.max(0, delayMs));
    retryTimers.set(id, handle);
  }

  function pump(): void {
    while (!stopping && inFlight < concurrency && queue.length > 0) {
      const id = queue.shift()!;
      const key = known.get(id);
      if (!key) continue;
      inFlight++;
      const task = attempt(key)
        .catch((error: unknown) => {
          log.error({ action: id, err: describe(error) }, "enqueue retrier error");
        })
        .finally(() => {
          inFlight--;
          running.delete(task);
          // Done unless the attempt scheduled another retry.
          if (!retryTimers.has(id)) known.delete(id);
          pump();
          checkIdle();
        });
      running.add(task);
    }
    checkIdle();
  }

  async function drop(key: ActionKey, why: string, fields: Record<string, unknown> = {}): Promise<void> {
    try {
      await pending.remove(key);
      log.info({ action: keyString(key), ...fields }, why);
    } catch (error) {
      log.error({ action: keyString(key), err: describe(error) }, "failed to remove a pending enqueue record");
    }
  }

  /** Stores the next attempt time after a failure and arms the timer. */
  async function reschedule(key: ActionKey, attemptNo: number, error: unknown): Promise<void> {
    const delay = fullJitterDelay(attemptNo, initialDelay, maxDelay, random);
    const nextMs = clock.nowMs() + delay;
    try {
      await pending.reschedule(key, at(nextMs), describe(error));
    } catch (dbError) {
      // The lease still protects the record; it is tried again when this timer or a scan comes round.
      log.error({ action: keyString(key), err: describe(dbError) }, "failed to store the next enqueue attempt");
    }
    retryLater(key, delay, true);
    deps.onRetry?.();
    log.warn(
      { action: keyString(key), attempt: attemptNo, retryInMs: delay, retryAt: new Date(nextMs).toISOString(), err: describe(error) },
      "enqueue failed; will retry",
    );
  }

  /** One retry of a recorded enqueue. */
  async function attempt(key: ActionKey): Promise<void> {
    const id = keyString(key);
    const nowMs = clock.nowMs();
    let claimed;
    try {
      claimed = await pending.claim(key, at(nowMs + CLAIM_SLACK_MS), at(nowMs + leaseMs));
    } catch (error) {
      log.error({ action: id, err: describe(error) }, "failed to claim a pending enqueue; will retry");
      retryLater(key, initialDelay, true);
      return;
    }
    if (!claimed) {
      // Gone (accepted or dropped elsewhere) or claimed by another replica: a later scan sees what is left.
      log.debug({ action: id }, "pending enqueue not due or gone; skipping");
      return;
    }

    let row;
    try {
      row = await actions.getAction(key);
    } catch (error) {
      if (error instanceof NotFoundError) {
        await drop(key, "run no longer exists; dropping its pending enqueue");
        return;
      }
      await reschedule(key, claimed.attempt, error);
      return;
    }
    if (row.abort_requested_at !== null || row.phase > ActionPhase.QUEUED) {
      const phase = ActionPhase[row.phase] ?? String(row.phase);
      await drop(key, "run no longer waits to be enqueued (aborted, terminal or picked up); dropping its pending enqueue", {
        phase,
        abortRequested: row.abort_requested_at !== null,
      });
      return;
    }

    let request: EnqueueRequest;
    try {
      request = fromBinary(EnqueueRequestSchema, claimed.request);
    } catch (error) {
      await drop(key, "stored enqueue request does not decode; dropping it", { err: describe(error) });
      return;
    }
    try {
      await inner.enqueue(request, { signal: cancelCalls.signal });
    } catch (error) {
      if (alreadyAccepted(error)) {
        await drop(key, "executor already has the action; pending enqueue done", { attempt: claimed.attempt });
        return;
      }
      if (stopping && cancelCalls.signal.aborted) {
        // Cancelled by shutdown: due again at once for the next start (or another replica).
        await pending.reschedule(key, at(clock.nowMs()), describe(error)).catch(() => undefined);
        return;
      }
      await reschedule(key, claimed.attempt, error);
      return;
    }
    await drop(key, "enqueue retried: accepted by the executor", { attempt: claimed.attempt });
  }

  function scan(): void {
    if (scanning || stopping) return;
    scanning = (async () => {
      try {
        const nowMs = clock.nowMs();
        const rows = await pending.listDue(at(nowMs + scanIntervalMs), scanLimit);
        let scheduled = 0;
        for (const row of rows) {
          const key: ActionKey = { project: row.project, domain: row.domain, run: row.run_name, action: row.name };
          if (known.has(keyString(key))) continue;
          const dueMs = Number(toEpochMicros(row.next_attempt_at) / 1000n);
          retryLater(key, Math.max(0, dueMs - nowMs), false);
          scheduled++;
        }
        if (scheduled > 0) log.info({ found: rows.length, scheduled }, "resuming pending enqueues");
      } catch (error) {
        log.error({ err: describe(error) }, "scan for pending enqueues failed");
      } finally {
        scanning = undefined;
        checkIdle();
      }
    })();
  }

  function armScan(): void {
    if (stopping) return;
    scanTimer = timers.setTimeout(() => {
      scanTimer = undefined;
      scan();
      armScan();
    }, scanIntervalMs);
  }

  // Removals after a successful first attempt: those of the next removalDelayMs share one statement
  // (at one CreateRun in flight, a DELETE per run would cost as much as the run's own INSERT).
  const removalDelayMs = deps.removalDelayMs !== undefined && deps.removalDelayMs >= 0 ? deps.removalDelayMs : DEFAULTS.removalDelayMs;
  const removeBatch = createBatcher<ActionKey>((keys) => pending.removeMany(keys), 500, removalDelayMs);

  function forgetAccepted(key: ActionKey): void {
    // Not awaited by CreateRun: its answer does not depend on it, and a
    // record left behind only costs a retry that finds the run picked up.
    removing++;
    const removal = removeBatch
      .add(key)
      .catch((error: unknown) => {
        log.warn({ action: keyString(key), err: describe(error) }, "failed to remove the pending enqueue record after success");
      })
      .finally(() => {
        removing--;
        running.delete(removal);
        checkIdle();
      });
    running.add(removal);
  }

  function prepare(init: EnqueueRequestInit): PreparedEnqueue {
    const request = create(EnqueueRequestSchema, init);
    const key = enqueueKey(request);
    if (!key) return { record: undefined, send: (opts) => inner.enqueue(request, opts) };
    return {
      record: { request: toBinary(EnqueueRequestSchema, request), leaseUntil: at(clock.nowMs() + leaseMs) },
      async send(opts) {
        try {
          await inner.enqueue(request, opts);
        } catch (error) {
          if (alreadyAccepted(error)) {
            await drop(key, "executor already has the action; pending enqueue done");
            return;
          }
          await reschedule(key, 1, error);
          throw error;
        }
        forgetAccepted(key);
      },
    };
  }

  return {
    prepare,

    start() {
      if (started || stopping) return;
      started = true;
      log.info({ scanIntervalMs, initialDelayMs: initialDelay, maxDelayMs: maxDelay }, "enqueue retrier starting");
      scan();
      armScan();
    },

    async stop(opts) {
      if (!stopping) {
        stopping = true;
        if (scanTimer !== undefined) timers.clearTimeout(scanTimer);
        for (const [id, handle] of retryTimers) {
          timers.clearTimeout(handle);
          known.delete(id);
        }
        retryTimers.clear();
        for (const id of queue) known.delete(id);
        queue.length = 0;
      }
      const grace = opts?.graceMs ?? 5000;
      const cancelTimer = setTimeout(() => cancelCalls.abort(), grace);
      cancelTimer.unref?.();
      try {
        await Promise.all([...running]);
        await scanning;
      } finally {
        clearTimeout(cancelTimer);
      }
      checkIdle();
      log.info("enqueue retrier stopped");
    },

    whenIdle() {
      if (isIdle()) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },

    waiting() {
      return [...retryTimers.keys()];
    },

    backlog() {
      return { queued: queue.length, waitingRetry: retryTimers.size, inFlight };
    },
  };
}
