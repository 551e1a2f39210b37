import type { PendingEnqueueInit } from "./pending-enqueue.js";
import type { ActionEventRow, ActionRow, NewActionEventRow, NewActionRow } from "../schema/index.js";
import type { Timestamp } from "../timestamps.js";
import type { Page, PageRequest } from "./common.js";

/** project/domain/run: identifies a run (its root action). */
export interface RunKey {
  project: string;
  domain: string;
  run: string;
}

/** project/domain/run/action. */
export interface ActionKey extends RunKey {
  action: string;
}

/** Which runs a ListRuns call covers (the request's scope_by). */
export type RunScope =
  | { kind: "all" }
  | { kind: "project"; project: string; domain: string }
  | { kind: "trigger"; project: string; domain: string; taskName: string; triggerName: string }
  | { kind: "taskName"; project: string; domain: string; taskName: string }
  | { kind: "taskId"; project: string; domain: string; taskName: string; taskVersion: string };

export interface PhaseUpdate {
  phase: number;
  attempts: number;
  cacheStatus: number;
  /** When the action ended; ended_at is only ever set once (the first terminal time). */
  endTime?: Timestamp;
}

/** Position in listEventsAfter: the last event already read. */
export interface EventCursor {
  updatedAt: Timestamp;
  phase: number;
  version: number;
}

export interface CreateActionResult {
  row: ActionRow;
  /** False when the row already existed (the stored row is returned unchanged). */
  inserted: boolean;
}

/**
 * Runs and actions (a run is the root action, parent_action_name NULL) and
 * their events. Every write that watchers must see publishes on the EventBus
 * after it commits (see src/events/bus.ts and PORT_MAP 2.5).
 */
/** What abortRun / abortAction did. */
export interface AbortOutcome {
  /** The row after the call (unchanged when `aborted` is false). */
  row: ActionRow;
  /** False when the row was already finished (SUCCEEDED, FAILED, ABORTED, TIMED_OUT): nothing was written. */
  aborted: boolean;
}

export interface ActionRepo {
  /**
   * Inserts the action unless (project, domain, run_name, name) exists; the
   * stored row is returned either way. Only when the row is new, and in the
   * same transaction: `markTriggered` sets that trigger's triggered_at, and
   * `pendingEnqueue` records the action's Enqueue request in pending_enqueues
   * (see PendingEnqueueRepo), so a stored run always has its Enqueue either
   * accepted or recorded for a retry.
   */
  createAction(
    row: NewActionRow,
    opts?: { markTriggered?: { project: string; domain: string; taskName: string; name: string }; pendingEnqueue?: PendingEnqueueInit },
  ): Promise<CreateActionResult>;
  /** The run's root row; NotFoundError ("run not found: p/d/r") when absent. */
  getRun(key: RunKey): Promise<ActionRow>;
  /** getRun, but undefined instead of NotFoundError when there is no such run. */
  findRun(key: RunKey): Promise<ActionRow | undefined>;
  /** NotFoundError ("action not found: …") when absent. */
  getAction(key: ActionKey): Promise<ActionRow>;
  listRuns(scope: RunScope, request: PageRequest): Promise<Page<ActionRow>>;
  listActions(run: RunKey, request: PageRequest): Promise<Page<ActionRow>>;
  /**
   * Phase-guarded update: applied only when the stored phase ≤ the new one, or
   * the stored phase is FAILED/TIMED_OUT (a retry). Returns whether a row changed.
   */
  updateActionPhase(key: ActionKey, update: PhaseUpdate): Promise<boolean>;
  /**
   * Marks the run's root ABORTED with the reason and a pending abort request.
   * A finished root is left as it is (`aborted: false`). NotFoundError when absent.
   */
  abortRun(key: RunKey, reason: string): Promise<AbortOutcome>;
  /**
   * Marks one action ABORTED with the reason and a pending abort request.
   * A finished action is left as it is (`aborted: false`). NotFoundError when absent.
   */
  abortAction(key: ActionKey, reason: string): Promise<AbortOutcome>;

  /** Inserts events; an event whose key exists is ignored (first write wins). */
  insertEvents(events: NewActionEventRow[]): Promise<void>;
  /** All events of an action ordered by attempt, phase, version (at most `limit`). */
  listEvents(key: ActionKey, limit: number): Promise<ActionEventRow[]>;
  /** The latest event of one attempt by (phase, version); undefined when none. */
  getLatestEventByAttempt(key: ActionKey, attempt: number): Promise<ActionEventRow | undefined>;
  /**
   * Events of one attempt in (updated_at, phase, version) order, strictly after
   * `after` when given, at most `limit` (WatchClusterEvents reads new events
   * with it; a keyset cursor, so no event is skipped between pages).
   */
  listEventsAfter(key: ActionKey, attempt: number, after: EventCursor | undefined, limit: number): Promise<ActionEventRow[]>;

  /** Abort reconciler: rows with a pending abort request. */
  listPendingAborts(): Promise<ActionRow[]>;
  /** Abort reconciler: bumps abort_attempt_count and returns the new count; NotFoundError when the row is gone. */
  markAbortAttempt(key: ActionKey): Promise<number>;
  /** Abort reconciler: clears the pending request and resets the counter. */
  clearAbortRequest(key: ActionKey): Promise<void>;
}
