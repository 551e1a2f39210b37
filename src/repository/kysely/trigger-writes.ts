/**
 * Trigger writes shared by the task and trigger repositories. Each takes the
 * Kysely instance to run on, normally a transaction, and never commits.
 */
import { sql, type Kysely } from "kysely";
import { TriggerRevisionAction } from "#gen/flyteidl2/trigger/trigger_definition_pb.js";
import { revisionActionName } from "../transformers/trigger.js";
import type { DatabaseHandle } from "../dialect/index.js";
import { FailedPreconditionError } from "../errors.js";
import type { TriggerDraft, TriggerKey } from "../interfaces/trigger.js";
import type { Database, TriggerRow } from "../schema/index.js";
import type { Timestamp } from "../timestamps.js";

export type Executor = Kysely<Database>;

/** A task version whose trigger summary must be recomputed. */
export interface TaskVersionRef {
  readonly project: string;
  readonly domain: string;
  readonly task_name: string;
  readonly task_version: string;
}

export const OPTIMISTIC_LOCK_MESSAGE =
  "optimistic lock failure: trigger was modified concurrently, please fetch latest and retry";

/** Appends a snapshot of `row` to trigger_revisions. */
export async function insertRevision(
  db: Executor,
  row: TriggerRow,
  action: TriggerRevisionAction,
  now: Timestamp,
): Promise<void> {
  await db
    .insertInto("trigger_revisions")
    .values({
      project: row.project,
      domain: row.domain,
      task_name: row.task_name,
      name: row.name,
      revision: row.latest_revision,
      spec: row.spec,
      automation_spec: row.automation_spec,
      task_version: row.task_version,
      active: row.active,
      automation_type: row.automation_type,
      deployed_by: row.deployed_by,
      updated_by: row.updated_by,
      deployed_at: row.deployed_at,
      updated_at: row.updated_at,
      triggered_at: row.triggered_at,
      deleted_at: row.deleted_at,
      action: revisionActionName(action),
      created_at: now,
    })
    .execute();
}

/**
 * Inserts or replaces a trigger and appends its DEPLOY revision. Replacing
 * bumps the revision, clears deleted_at and moves updated_at only when
 * `active` changes. With expectedRevision > 0 an existing row is replaced
 * only at that revision (FailedPreconditionError otherwise).
 */
export async function upsertTrigger(
  h: DatabaseHandle,
  db: Executor,
  draft: TriggerDraft,
  expectedRevision: number,
  now: Timestamp,
): Promise<TriggerRow> {
  const row = await db
    .insertInto("triggers")
    .values({
      project: draft.project,
      domain: draft.domain,
      task_name: draft.task_name,
      name: draft.name,
      latest_revision: 1,
      spec: draft.spec,
      automation_spec: draft.automation_spec,
      task_version: draft.task_version,
      active: h.bool(draft.active),
      automation_type: draft.automation_type,
      deployed_by: null,
      updated_by: null,
      deployed_at: now,
      updated_at: now,
      description: draft.description,
    })
    .onConflict((oc) => {
      const update = oc.columns(["project", "domain", "task_name", "name"]).doUpdateSet((eb) => ({
        latest_revision: sql<number>`triggers.latest_revision + 1`,
        deployed_at: eb.ref("excluded.deployed_at"),
        deployed_by: eb.ref("excluded.deployed_by"),
        updated_at: sql<string>`case when triggers.active <> excluded.active then excluded.updated_at else triggers.updated_at end`,
        updated_by: sql<string | null>`case when triggers.active <> excluded.active then excluded.updated_by else triggers.updated_by end`,
        deleted_at: null,
        active: eb.ref("excluded.active"),
        task_version: eb.ref("excluded.task_version"),
        automation_type: eb.ref("excluded.automation_type"),
        automation_spec: eb.ref("excluded.automation_spec"),
        spec: eb.ref("excluded.spec"),
        description: eb.ref("excluded.description"),
      }));
      return expectedRevision > 0 ? update.where("triggers.latest_revision", "=", expectedRevision) : update;
    })
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new FailedPreconditionError(OPTIMISTIC_LOCK_MESSAGE);
  await insertRevision(db, row, TriggerRevisionAction.DEPLOY, now);
  return row;
}

/** Soft-deletes a live trigger with a DELETE revision; undefined when it is missing or already deleted. */
export async function softDeleteTrigger(
  h: DatabaseHandle,
  db: Executor,
  key: TriggerKey,
  now: Timestamp,
): Promise<TriggerRow | undefined> {
  const row = await db
    .updateTable("triggers")
    .set({ deleted_at: now, active: h.bool(false), latest_revision: sql<number>`latest_revision + 1` })
    .where("project", "=", key.project)
    .where("domain", "=", key.domain)
    .where("task_name", "=", key.taskName)
    .where("name", "=", key.name)
    .where("deleted_at", "is", null)
    .returningAll()
    .executeTakeFirst();
  if (row) await insertRevision(db, row, TriggerRevisionAction.DELETE, now);
  return row;
}

/** Activates or deactivates a live trigger whose state differs; undefined when nothing changed. */
export async function setTriggerActive(
  h: DatabaseHandle,
  db: Executor,
  key: TriggerKey,
  active: boolean,
  now: Timestamp,
): Promise<TriggerRow | undefined> {
  const row = await db
    .updateTable("triggers")
    .set({ active: h.bool(active), updated_at: now, latest_revision: sql<number>`latest_revision + 1` })
    .where("project", "=", key.project)
    .where("domain", "=", key.domain)
    .where("task_name", "=", key.taskName)
    .where("name", "=", key.name)
    .where("deleted_at", "is", null)
    .where("active", "<>", h.bool(active))
    .returningAll()
    .executeTakeFirst();
  if (row) {
    await insertRevision(db, row, active ? TriggerRevisionAction.ACTIVATE : TriggerRevisionAction.DEACTIVATE, now);
  }
  return row;
}

/**
 * Recomputes tasks.{trigger_name, total_triggers, active_triggers,
 * trigger_automation_spec} of one task version from its live triggers: the
 * name and automation spec only when exactly one trigger is attached. The
 * spec bytes are copied unchanged. A missing task row is not an error.
 */
export async function refreshTriggerSummary(db: Executor, ref: TaskVersionRef): Promise<void> {
  const live = await db
    .selectFrom("triggers")
    .select(["name", "active", "automation_spec"])
    .where("project", "=", ref.project)
    .where("domain", "=", ref.domain)
    .where("task_name", "=", ref.task_name)
    .where("task_version", "=", ref.task_version)
    .where("deleted_at", "is", null)
    .execute();
  const single = live.length === 1 ? live[0] : undefined;
  await db
    .updateTable("tasks")
    .set({
      trigger_name: single?.name ?? null,
      total_triggers: live.length,
      active_triggers: live.filter((t) => t.active === true || t.active === 1).length,
      trigger_automation_spec: single?.automation_spec ?? null,
    })
    .where("project", "=", ref.project)
    .where("domain", "=", ref.domain)
    .where("name", "=", ref.task_name)
    .where("version", "=", ref.task_version)
    .execute();
}

/** Refreshes each distinct task version once. */
export async function refreshTriggerSummaries(db: Executor, refs: Iterable<TaskVersionRef>): Promise<void> {
  const seen = new Set<string>();
  for (const ref of refs) {
    const id = JSON.stringify([ref.project, ref.domain, ref.task_name, ref.task_version]);
    if (seen.has(id)) continue;
    seen.add(id);
    await refreshTriggerSummary(db, ref);
  }
}
