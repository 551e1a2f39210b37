import type { Clock } from "../../util/clock.js";
import type { DatabaseHandle } from "../dialect/index.js";
import { AlreadyExistsError, NotFoundError } from "../errors.js";
import type { ProjectRepo } from "../interfaces/project.js";
import { PROJECT_COLUMNS, PROJECT_KEY_COLUMNS, applyFilters, listScope, paginate } from "../list/index.js";

export function createProjectRepo(h: DatabaseHandle, clock: Clock): ProjectRepo {
  const { db } = h;
  return {
    async create(row) {
      const result = await db
        .insertInto("projects")
        .values(row)
        .onConflict((oc) => oc.column("identifier").doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 0) {
        throw new AlreadyExistsError(`project already exists: ${row.identifier}`);
      }
    },

    async update(row) {
      const result = await db
        .updateTable("projects")
        .set({
          name: row.name,
          description: row.description,
          labels: row.labels,
          state: row.state,
          updated_at: clock.now(),
        })
        .where("identifier", "=", row.identifier)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw new NotFoundError(`project not found: ${row.identifier}`);
    },

    async get(identifier) {
      const row = await db.selectFrom("projects").selectAll().where("identifier", "=", identifier).executeTakeFirst();
      if (!row) throw new NotFoundError(`project not found: ${identifier}`);
      return row;
    },

    async exists(identifier) {
      const row = await db.selectFrom("projects").select("identifier").where("identifier", "=", identifier).executeTakeFirst();
      return row !== undefined;
    },

    async list(input) {
      const qb = applyFilters(db.selectFrom("projects").selectAll(), input.filters, h.kind);
      return paginate(qb, {
        ...input,
        defaultSort: [],
        tieBreak: Object.keys(PROJECT_KEY_COLUMNS),
        columns: { ...PROJECT_COLUMNS, ...PROJECT_KEY_COLUMNS },
        scope: listScope("ListProjects", input.filters),
        dialect: h.kind,
      });
    },
  };
}
