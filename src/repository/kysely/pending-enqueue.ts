/** Kysely implementation of PendingEnqueueRepo over the port's `pending_enqueues` table. */
import { sql, type OnConflictBuilder, type OnConflictUpdateBuilder } from "kysely";
import type { Clock } from "../../util/clock.js";
import type { DatabaseHandle } from "../dialect/index.js";
import type { ActionKey } from "../interfaces/action.js";
import type { PendingEnqueueInit, PendingEnqueueRepo } from "../interfaces/pending-enqueue.js";
import type { Bytes } from "../schema/common.js";
import type { Database, NewPendingEnqueueRow } from "../schema/index.js";
import type { Timestamp } from "../timestamps.js";

/** Keys per DELETE statement of removeMany. */
const REMOVE_CHUNK = 200;

/** The row that records `init` for `key`: attempt 1, due when its lease ends. */
export function pendingEnqueueValues(key: ActionKey, init: PendingEnqueueInit, now: Timestamp): NewPendingEnqueueRow {
  return {
    project: key.project,
    domain: key.domain,
    run_name: key.run,
    name: key.action,
    request: init.request,
    attempts: 1,
    next_attempt_at: init.leaseUntil,
    last_error: null,
    created_at: now,
    updated_at: now,
  };
}

/** The columns of a record, in the order pendingEnqueueSelection gives them. */
export const PENDING_ENQUEUE_COLUMNS = ["project", "domain", "run_name", "name", "request", "attempts", "next_attempt_at", "last_error", "created_at", "updated_at"] as const;

export const POSTGRES_RECORD_TYPES: Record<(typeof PENDING_ENQUEUE_COLUMNS)[number], string> = {
  project: "text",
  domain: "text",
  run_name: "text",
  name: "text",
  request: "bytea",
  attempts: "integer",
  next_attempt_at: "timestamptz",
  last_error: "text",
  created_at: "timestamptz",
  updated_at: "timestamptz",
};

/**
 * A record's values as a PostgreSQL select list (each parameter cast to its
 * column's type, which a select list does not infer), for
 * `INSERT INTO pending_enqueues … SELECT`.
 */
export function pendingEnqueueSelection(record: NewPendingEnqueueRow) {
  return PENDING_ENQUEUE_COLUMNS.map((column) => sql`${record[column] ?? null}::${sql.raw(POSTGRES_RECORD_TYPES[column])}`.as(column));
}

/** ON CONFLICT of an insert into pending_enqueues: the new record replaces the one there (new request, attempt 1, new lease). */
export function replaceExistingRecord(now: Timestamp) {
  return (oc: OnConflictBuilder<Database, "pending_enqueues">): OnConflictUpdateBuilder<Database, "pending_enqueues"> =>
    oc.columns(["project", "domain", "run_name", "name"]).doUpdateSet({
      request: sql<Bytes>`excluded.request`,
      attempts: 1,
      next_attempt_at: sql<Timestamp>`excluded.next_attempt_at`,
      last_error: null,
      updated_at: now,
    });
}

export function createPendingEnqueueRepo(h: DatabaseHandle, clock: Clock): PendingEnqueueRepo {
  const { db } = h;

  const removeMany = async (keys: readonly ActionKey[]): Promise<void> => {
    for (let i = 0; i < keys.length; i += REMOVE_CHUNK) {
      const part = keys.slice(i, i + REMOVE_CHUNK);
      let qb = db.deleteFrom("pending_enqueues").where((eb) =>
        eb.or(
          part.map((k) => eb.and([eb("project", "=", k.project), eb("domain", "=", k.domain), eb("run_name", "=", k.run), eb("name", "=", k.action)])),
        ),
      );
      if (h.kind === "postgres") {
        // This statement's commit does not wait for its WAL flush (synchronous_commit off for its own
        // transaction only): a removal lost in a crash only costs a retry that finds the action taken, and
        // waiting would put one more flush between every CreateRun's commits.
        qb = qb.where(sql<boolean>`set_config('synchronous_commit', 'off', true) IS NOT NULL`);
      }
      await qb.execute();
    }
  };

  return {
    async record(key, init) {
      const now = clock.now();
      await db.insertInto("pending_enqueues").values(pendingEnqueueValues(key, init, now)).onConflict(replaceExistingRecord(now)).execute();
    },

    async claim(key, now, leaseUntil) {
      const row = await db
        .updateTable("pending_enqueues")
        .set((eb) => ({ attempts: eb("attempts", "+", 1), next_attempt_at: leaseUntil, updated_at: now }))
        .where("project", "=", key.project)
        .where("domain", "=", key.domain)
        .where("run_name", "=", key.run)
        .where("name", "=", key.action)
        .where("next_attempt_at", "<=", now)
        .returning(["request", "attempts"])
        .executeTakeFirst();
      return row ? { request: row.request, attempt: row.attempts } : undefined;
    },

    async reschedule(key, nextAttemptAt, lastError) {
      await db
        .updateTable("pending_enqueues")
        .set({ next_attempt_at: nextAttemptAt, last_error: lastError, updated_at: clock.now() })
        .where("project", "=", key.project)
        .where("domain", "=", key.domain)
        .where("run_name", "=", key.run)
        .where("name", "=", key.action)
        .execute();
    },

    remove: (key) => removeMany([key]),
    removeMany,

    async listDue(before, limit) {
      let qb = db.selectFrom("pending_enqueues").selectAll();
      if (before !== undefined) qb = qb.where("next_attempt_at", "<=", before);
      return qb
        .orderBy("next_attempt_at")
        .orderBy("project")
        .orderBy("domain")
        .orderBy("run_name")
        .orderBy("name")
        .limit(limit)
        .execute();
    },
  };
}
