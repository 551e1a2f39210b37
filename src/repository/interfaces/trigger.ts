import type { FilterExpr } from "../list/filters.js";
import type { TriggerRevisionRow, TriggerRow } from "../schema/index.js";
import type { Page, PageRequest } from "./common.js";

/** Identifies a trigger (soft-deleted ones keep their key). */
export interface TriggerKey {
  readonly project: string;
  readonly domain: string;
  /** Name of the task the trigger belongs to. */
  readonly taskName: string;
  readonly name: string;
}

/** A trigger as a deploy writes it; the repository sets revision and timestamps. */
export interface TriggerDraft {
  readonly project: string;
  readonly domain: string;
  readonly task_name: string;
  readonly name: string;
  /** Binary flyteidl2.trigger.TriggerSpec. */
  readonly spec: Uint8Array;
  /** Binary flyteidl2.task.TriggerAutomationSpec. */
  readonly automation_spec: Uint8Array;
  readonly task_version: string;
  readonly active: boolean;
  /** TriggerAutomationSpecType enum name. */
  readonly automation_type: string;
  readonly description: string | null;
}

export interface TriggerRepo {
  /**
   * Upserts the trigger and appends a DEPLOY revision, then refreshes the
   * trigger summary of the task versions involved, in one transaction.
   * A new trigger starts at revision 1; an existing one (soft-deleted or
   * not) gets revision + 1 and is live again. With `expectedRevision` > 0 an
   * existing trigger is only replaced while its revision equals it, else
   * FailedPreconditionError.
   */
  save(draft: TriggerDraft, expectedRevision: number): Promise<TriggerRow>;
  /**
   * The live trigger with this key; an empty taskName matches any task (the
   * first by task name). NotFoundError when there is none.
   */
  get(key: TriggerKey): Promise<TriggerRow>;
  /** One revision; NotFoundError when absent. */
  getRevision(key: TriggerKey, revision: number): Promise<TriggerRevisionRow>;
  /** Live triggers matching `scope` and the filters; default order active DESC, updated_at DESC. */
  list(request: PageRequest, scope: readonly FilterExpr[]): Promise<Page<TriggerRow>>;
  /** Revisions of one trigger, newest first unless sorted otherwise; empty for an unknown trigger. */
  listRevisions(key: TriggerKey, request: PageRequest): Promise<Page<TriggerRevisionRow>>;
  /**
   * Sets `active` on each live trigger whose state differs (revision + 1,
   * ACTIVATE/DEACTIVATE revision, summary refresh); missing, deleted or
   * unchanged triggers are skipped. One transaction. Returns how many changed.
   */
  setActive(keys: readonly TriggerKey[], active: boolean): Promise<number>;
  /**
   * Soft-deletes each live trigger (deleted_at, inactive, revision + 1,
   * DELETE revision, summary refresh); others are skipped. One transaction.
   * Returns how many were deleted.
   */
  delete(keys: readonly TriggerKey[]): Promise<number>;
}
