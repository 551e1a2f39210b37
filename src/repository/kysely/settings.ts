import type { Clock } from "../../util/clock.js";
import type { DatabaseHandle } from "../dialect/index.js";
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../errors.js";
import type { SettingsRepo, StoredSettings } from "../interfaces/settings.js";
import type { SettingsRow } from "../schema/index.js";

/** PostgreSQL hands JSONB back parsed, SQLite as the stored text. */
function toStored(row: Pick<SettingsRow, "key" | "data" | "version" | "created_at" | "updated_at">): StoredSettings {
  return {
    key: row.key,
    data: typeof row.data === "string" ? row.data : JSON.stringify(row.data),
    version: Number(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function requireData(key: string, data: string): void {
  // The column is NOT NULL JSON; an empty document would be a caller bug.
  if (data === "") throw new InvalidArgumentError(`settings data is required: ${key}`);
}

const COLUMNS = ["key", "data", "version", "created_at", "updated_at"] as const;

export function createSettingsRepo(h: DatabaseHandle, clock: Clock): SettingsRepo {
  const { db } = h;
  const get = async (key: string): Promise<StoredSettings> => {
    const row = await db.selectFrom("settings").select(COLUMNS).where("key", "=", key).executeTakeFirst();
    if (!row) throw new NotFoundError(`settings not found: ${key}`);
    return toStored(row);
  };
  return {
    get,

    async create(key, data) {
      requireData(key, data);
      const now = clock.now();
      const row = await db
        .insertInto("settings")
        .values({ key, data, version: 1, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column("key").doNothing())
        .returning(COLUMNS)
        .executeTakeFirst();
      if (!row) throw new AlreadyExistsError(`settings already exists: ${key}`);
      return toStored(row);
    },

    async getByKeys(keys) {
      if (keys.length === 0) return [];
      const rows = await db.selectFrom("settings").select(COLUMNS).where("key", "in", [...keys]).execute();
      return rows.map(toStored);
    },

    async update(key, data, version) {
      requireData(key, data);
      const row = await db
        .updateTable("settings")
        .set((eb) => ({ data, version: eb("version", "+", 1), updated_at: clock.now() }))
        .where("key", "=", key)
        .where("version", "=", version)
        .returning(COLUMNS)
        .executeTakeFirst();
      if (row) return toStored(row);
      // No row changed: tell a missing scope (create it) from a stale version (read it again).
      const stored = await get(key);
      throw new FailedPreconditionError(
        `settings version conflict: ${key} is at version ${stored.version}, the update was for version ${version}; read it again and retry`,
      );
    },
  };
}
