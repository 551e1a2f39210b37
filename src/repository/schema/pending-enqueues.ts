import type { Generated, Insertable, Selectable } from "kysely";
import type { Bytes, TimestampColumn } from "./common.js";

/**
 * Port-only table `pending_enqueues`: an ActionsService.Enqueue request that
 * has not been accepted yet (see src/service/enqueue-retrier.ts).
 * Keyed like `actions`.
 */
export interface PendingEnqueuesTable {
  project: string;
  domain: string;
  run_name: string;
  /** The action's name ("a0" for a run's root action). */
  name: string;
  /** Binary flyteidl2.actions.EnqueueRequest. */
  request: Bytes;
  attempts: Generated<number>;
  next_attempt_at: TimestampColumn;
  last_error: string | null;
  created_at: TimestampColumn;
  updated_at: TimestampColumn;
}

export type PendingEnqueueRow = Selectable<PendingEnqueuesTable>;
export type NewPendingEnqueueRow = Insertable<PendingEnqueuesTable>;
