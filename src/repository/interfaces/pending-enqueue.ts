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

/** One request to record: see PendingEnqueueRepo.record. */
export interface PendingEnqueueRecord {
  key: ActionKey;
  /** Binary flyteidl2.actions.EnqueueRequest. */
  request: Uint8Array;
  leaseUntil: Timestamp;
}

/**
 * Enqueue requests not yet accepted by the executor, kept so that they are
 * retried across restarts and replicas. Every method is one statement
 * (removeMany: one per 200 keys).
 */
export interface PendingEnqueueRepo {
  /**
   * Stores (or replaces) the request of `key` as claimed by the caller until
   * `leaseUntil`, with its attempt count at 1: CreateRun records it before
   * its own first attempt, and nobody else picks it up during that attempt.
   */
  record(key: ActionKey, request: Uint8Array, leaseUntil: Timestamp): Promise<void>;
  /** record() of many requests in one statement (distinct keys). */
  recordMany(records: readonly PendingEnqueueRecord[]): Promise<void>;
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
