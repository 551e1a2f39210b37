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
  /**
   * When the action really started (ActionStatus.start_time); an earlier one
   * moves created_at back, and the duration is measured from it.
   */
  startTime?: Timestamp;
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

export interface ActionRepo extends ActionStateReads, ActionBatchWrites {
  /**
   * Inserts the action unless (project, domain, run_name, name) exists; the
   * stored row is returned either way. Only when the row is new, and in the
   * same transaction: `markTriggered` sets that trigger's triggered_at, and
   * `pendingEnqueue` records the action's Enqueue request in pending_enqueues
   * (see PendingEnqueueRepo), so a stored run always has its Enqueue either
   * accepted or recorded for a retry. Calls with `pendingEnqueue` and no
   * `markTriggered` (CreateRun) are group-committed: those arriving together
   * share one transaction (SQLite) or statement (PostgreSQL), each answered
   * with its own result; a failed group is written again item by item, so a
   * bad row fails only its own call.
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
  listActions(run: RunKey, request: PageRequest): Promise<Page<ActionListRow>>;
  /**
   * Phase-guarded update: applied only when the stored phase ≤ the new one,
   * the stored phase is FAILED/TIMED_OUT (a retry), or a PAUSED action settles
   * into a terminal phase. Returns whether a row changed.
   */
  updateActionPhase(key: ActionKey, update: PhaseUpdate): Promise<boolean>;
  /**
   * Replaces detailed_info (the serialised RunInfo) and notifies watchers.
   * NotFoundError when absent.
   */
  updateActionDetailedInfo(key: ActionKey, detailedInfo: Uint8Array): Promise<void>;
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

/**
 * What WatchActions keeps of an action: every column but the blobs and the
 * abort bookkeeping (the tree and EnrichedAction need nothing else).
 */
export type ActionStateRow = Pick<
  ActionRow,
  | "project"
  | "domain"
  | "run_name"
  | "name"
  | "parent_action_name"
  | "phase"
  | "run_source"
  | "action_type"
  | "action_group"
  | "task_project"
  | "task_domain"
  | "task_name"
  | "task_version"
  | "task_type"
  | "task_short_name"
  | "function_name"
  | "environment_name"
  | "created_at"
  | "updated_at"
  | "ended_at"
  | "duration_ms"
  | "attempts"
  | "cache_status"
  | "trigger_name"
  | "trigger_task_name"
  | "trigger_revision"
  | "created_by"
>;

/** A ListActions item: the slim row and the creator's subject (a filterable column). */
export type ActionListRow = ActionStateRow & Pick<ActionRow, "created_by_subject">;

/** Position in listActionStates: the last action already read, in (created_at, name) order. */
export interface ActionStateCursor {
  createdAt: Timestamp;
  name: string;
}

/** Reads for WatchActions: slim rows, by keyset over the run or by name. */
export interface ActionStateReads {
  /** The run's actions in (created_at, name) order, strictly after `after`, at most `limit`. */
  listActionStates(run: RunKey, after: ActionStateCursor | undefined, limit: number): Promise<ActionStateRow[]>;
  /** The named actions of the run that exist (any order; one query per 500 names). */
  getActionStates(run: RunKey, names: readonly string[]): Promise<ActionStateRow[]>;
}

/** One status of a batch (ActionBatchWrites.updateActionPhases). */
export interface PhaseUpdateItem {
  key: ActionKey;
  update: PhaseUpdate;
}

/**
 * The executor streams' writes, a batch per transaction (one commit, one
 * round of notifications) with the same per-item effects and results as the
 * single-item methods applied in order.
 */
export interface ActionBatchWrites {
  /** createAction (without options) for each row; whether each row was new. A key repeated in the batch: the first wins. */
  createActions(rows: readonly NewActionRow[]): Promise<boolean[]>;
  /** updateActionPhase for each item in order; whether each changed its action. */
  updateActionPhases(items: readonly PhaseUpdateItem[]): Promise<boolean[]>;
}
