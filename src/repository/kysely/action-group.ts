/**
 * One group of CreateRun inserts (see createAction's group commit in
 * action-write.ts): each item is a new action with the pending Enqueue record
 * that must be stored with it. SQLite: one transaction for the group;
 * PostgreSQL: one statement (the actions INSERT … RETURNING feeding the
 * records' INSERT), so the group shares one commit. Each action's record is
 * inserted only when the action itself is new.
 */
import { sql, type Kysely } from "kysely";
import type { DatabaseHandle } from "../dialect/index.js";
import type { Database, NewActionRow, NewPendingEnqueueRow } from "../schema/index.js";
import type { Timestamp } from "../timestamps.js";
import { PENDING_ENQUEUE_COLUMNS, POSTGRES_RECORD_TYPES, replaceExistingRecord } from "./pending-enqueue.js";

export interface RecordedInsert {
  /** The row's values as createAction inserts them. */
  values: NewActionRow;
  record: NewPendingEnqueueRow;
}

const keyId = (k: { project: string; domain: string; run_name: string; name: string }) => `${k.project}\n${k.domain}\n${k.run_name}\n${k.name}`;

/** Inserts a group; whether each item's action was new. A key repeated in the group: only the first can be new. */
export type RecordedInsertGroup = (items: readonly RecordedInsert[], now: Timestamp) => Promise<boolean[]>;

export function recordedInsertGroup(h: DatabaseHandle): RecordedInsertGroup {
  const { db } = h;

  async function sqliteGroup(items: readonly RecordedInsert[], now: Timestamp): Promise<boolean[]> {
    return db.transaction().execute(async (trx) => {
      const result: boolean[] = [];
      for (const { values, record } of items) {
        const r = await trx.insertInto("actions").values(values).onConflict((oc) => oc.doNothing()).executeTakeFirst();
        const isNew = Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
        if (isNew) await trx.insertInto("pending_enqueues").values(record).onConflict(replaceExistingRecord(now)).execute();
        result.push(isNew);
      }
      return result;
    });
  }

  async function postgresGroup(items: readonly RecordedInsert[], now: Timestamp): Promise<boolean[]> {
    // Repeated keys would make the records' ON CONFLICT DO UPDATE touch a row twice: the first of a key goes in.
    const firsts = new Map<string, RecordedInsert>();
    for (const item of items) {
      const id = keyId(item.values);
      if (!firsts.has(id)) firsts.set(id, item);
    }
    const group = [...firsts.values()];
    const cast = (column: (typeof PENDING_ENQUEUE_COLUMNS)[number], value: unknown) =>
      sql`${value ?? null}::${sql.raw(POSTGRES_RECORD_TYPES[column])}`;
    const records = sql.join(group.map(({ record }) => sql`(${sql.join(PENDING_ENQUEUE_COLUMNS.map((c) => cast(c, record[c])))})`));
    const query = (db as Kysely<Database>)
      .with("inserted", (qb) =>
        qb
          .insertInto("actions")
          .values(group.map((g) => g.values))
          .onConflict((oc) => oc.doNothing())
          .returning(["project", "domain", "run_name", "name"]),
      )
      .insertInto("pending_enqueues")
      .columns(PENDING_ENQUEUE_COLUMNS)
      .expression(
        sql`SELECT ${sql.join(PENDING_ENQUEUE_COLUMNS.map((c) => sql.ref(`r.${c}`)))}
            FROM (VALUES ${records}) AS r (${sql.join(PENDING_ENQUEUE_COLUMNS.map((c) => sql.ref(c)))})
            JOIN inserted i ON i.project = r.project AND i.domain = r.domain AND i.run_name = r.run_name AND i.name = r.name`,
      )
      .onConflict(replaceExistingRecord(now))
      .returning(["project", "domain", "run_name", "name"])
      .compile();
    // One text per group size: the sizes that recur run as prepared statements.
    const { rows } = await h.executePrepared(query);
    const added = new Set(rows.map(keyId));
    return items.map((item) => {
      const id = keyId(item.values);
      return firsts.get(id) === item && added.has(id);
    });
  }

  return (items, now) => (h.kind === "postgres" ? postgresGroup(items, now) : sqliteGroup(items, now));
}
