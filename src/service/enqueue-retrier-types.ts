/** The enqueue retrier's contract: its options, dependencies and interface (implementation: ./enqueue-retrier.ts). */
import type { Logger } from "pino";
import type { ActionRepo } from "../repository/interfaces/action.js";
import type { PendingEnqueueRepo } from "../repository/interfaces/pending-enqueue.js";
import type { Clock } from "../util/clock.js";
import type { ActionsClient } from "./actions-client.js";
import type { Timers } from "../util/backoff.js";
import type { RootEnqueuer } from "./enqueuer.js";

export interface EnqueueRetrierOptions {
  /** First retry delay (ms); default 1 s. */
  initialDelayMs?: number;
  /** Largest retry delay (ms); default 5 min. */
  maxDelayMs?: number;
  /** How long one attempt owns its record (ms); longer than an Enqueue call may take. Default 60 s. */
  leaseMs?: number;
  /** How often the table is scanned for records due soon (ms); default 60 s. */
  scanIntervalMs?: number;
  /** Retries sent at the same time; default 4. */
  concurrency?: number;
  /** Records read per scan; default 1000. */
  scanLimit?: number;
  /**
   * How long the removal of an accepted first attempt's record waits for
   * others to share its DELETE (ms); default 50. A record still there only
   * costs a retry that finds the action taken, and it is kept ≥ leaseMs anyway.
   */
  removalDelayMs?: number;
}

export interface EnqueueRetrierDeps extends EnqueueRetrierOptions {
  pending: PendingEnqueueRepo;
  actions: Pick<ActionRepo, "getAction">;
  /** The executor (ActionsService) client. */
  client: ActionsClient;
  logger: Logger;
  clock?: Clock;
  timers?: Timers;
  /** Uniform [0, 1) source for the jitter. */
  random?: () => number;
  /** Called each time a failed Enqueue is scheduled for another attempt (metrics). */
  onRetry?: () => void;
}

/**
 * `prepare` (RootEnqueuer) is CreateRun's Enqueue, durable as described in
 * ./enqueue-retrier.ts: the record goes into createAction, then `send()` makes
 * the first attempt. A request that names no complete action gets no record
 * (nothing to retry).
 */
export interface EnqueueRetrier extends RootEnqueuer {
  /** Scans for pending records (start-up) and keeps scanning periodically. Idempotent. */
  start(): void;
  /**
   * Stops retrying: timers are cancelled, retries in flight get `graceMs`
   * (default 5 s) before they are cancelled. Records stay for the next start.
   */
  stop(opts?: { graceMs?: number }): Promise<void>;
  /** Resolves once nothing is queued, in flight, being scanned or being removed (waiting retries may remain). */
  whenIdle(): Promise<void>;
  /** Keys ("project/domain/run/action") waiting for a retry timer (tests). */
  waiting(): string[];
  /** Retries queued, waiting for their timer, and in flight now (metrics). */
  backlog(): { queued: number; waitingRetry: number; inFlight: number };
}
