import { sql } from "kysely";
import type { Clock } from "../../util/clock.js";
import type { DatabaseHandle } from "../dialect/index.js";
import { NotFoundError } from "../errors.js";
import type { TaskRepo, TaskVersionRow } from "../interfaces/task.js";
import {
  TASK_COLUMNS,
  TASK_KEY_COLUMNS,
  TASK_VERSION_COLUMNS,
  applyFilters,
  listScope,
  paginate,
  type FilterExpr,
} from "../list/index.js";
import type { TaskRow } from "../schema/index.js";
import {
  refreshTriggerSummaries,
  softDeleteTrigger,
  upsertTrigger,
  type Executor,
  type TaskVersionRef,
} from "./trigger-writes.js";

const TASK_KEY = Object.keys(TASK_KEY_COLUMNS);

export function createTaskRepo(h: DatabaseHandle, clock: Clock): TaskRepo {
  const { db } = h;

  /** Distinct task names among the rows matching `filters`. */
  async function countNames(filters: readonly FilterExpr[]): Promise<number> {
    const names = applyFilters(db.selectFrom("tasks").select(["project", "domain", "name"]).distinct(), filters, h.kind);
    const row = await db
      .selectFrom(names.as("names"))
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  return {
    async deploy(task, triggers) {
      const now = clock.now();
      await db.transaction().execute(async (trx: Executor) => {
        await trx
          .insertInto("tasks")
          .values({
            ...task,
            created_at: now,
            updated_at: now,
            trigger_name: null,
            total_triggers: 0,
            active_triggers: 0,
            trigger_automation_spec: null,
            trigger_types: null,
          })
          .onConflict((oc) =>
            oc.columns(["project", "domain", "name", "version"]).doUpdateSet((eb) => ({
              environment: eb.ref("excluded.environment"),
              function_name: eb.ref("excluded.function_name"),
              deployed_by: eb.ref("excluded.deployed_by"),
              task_spec: eb.ref("excluded.task_spec"),
              env_description: eb.ref("excluded.env_description"),
              short_description: eb.ref("excluded.short_description"),
              updated_at: eb.ref("excluded.updated_at"),
            })),
          )
          .execute();

        // A deploy without triggers leaves the task's triggers alone.
        if (triggers.length === 0) return;

        const refresh: TaskVersionRef[] = [
          { project: task.project, domain: task.domain, task_name: task.name, task_version: task.version },
        ];
        const keep = new Set(triggers.map((t) => t.name));
        const live = await trx
          .selectFrom("triggers")
          .select(["name", "task_version"])
          .where("project", "=", task.project)
          .where("domain", "=", task.domain)
          .where("task_name", "=", task.name)
          .where("deleted_at", "is", null)
          .orderBy("name")
          .execute();
        for (const old of live) {
          // Triggers of other versions move to this one (or go away): their
          // old version's summary changes too.
          refresh.push({ project: task.project, domain: task.domain, task_name: task.name, task_version: old.task_version });
          if (!keep.has(old.name)) {
            await softDeleteTrigger(h, trx, { project: task.project, domain: task.domain, taskName: task.name, name: old.name }, now);
          }
        }
        for (const draft of triggers) await upsertTrigger(h, trx, draft, 0, now);
        await refreshTriggerSummaries(trx, refresh);
      });
    },

    async get(key) {
      const row = await db
        .selectFrom("tasks")
        .selectAll()
        .where("project", "=", key.project)
        .where("domain", "=", key.domain)
        .where("name", "=", key.name)
        .where("version", "=", key.version)
        .executeTakeFirst();
      if (!row) throw new NotFoundError(`task not found: ${key.project}/${key.domain}/${key.name}@${key.version}`);
      return row;
    },

    async list(input, scope) {
      const matching = [...scope, ...input.filters];
      // Newest version per task name among the matching rows.
      const ranked = applyFilters(
        db
          .selectFrom("tasks")
          .selectAll()
          .select(
            sql<number>`row_number() over (partition by project, domain, name order by created_at desc, version desc)`.as("rn"),
          ),
        matching,
        h.kind,
      );
      const latest = db.selectFrom(ranked.as("t")).selectAll("t").where("t.rn", "=", 1);
      const page = await paginate(latest, {
        ...input,
        defaultSort: [{ column: "created_at", direction: "desc" }],
        tieBreak: TASK_KEY,
        columns: { ...TASK_COLUMNS, ...TASK_KEY_COLUMNS },
        scope: listScope("ListTasks", scope, input.filters),
        dialect: h.kind,
        table: "t",
      });
      const rows = page.rows.map(({ rn: _rn, ...row }) => row as TaskRow);
      const [filteredTotal, total] = await Promise.all([countNames(matching), countNames(scope)]);
      return { rows, nextToken: page.nextToken, filteredTotal, total };
    },

    async listVersions(task, input) {
      const qb = applyFilters(
        db
          .selectFrom("tasks")
          .select(["project", "domain", "name", "version", "created_at"])
          .where("project", "=", task.project)
          .where("domain", "=", task.domain)
          .where("name", "=", task.name),
        input.filters,
        h.kind,
      );
      return paginate<TaskVersionRow>(qb, {
        ...input,
        defaultSort: [{ column: "created_at", direction: "desc" }],
        tieBreak: TASK_KEY,
        columns: { ...TASK_VERSION_COLUMNS, ...TASK_KEY_COLUMNS },
        scope: listScope("ListVersions", task, input.filters),
        dialect: h.kind,
      });
    },
  };
}
