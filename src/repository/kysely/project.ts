import type { Clock } from "../../util/clock.js";
import type { DatabaseHandle } from "../dialect/index.js";
import { AlreadyExistsError, NotFoundError } from "../errors.js";
import type { ProjectRepo } from "../interfaces/project.js";
import { PROJECT_COLUMNS, PROJECT_KEY_COLUMNS, applyFilters, listScope, paginate } from "../list/index.js";

/**
 * How long a positive exists() answer is reused. The service never deletes
 * projects, so this only bounds how long a row removed behind its back still
 * counts; a missing project is always looked up again.
 */
export const PROJECT_EXISTS_TTL_MS = 5_000;
const PROJECT_EXISTS_CACHE_SIZE = 1_000;

export function createProjectRepo(h: DatabaseHandle, clock: Clock): ProjectRepo {
  const { db } = h;
  /** identifier → performance.now() until which it is known to exist. */
  const existsUntil = new Map<string, number>();
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
      const until = existsUntil.get(identifier);
      if (until !== undefined && until > performance.now()) return true;
      const row = await db.selectFrom("projects").select("identifier").where("identifier", "=", identifier).executeTakeFirst();
      if (row === undefined) {
        existsUntil.delete(identifier);
        return false;
      }
      if (existsUntil.size >= PROJECT_EXISTS_CACHE_SIZE) existsUntil.clear();
      existsUntil.set(identifier, performance.now() + PROJECT_EXISTS_TTL_MS);
      return true;
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
