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
import { ACTION_STATE_COLUMNS } from "./action-columns.js";


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
