/**
 * Column lists of the actions table: every column for full rows, and the
 * slim selections (no spec or detail blobs) that watches and list pages read.
 */
import type { ActionListRow, ActionStateRow } from "../interfaces/action.js";
import type { ActionsTable } from "../schema/index.js";

/**
 * Every column of ActionsTable, selected explicitly: the SQLite table has two
 * extra columns (id, org) that rows must not carry.
 */
const COLUMN_SET: Record<keyof ActionsTable, true> = {
  project: true,
  domain: true,
  run_name: true,
  name: true,
  parent_action_name: true,
  phase: true,
  run_source: true,
  action_type: true,
  action_group: true,
  task_project: true,
  task_domain: true,
  task_name: true,
  task_version: true,
  task_type: true,
  task_short_name: true,
  function_name: true,
  environment_name: true,
  action_spec: true,
  action_details: true,
  detailed_info: true,
  run_spec: true,
  abort_requested_at: true,
  abort_attempt_count: true,
  abort_reason: true,
  created_at: true,
  updated_at: true,
  ended_at: true,
  duration_ms: true,
  attempts: true,
  cache_status: true,
  trigger_name: true,
  trigger_task_name: true,
  trigger_revision: true,
  created_by: true,
  created_by_subject: true,
};
export const ACTION_ROW_COLUMNS = Object.keys(COLUMN_SET) as (keyof ActionsTable)[];

/**
 * The columns a slim row leaves out (checked against ActionStateRow: adding a
 * column to the table makes this fail to compile until it is placed).
 */
const OMITTED: Record<Exclude<keyof ActionsTable, keyof ActionStateRow>, true> = {
  action_spec: true,
  action_details: true,
  detailed_info: true,
  run_spec: true,
  abort_requested_at: true,
  abort_attempt_count: true,
  abort_reason: true,
  created_by_subject: true,
};
export const ACTION_STATE_COLUMNS = ACTION_ROW_COLUMNS.filter((c) => !Object.hasOwn(OMITTED, c)) as (keyof ActionStateRow)[];

/** A ListActions page: the slim row plus the one filterable column it leaves out. */
export const ACTION_LIST_COLUMNS = [...ACTION_STATE_COLUMNS, "created_by_subject"] as (keyof ActionListRow)[];
