import type { PendingEnqueueRow } from "../schema/pending-enqueues.js";
import type { Timestamp } from "../timestamps.js";
import type { ActionKey } from "./action.js";

/** A pending enqueue claimed for one attempt. */
export interface ClaimedEnqueue {
  /** Binary flyteidl2.actions.EnqueueRequest. */
  request: Uint8Array;
  /** The number of this attempt (1 = CreateRun's own). */
  attempt: number;
}

/**
 * A request to record for an action, claimed by its first attempt until
 * `leaseUntil` (attempt count 1), so nobody else sends it meanwhile. Stored
 * with the action itself (ActionRepo.createAction's `pendingEnqueue`) or
 * alone (PendingEnqueueRepo.record).
 */
export interface PendingEnqueueInit {
  /** Binary flyteidl2.actions.EnqueueRequest. */
  request: Uint8Array;
  leaseUntil: Timestamp;
}

/**
 * Enqueue requests not yet accepted by the executor, kept so that they are
 * retried across restarts and replicas. Every method is one statement
 * (removeMany: one per 200 keys). CreateRun's records are written with the
 * run (ActionRepo.createAction).
 */
export interface PendingEnqueueRepo {
  /** Stores (or replaces) the request of `key` as described at PendingEnqueueInit. */
  record(key: ActionKey, init: PendingEnqueueInit): Promise<void>;
  /**
   * Claims the next attempt when the row is due (next_attempt_at ≤ now):
   * bumps the attempt count and moves next_attempt_at to `leaseUntil`.
   * Undefined when the row is gone or not due (another replica holds it).
   */
  claim(key: ActionKey, now: Timestamp, leaseUntil: Timestamp): Promise<ClaimedEnqueue | undefined>;
  /** After a failed attempt: the next attempt is due at `nextAttemptAt`. */
  reschedule(key: ActionKey, nextAttemptAt: Timestamp, lastError: string): Promise<void>;
  /** Forgets the request (accepted, or no longer wanted). */
  remove(key: ActionKey): Promise<void>;
  /** remove() of many keys at once. */
  removeMany(keys: readonly ActionKey[]): Promise<void>;
  /** Rows due at or before `before` (all rows when undefined), earliest first, at most `limit`. */
  listDue(before: Timestamp | undefined, limit: number): Promise<PendingEnqueueRow[]>;
}
