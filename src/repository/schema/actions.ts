import type { Insertable, Selectable, Updateable } from "kysely";
import type { Bytes, TimestampColumn } from "./common.js";

/**
 * One action of a run; the run itself is the row whose parent_action_name is
 * NULL (named "a0" by CreateRun).
 */
export interface ActionsTable {
  project: string;
  domain: string;
  run_name: string;
  name: string;
  parent_action_name: string | null;
  /** flyteidl2.common.ActionPhase number. */
  phase: number;
  /** RunSource enum name, '' for actions recorded by executors. */
  run_source: string;
  /** flyteidl2.workflow.ActionType number. */
  action_type: number;
  action_group: string | null;
  task_project: string | null;
  task_domain: string | null;
  task_name: string | null;
  task_version: string | null;
  task_type: string;
  task_short_name: string | null;
  function_name: string;
  environment_name: string | null;
  /** Binary flyteidl2.workflow.ActionSpec. */
  action_spec: Bytes | null;
  /** Always the two bytes "{}" (kept for the reference's schema). */
  action_details: Bytes | null;
  /** Binary flyteidl2.workflow.RunInfo. */
  detailed_info: Bytes | null;
  /** Binary flyteidl2.task.RunSpec, root actions only. */
  run_spec: Bytes | null;
  abort_requested_at: TimestampColumn | null;
  abort_attempt_count: number;
  abort_reason: string | null;
  created_at: TimestampColumn;
  updated_at: TimestampColumn;
  ended_at: TimestampColumn | null;
  duration_ms: number | null;
  attempts: number;
  cache_status: number;
  trigger_name: string | null;
  trigger_task_name: string | null;
  trigger_revision: number | null;
  /** Binary flyteidl2.common.EnrichedIdentity of whoever created the run (metadata.executed_by); root actions only. */
  created_by: Bytes | null;
  /** The subject inside created_by, kept as a filterable column. */
  created_by_subject: string | null;
}

export type ActionRow = Selectable<ActionsTable>;
export type NewActionRow = Insertable<ActionsTable>;
export type ActionRowUpdate = Updateable<ActionsTable>;
