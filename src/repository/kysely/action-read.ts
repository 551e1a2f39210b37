/** Reads of runs and actions (get, ListRuns, ListActions) and helpers shared by the action repository files. */
import type { SelectQueryBuilder } from "kysely";
import type { EventBus } from "../../events/bus.js";
import type { DatabaseHandle } from "../dialect/index.js";
import { NotFoundError } from "../errors.js";
import type { ActionKey, ActionRepo, RunKey, RunScope } from "../interfaces/action.js";
import { ACTION_COLUMNS, ACTION_KEY_COLUMNS, applyFilters, listScope, paginate, type SortParam } from "../list/index.js";
import type { ActionRow, ActionsTable, Database } from "../schema/index.js";

import { ACTION_LIST_COLUMNS, ACTION_ROW_COLUMNS } from "./action-columns.js";

export { ACTION_ROW_COLUMNS };

/**
 * The default order of ListRuns and ListActions: unfinished phases first,
 * newest first within a phase, then run and action name descending (the
 * reference's order since v2.0.43, for rows created in the same microsecond).
 */
export const DEFAULT_ACTION_SORT: readonly SortParam[] = [
  { column: "phase", direction: "asc" },
  { column: "created_at", direction: "desc" },
  { column: "run_name", direction: "desc" },
  { column: "name", direction: "desc" },
];

export function runLabel(key: RunKey): string {
  return `${key.project}/${key.domain}/${key.run}`;
}

export function actionLabel(key: ActionKey): string {
  return `${runLabel(key)}/${key.action}`;
}

/** Restricts a query on `actions` to one action. */
/** The run's root action: the first parentless action of the run (one row at most). */
export function whereRunRoot<QB extends SelectQueryBuilder<Database, "actions", any>>(qb: QB, key: RunKey): QB {
  return qb
    .where("project", "=", key.project)
    .where("domain", "=", key.domain)
    .where("run_name", "=", key.run)
    .where("parent_action_name", "is", null)
    .orderBy("created_at")
    .orderBy("name")
    .limit(1) as QB;
}

export function whereAction<QB extends SelectQueryBuilder<Database, "actions", any>>(qb: QB, key: ActionKey): QB {
  return qb
    .where("project", "=", key.project)
    .where("domain", "=", key.domain)
    .where("run_name", "=", key.run)
    .where("name", "=", key.action) as QB;
}

/** Adds FOR UPDATE on PostgreSQL (SQLite transactions already hold the database's single write lock). */
export function lockForUpdate<QB extends SelectQueryBuilder<any, any, any>>(h: DatabaseHandle, qb: QB): QB {
  return h.kind === "postgres" ? (qb.forUpdate() as QB) : qb;
}

/** Publishes after a commit; the bus never throws. */
export function publishAction(bus: EventBus, key: ActionKey): void {
  bus.publish({ kind: "action", project: key.project, domain: key.domain, run: key.run, action: key.action });
}

export function publishRun(bus: EventBus, key: RunKey): void {
  bus.publish({ kind: "run", project: key.project, domain: key.domain, run: key.run });
}

export function actionKeyOf(row: { project: string; domain: string; run_name: string; name: string }): ActionKey {
  return { project: row.project, domain: row.domain, run: row.run_name, action: row.name };
}

/** The scope as a fixed-order list, so equal scopes give equal page-token hashes whatever their key order. */
function scopeParts(scope: RunScope): string[] {
  switch (scope.kind) {
    case "all":
      return ["all"];
    case "project":
      return ["project", scope.project, scope.domain];
    case "trigger":
      return ["trigger", scope.project, scope.domain, scope.taskName, scope.triggerName];
    case "taskName":
      return ["taskName", scope.project, scope.domain, scope.taskName];
    case "taskId":
      return ["taskId", scope.project, scope.domain, scope.taskName, scope.taskVersion];
  }
}

const PAGE_COLUMNS = { ...ACTION_COLUMNS, ...ACTION_KEY_COLUMNS };
const TIE_BREAK = Object.keys(ACTION_KEY_COLUMNS);
const PROJECT_PINNED = ["project", "domain"];
const RUN_PINNED = ["project", "domain", "run_name"];

export function createActionReads(h: DatabaseHandle): Pick<ActionRepo, "getRun" | "findRun" | "getAction" | "listRuns" | "listActions"> {
  const { db } = h;
  const selectActions = () => db.selectFrom("actions").select(ACTION_ROW_COLUMNS);
  const findRun = (key: RunKey): Promise<ActionRow | undefined> => whereRunRoot(selectActions(), key).executeTakeFirst();

  return {
    findRun,

    async getRun(key) {
      const row = await findRun(key);
      if (!row) throw new NotFoundError(`run not found: ${runLabel(key)}`);
      return row;
    },

    async getAction(key) {
      const row = await whereAction(selectActions(), key).executeTakeFirst();
      if (!row) throw new NotFoundError(`action not found: ${actionLabel(key)}`);
      return row;
    },

    async listRuns(scope: RunScope, request) {
      let qb = selectActions().where("parent_action_name", "is", null);
      switch (scope.kind) {
        case "all":
          break;
        case "project":
          qb = qb.where("project", "=", scope.project).where("domain", "=", scope.domain);
          break;
        case "trigger":
          qb = qb
            .where("project", "=", scope.project)
            .where("domain", "=", scope.domain)
            .where("trigger_task_name", "=", scope.taskName)
            .where("trigger_name", "=", scope.triggerName);
          break;
        case "taskName":
          qb = qb
            .where("task_project", "=", scope.project)
            .where("task_domain", "=", scope.domain)
            .where("task_name", "=", scope.taskName);
          break;
        case "taskId":
          qb = qb
            .where("task_project", "=", scope.project)
            .where("task_domain", "=", scope.domain)
            .where("task_name", "=", scope.taskName)
            .where("task_version", "=", scope.taskVersion);
          break;
      }
      qb = applyFilters(qb, request.filters, h.kind);
      return paginate(qb, {
        ...request,
        defaultSort: DEFAULT_ACTION_SORT,
        tieBreak: TIE_BREAK,
        // A project's runs page along idx_actions_runs_default_order / idx_actions_runs_created.
        pinned: scope.kind === "project" || scope.kind === "trigger" ? PROJECT_PINNED : undefined,
        columns: PAGE_COLUMNS,
        scope: listScope("ListRuns", scopeParts(scope), request.filters),
        dialect: h.kind,
      });
    },

    async listActions(run, request) {
      // Slim rows: a page of a big run would otherwise carry every child's spec.
      const qb = applyFilters(
        db.selectFrom("actions").select(ACTION_LIST_COLUMNS).where("project", "=", run.project).where("domain", "=", run.domain).where("run_name", "=", run.run),
        request.filters,
        h.kind,
      );
      return paginate(qb, {
        ...request,
        defaultSort: DEFAULT_ACTION_SORT,
        tieBreak: TIE_BREAK,
        // A run's actions page along idx_actions_run_list_order.
        pinned: RUN_PINNED,
        columns: PAGE_COLUMNS,
        scope: listScope("ListActions", [run.project, run.domain, run.run], request.filters),
        dialect: h.kind,
      });
    },
  };
}
