/**
 * Drives requested aborts to the executor. AbortRun/AbortAction mark the row
 * (abort_requested_at, reason) and push it here; workers then call
 * ActionsService.Abort until it is accepted, retrying with full-jitter
 * exponential backoff, and clear the request when done or when giving up.
 * The pending state lives in the database, so aborts survive restarts: the
 * start-up scan pushes every row that still has a request.
 *
 * The in-memory queue is bounded and de-duplicated by action: a key that is
 * queued, being processed or waiting for its retry is not pushed again. When
 * the queue is full the push is dropped (never blocks the caller) and the
 * database is scanned again once the queue has drained, so nothing is lost.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { AbortReconcilerConfig } from "../config/index.js";
import { NotFoundError } from "../repository/errors.js";
import type { ActionKey, ActionRepo } from "../repository/interfaces/action.js";
import { systemClock, type Clock } from "../util/clock.js";
import type { ActionsClient } from "./actions-client.js";
import { fullJitterDelay, realTimers, type Timers } from "../util/backoff.js";

export interface AbortTarget extends ActionKey {
  /** Org of the request, passed on to the executor ("" when unknown, e.g. after a restart). */
  org?: string;
}

export interface AbortReconcilerDeps {
  actions: Pick<ActionRepo, "listPendingAborts" | "markAbortAttempt" | "clearAbortRequest">;
  client: ActionsClient;
  config: AbortReconcilerConfig;
  logger: Logger;
  clock?: Clock;
  /** Timers for retry delays (tests pass controllable ones). */
  timers?: Timers;
  /** Uniform [0, 1) source for the jitter. */
  random?: () => number;
  /** Called each time a failed abort is scheduled for another attempt (metrics). */
  onRetry?: () => void;
}

export interface AbortReconciler {
  /** Starts the workers, then scans the database for pending aborts. Idempotent. */
  start(): void;
  /**
   * Queues an abort. Returns false when the action is already queued, in
   * progress or waiting for a retry, when the queue is full (it will be
   * picked up by a later scan), or after stop().
   */
  push(target: AbortTarget, reason: string): boolean;
  /**
   * Stops taking work, cancels pending retries and waits for the calls in
   * flight. After `graceMs` in-flight executor calls are cancelled. Pending
   * requests stay in the database for the next start.
   */
  stop(opts?: { graceMs?: number }): Promise<void>;
  /** Resolves once nothing is queued, in flight or waiting for a retry (tests). */
  whenIdle(): Promise<void>;
  /** Aborts queued, waiting for a retry timer, and in flight now (metrics). */
  backlog(): { queued: number; waitingRetry: number; inFlight: number };
}

const DEFAULTS: AbortReconcilerConfig = { workers: 5, maxAttempts: 10, queueSize: 1000, initialDelay: 1000, maxDelay: 300_000 };

/** Non-positive settings fall back to the defaults, as in the reference. */
export function effectiveAbortConfig(config: Partial<AbortReconcilerConfig>): AbortReconcilerConfig {
  const pick = (k: keyof AbortReconcilerConfig) => {
    const v = config[k];
    return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : DEFAULTS[k];
  };
  return {
    workers: Math.floor(pick("workers")),
    maxAttempts: Math.floor(pick("maxAttempts")),
    queueSize: Math.floor(pick("queueSize")),
    initialDelay: pick("initialDelay"),
    maxDelay: pick("maxDelay"),
  };
}

/** The executor reports an action that no longer exists: nothing left to abort. */
export function isAlreadyTerminated(error: unknown): boolean {
  if (!(error instanceof ConnectError)) return false;
  if (error.code === Code.NotFound) return true;
  // Kubernetes "not found" errors come back wrapped as Internal.
  return error.code === Code.Internal && error.rawMessage.includes("not found");
}

interface Task {
  target: AbortTarget;
  reason: string;
  key: string;
}

function keyOf(t: ActionKey): string {
  return `${t.project}/${t.domain}/${t.run}/${t.action}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function createAbortReconciler(deps: AbortReconcilerDeps): AbortReconciler {
  const cfg = effectiveAbortConfig(deps.config);
  const log = deps.logger;
  const clock = deps.clock ?? systemClock();
  const timers = deps.timers ?? realTimers;
  const random = deps.random ?? Math.random;
  const { actions, client } = deps;

  const queue: Task[] = [];
  /** Keys queued, in progress or waiting for a retry. */
  const keys = new Set<string>();
  const retryTimers = new Map<string, unknown>();
  let wakeWorkers: (() => void)[] = [];
  let idleWaiters: (() => void)[] = [];
  let inFlight = 0;
  let started = false;
  let stopping = false;
  let rescanNeeded = false;
  let scanning: Promise<void> | undefined;
  const workers: Promise<void>[] = [];
  const cancelCalls = new AbortController();

  const isIdle = () => queue.length === 0 && inFlight === 0 && retryTimers.size === 0 && scanning === undefined;
  const checkIdle = () => {
    if (!isIdle()) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };
  const wakeOne = () => wakeWorkers.shift()?.();
  const wakeAll = () => {
    const w = wakeWorkers;
    wakeWorkers = [];
    for (const f of w) f();
  };

  function enqueue(task: Task): boolean {
    if (stopping || keys.has(task.key)) return false;
    if (queue.length >= cfg.queueSize) {
      if (!rescanNeeded) log.warn({ action: task.key, queueSize: cfg.queueSize }, "abort queue full; will rescan pending aborts once it drains");
      rescanNeeded = true;
      return false;
    }
    keys.add(task.key);
    queue.push(task);
    wakeOne();
    return true;
  }

  function release(key: string): void {
    keys.delete(key);
  }

  function retryLater(task: Task, delayMs: number): void {
    if (stopping) {
      release(task.key);
      return;
    }
    const handle = timers.setTimeout(() => {
      retryTimers.delete(task.key);
      release(task.key);
      enqueue(task);
      checkIdle();
    }, delayMs);
    retryTimers.set(task.key, handle);
  }

  async function clear(task: Task): Promise<void> {
    try {
      await actions.clearAbortRequest(task.target);
    } catch (error) {
      log.error({ action: task.key, err: describe(error) }, "failed to clear abort request");
    }
  }

  async function processTask(task: Task): Promise<void> {
    let attempt: number;
    try {
      attempt = await actions.markAbortAttempt(task.target);
    } catch (error) {
      if (error instanceof NotFoundError) {
        log.warn({ action: task.key }, "action to abort no longer exists; dropping");
        release(task.key);
        return;
      }
      // The row is authoritative; try again later without counting an attempt.
      log.error({ action: task.key, err: describe(error) }, "failed to record abort attempt; retrying");
      retryLater(task, cfg.initialDelay);
      return;
    }

    let failure: unknown;
    try {
      const { org = "", project, domain, run, action } = task.target;
      await client.abort(
        { actionId: { run: { org, project, domain, name: run }, name: action }, reason: task.reason },
        { signal: cancelCalls.signal },
      );
    } catch (error) {
      failure = error;
    }

    if (failure === undefined || isAlreadyTerminated(failure)) {
      await clear(task);
      release(task.key);
      log.info(
        { action: task.key, attempt, alreadyGone: failure !== undefined },
        "abort sent to the executor",
      );
      return;
    }
    if (stopping && cancelCalls.signal.aborted) {
      // Cancelled by shutdown: the request stays pending for the next start.
      release(task.key);
      return;
    }
    if (attempt >= cfg.maxAttempts) {
      log.error(
        { action: task.key, attempt, err: describe(failure) },
        "giving up on abort after the maximum number of attempts; manual intervention may be required",
      );
      await clear(task);
      release(task.key);
      return;
    }
    const delay = fullJitterDelay(attempt, cfg.initialDelay, cfg.maxDelay, random);
    log.warn(
      { action: task.key, attempt, maxAttempts: cfg.maxAttempts, retryInMs: delay, retryAt: new Date(clock.nowMs() + delay).toISOString(), err: describe(failure) },
      "abort failed; will retry",
    );
    deps.onRetry?.();
    retryLater(task, delay);
  }

  function scan(): void {
    if (scanning || stopping) return;
    rescanNeeded = false;
    scanning = (async () => {
      try {
        const rows = await actions.listPendingAborts();
        let queued = 0;
        for (const row of rows) {
          const target: AbortTarget = { project: row.project, domain: row.domain, run: row.run_name, action: row.name };
          if (enqueue({ target, reason: row.abort_reason ?? "", key: keyOf(target) })) queued++;
        }
        if (rows.length > 0) log.info({ pending: rows.length, queued }, "resuming pending aborts");
      } catch (error) {
        log.error({ err: describe(error) }, "scan for pending aborts failed");
      } finally {
        scanning = undefined;
        checkIdle();
      }
    })();
  }

  async function worker(): Promise<void> {
    while (!stopping) {
      const task = queue.shift();
      if (!task) {
        if (rescanNeeded && inFlight === 0) scan();
        checkIdle();
        await new Promise<void>((resolve) => wakeWorkers.push(resolve));
        continue;
      }
      inFlight++;
      try {
        await processTask(task);
      } catch (error) {
        // processTask handles its own failures; this is a last resort.
        release(task.key);
        log.error({ action: task.key, err: describe(error) }, "abort worker error");
      } finally {
        inFlight--;
      }
    }
  }

  return {
    start() {
      if (started || stopping) return;
      started = true;
      log.info({ workers: cfg.workers, maxAttempts: cfg.maxAttempts }, "abort reconciler starting");
      for (let i = 0; i < cfg.workers; i++) workers.push(worker());
      scan();
    },

    push(target, reason) {
      const ok = enqueue({ target, reason, key: keyOf(target) });
      if (ok && !started) log.debug({ action: keyOf(target) }, "abort queued before the reconciler started");
      return ok;
    },

    async stop(opts) {
      if (stopping) {
        await Promise.all(workers);
        return;
      }
      stopping = true;
      for (const handle of retryTimers.values()) timers.clearTimeout(handle);
      for (const key of retryTimers.keys()) keys.delete(key);
      retryTimers.clear();
      queue.length = 0;
      wakeAll();
      const grace = opts?.graceMs ?? 5000;
      const cancelTimer = setTimeout(() => cancelCalls.abort(), grace);
      cancelTimer.unref?.();
      try {
        await Promise.all(workers);
        await scanning;
      } finally {
        clearTimeout(cancelTimer);
      }
      checkIdle();
      log.info("abort reconciler stopped");
    },

    whenIdle() {
      if (isIdle()) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },

    backlog() {
      return { queued: queue.length, waitingRetry: retryTimers.size, inFlight };
    },
  };
}
