import type { Insertable, Selectable, Updateable } from "kysely";
import type { Bytes, TimestampColumn } from "./common.js";

export interface TasksTable {
  project: string;
  domain: string;
  name: string;
  version: string;
  environment: string;
  function_name: string;
  created_at: TimestampColumn;
  updated_at: TimestampColumn;
  deployed_by: string;
  trigger_name: string | null;
  total_triggers: number;
  active_triggers: number;
  /** Binary flyteidl2.task.TriggerAutomationSpec of the single trigger, if exactly one. */
  trigger_automation_spec: Bytes | null;
  /** Unused by the reference (always NULL). */
  trigger_types: string | null;
  /** Binary flyteidl2.task.TaskSpec. */
  task_spec: Bytes | null;
  env_description: string | null;
  short_description: string | null;
}

export type TaskRow = Selectable<TasksTable>;
export type NewTaskRow = Insertable<TasksTable>;
export type TaskRowUpdate = Updateable<TasksTable>;

export interface TaskSpecsTable {
  digest: string;
  /** Binary TaskSpec or TraceSpec. */
  spec: Bytes;
  created_at: TimestampColumn;
  updated_at: TimestampColumn;
}

export type TaskSpecRow = Selectable<TaskSpecsTable>;
