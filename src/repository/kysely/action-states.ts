/**
 * WatchActions' reads: slim rows (no spec or detail blobs; only the small
 * serialized creator identity) of one run, by keyset in
 * (created_at, name) order for snapshots and re-lists, or by name for the
 * actions a stream was told changed — one query for a whole batch instead of
 * one per action.
 */
import { sql, type SqlBool } from "kysely";
import type { DatabaseHandle } from "../dialect/index.js";
import type { ActionStateReads, ActionStateRow } from "../interfaces/action.js";

const STATE_COLUMN_SET: Record<keyof ActionStateRow, true> = {
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
};
export const ACTION_STATE_COLUMNS = Object.keys(STATE_COLUMN_SET) as (keyof ActionStateRow)[];

/** Names per IN list (well under both databases' parameter limits). */
const NAMES_PER_QUERY = 500;

export function createActionStateReads(h: DatabaseHandle): ActionStateReads {
  const { db } = h;
  const ofRun = (run: { project: string; domain: string; run: string }) =>
    db
      .selectFrom("actions")
      .select(ACTION_STATE_COLUMNS)
      .where("project", "=", run.project)
      .where("domain", "=", run.domain)
      .where("run_name", "=", run.run);

  return {
    async listActionStates(run, after, limit) {
      let qb = ofRun(run);
      if (after) {
        // A row-value bound: one range scan of idx_actions_run_created_name from
        // the position on both databases (an OR of the two cases is checked
        // row by row from the run's first action).
        qb = qb.where(sql<SqlBool>`(created_at, name) > (${after.createdAt}, ${after.name})`);
      }
      return qb.orderBy("created_at").orderBy("name").limit(limit).execute();
    },

    async getActionStates(run, names) {
      const unique = [...new Set(names)];
      const out: ActionStateRow[] = [];
      for (let i = 0; i < unique.length; i += NAMES_PER_QUERY) {
        out.push(...(await ofRun(run).where("name", "in", unique.slice(i, i + NAMES_PER_QUERY)).execute()));
      }
      return out;
    },
  };
}
