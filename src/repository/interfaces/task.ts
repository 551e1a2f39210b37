import type { FilterExpr } from "../list/filters.js";
import type { NewTaskRow, TaskRow, TaskSpecRow } from "../schema/index.js";
import type { Page, PageRequest } from "./common.js";
import type { TriggerDraft } from "./trigger.js";

/** Identifies one task version. */
export interface TaskKey {
  readonly project: string;
  readonly domain: string;
  readonly name: string;
  readonly version: string;
}

/** Identifies a task across its versions. */
export type TaskNameKey = Omit<TaskKey, "version">;

/** A task version as DeployTask writes it; the repository sets the timestamps and the trigger summary. */
export type TaskDraft = Omit<
  NewTaskRow,
  "created_at" | "updated_at" | "trigger_name" | "total_triggers" | "active_triggers" | "trigger_automation_spec" | "trigger_types"
>;

/** One page of ListTasks plus its counts of distinct task names. */
export interface TaskPage extends Page<TaskRow> {
  /** Task names matching the scope and the filters. */
  readonly filteredTotal: number;
  /** Task names matching the scope alone. */
  readonly total: number;
}

/** A row of ListVersions (the key columns are kept for pagination). */
export interface TaskVersionRow {
  readonly project: string;
  readonly domain: string;
  readonly name: string;
  readonly version: string;
  readonly created_at: string;
}

export interface TaskRepo {
  /**
   * In one transaction: upserts the task version (keeping its created_at),
   * and when `triggers` is not empty soft-deletes the task's live triggers
   * whose names are not among them, upserts each trigger with a DEPLOY
   * revision, and refreshes the trigger summary of every task version
   * involved. Nothing is written when any step fails.
   */
  deploy(task: TaskDraft, triggers: readonly TriggerDraft[]): Promise<void>;
  /** NotFoundError ("task not found: …") when absent. */
  get(key: TaskKey): Promise<TaskRow>;
  /**
   * The newest version (by created_at) of each task name among the rows that
   * match `scope` and the request's filters, in the requested order
   * (default created_at DESC).
   */
  list(request: PageRequest, scope: readonly FilterExpr[]): Promise<TaskPage>;
  /** The versions of one task, newest first unless sorted otherwise; empty for an unknown task. */
  listVersions(task: TaskNameKey, request: PageRequest): Promise<Page<TaskVersionRow>>;
}

/** Specs of executed tasks and traces, stored once under their digest. */
export interface TaskSpecRepo {
  /** Inserts the spec unless the digest is already stored (then nothing changes). */
  put(digest: string, spec: Uint8Array): Promise<void>;
  /** NotFoundError ("task spec not found: <digest>") when absent. */
  get(digest: string): Promise<TaskSpecRow>;
}
