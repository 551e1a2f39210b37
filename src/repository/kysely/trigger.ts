import type { Clock } from "../../util/clock.js";
import type { DatabaseHandle } from "../dialect/index.js";
import { NotFoundError } from "../errors.js";
import type { TriggerKey, TriggerRepo } from "../interfaces/trigger.js";
import {
  TRIGGER_COLUMNS,
  TRIGGER_KEY_COLUMNS,
  TRIGGER_REVISION_COLUMNS,
  TRIGGER_REVISION_KEY_COLUMNS,
  applyFilters,
  listScope,
  paginate,
} from "../list/index.js";
import type { TriggerRow } from "../schema/index.js";
import {
  refreshTriggerSummaries,
  setTriggerActive,
  softDeleteTrigger,
  upsertTrigger,
  type Executor,
  type TaskVersionRef,
} from "./trigger-writes.js";

const describeKey = (k: TriggerKey) => `${k.project}/${k.domain}/${k.taskName}/${k.name}`;

/** The task versions whose summaries a change of these rows affects. */
function versionsOf(rows: readonly (TriggerRow | undefined)[], before: readonly TaskVersionRef[] = []): TaskVersionRef[] {
  return [...before, ...rows.filter((r): r is TriggerRow => r !== undefined)];
}

export function createTriggerRepo(h: DatabaseHandle, clock: Clock): TriggerRepo {
  const { db } = h;

  /** Applies `change` to each key in one transaction, refreshing the summaries of changed triggers. */
  async function changeEach(
    keys: readonly TriggerKey[],
    change: (trx: Executor, key: TriggerKey, now: string) => Promise<TriggerRow | undefined>,
  ): Promise<number> {
    if (keys.length === 0) return 0;
    const now = clock.now();
    return db.transaction().execute(async (trx) => {
      const changed: (TriggerRow | undefined)[] = [];
      for (const key of keys) changed.push(await change(trx, key, now));
      await refreshTriggerSummaries(trx, versionsOf(changed));
      return changed.filter(Boolean).length;
    });
  }

  return {
    async save(draft, expectedRevision) {
      const now = clock.now();
      return db.transaction().execute(async (trx) => {
        const previous = await trx
          .selectFrom("triggers")
          .select(["project", "domain", "task_name", "task_version"])
          .where("project", "=", draft.project)
          .where("domain", "=", draft.domain)
          .where("task_name", "=", draft.task_name)
          .where("name", "=", draft.name)
          .where("deleted_at", "is", null)
          .executeTakeFirst();
        const saved = await upsertTrigger(h, trx, draft, expectedRevision, now);
        await refreshTriggerSummaries(trx, versionsOf([saved], previous ? [previous] : []));
        return saved;
      });
    },

    async get(key) {
      let qb = db
        .selectFrom("triggers")
        .selectAll()
        .where("deleted_at", "is", null)
        .where("project", "=", key.project)
        .where("domain", "=", key.domain)
        .where("name", "=", key.name);
      qb = key.taskName !== "" ? qb.where("task_name", "=", key.taskName) : qb.orderBy("task_name");
      const row = await qb.executeTakeFirst();
      if (!row) throw new NotFoundError(`trigger not found: ${describeKey(key)}`);
      return row;
    },

    async getRevision(key, revision) {
      const row = await db
        .selectFrom("trigger_revisions")
        .selectAll()
        .where("project", "=", key.project)
        .where("domain", "=", key.domain)
        .where("task_name", "=", key.taskName)
        .where("name", "=", key.name)
        .where("revision", "=", revision)
        .executeTakeFirst();
      if (!row) throw new NotFoundError(`trigger revision not found: ${describeKey(key)}@${revision}`);
      return row;
    },

    async list(input, scope) {
      const qb = applyFilters(
        db.selectFrom("triggers").selectAll().where("deleted_at", "is", null),
        [...scope, ...input.filters],
        h.kind,
      );
      return paginate(qb, {
        ...input,
        defaultSort: [
          { column: "active", direction: "desc" },
          { column: "updated_at", direction: "desc" },
        ],
        tieBreak: Object.keys(TRIGGER_KEY_COLUMNS),
        columns: { ...TRIGGER_COLUMNS, ...TRIGGER_KEY_COLUMNS },
        scope: listScope("ListTriggers", scope, input.filters),
        dialect: h.kind,
      });
    },

    async listRevisions(key, input) {
      const qb = applyFilters(
        db
          .selectFrom("trigger_revisions")
          .selectAll()
          .where("project", "=", key.project)
          .where("domain", "=", key.domain)
          .where("task_name", "=", key.taskName)
          .where("name", "=", key.name),
        input.filters,
        h.kind,
      );
      return paginate(qb, {
        ...input,
        defaultSort: [{ column: "revision", direction: "desc" }],
        tieBreak: Object.keys(TRIGGER_REVISION_KEY_COLUMNS),
        columns: { ...TRIGGER_REVISION_COLUMNS, ...TRIGGER_REVISION_KEY_COLUMNS },
        scope: listScope("GetTriggerRevisionHistory", key, input.filters),
        dialect: h.kind,
      });
    },

    setActive(keys, active) {
      return changeEach(keys, (trx, key, now) => setTriggerActive(h, trx, key, active, now));
    },

    delete(keys) {
      return changeEach(keys, (trx, key, now) => softDeleteTrigger(h, trx, key, now));
    },
  };
}
