import type { Generated, Insertable, Selectable, Updateable } from "kysely";
import type { Bytes, SqlBool, TimestampColumn } from "./common.js";

/** Columns shared by a trigger and each of its revisions. */
interface TriggerState {
  project: string;
  domain: string;
  task_name: string;
  name: string;
  /** Binary flyteidl2.trigger.TriggerSpec. */
  spec: Bytes;
  /** Binary flyteidl2.task.TriggerAutomationSpec. */
  automation_spec: Bytes | null;
  task_version: string;
  active: SqlBool;
  /** TriggerAutomationSpec.Type enum name. */
  automation_type: string;
  deployed_by: string | null;
  updated_by: string | null;
  deployed_at: TimestampColumn;
  updated_at: TimestampColumn;
  triggered_at: TimestampColumn | null;
  deleted_at: TimestampColumn | null;
  description: string | null;
}

export interface TriggersTable extends TriggerState {
  id: Generated<number>;
  latest_revision: number;
}

export interface TriggerRevisionsTable extends Omit<TriggerState, "description"> {
  revision: number;
  /** TriggerRevisionAction enum name. */
  action: string;
  created_at: TimestampColumn;
}

export type TriggerRow = Selectable<TriggersTable>;
export type NewTriggerRow = Insertable<TriggersTable>;
export type TriggerRowUpdate = Updateable<TriggersTable>;
export type TriggerRevisionRow = Selectable<TriggerRevisionsTable>;
export type NewTriggerRevisionRow = Insertable<TriggerRevisionsTable>;
