import type { ActionEventsTable } from "./action-events.js";
import type { ActionsTable } from "./actions.js";
import type { PendingEnqueuesTable } from "./pending-enqueues.js";
import type { ProjectsTable } from "./projects.js";
import type { SettingsTable } from "./settings.js";
import type { TaskSpecsTable, TasksTable } from "./tasks.js";
import type { TriggerRevisionsTable, TriggersTable } from "./triggers.js";

export interface SchemaMigrationsTable {
  version: string;
  applied_at: string;
}

/** Every table the service reads or writes, for Kysely<Database>. */
export interface Database {
  projects: ProjectsTable;
  actions: ActionsTable;
  action_events: ActionEventsTable;
  tasks: TasksTable;
  task_specs: TaskSpecsTable;
  triggers: TriggersTable;
  trigger_revisions: TriggerRevisionsTable;
  settings: SettingsTable;
  /** Port-only (migrations/<dialect>/runs_ts/20260408110002_pending_enqueues.sql). */
  pending_enqueues: PendingEnqueuesTable;
  schema_migrations: SchemaMigrationsTable;
}

export * from "./common.js";
export type * from "./action-events.js";
export type * from "./actions.js";
export type * from "./pending-enqueues.js";
export type * from "./projects.js";
export type * from "./settings.js";
export type * from "./tasks.js";
export type * from "./triggers.js";
