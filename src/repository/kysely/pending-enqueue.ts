/** Kysely implementation of PendingEnqueueRepo over the port's `pending_enqueues` table. */
import type { Clock } from "../../util/clock.js";
import type { DatabaseHandle } from "../dialect/index.js";
import type { ActionKey } from "../interfaces/action.js";
import type { PendingEnqueueRecord, PendingEnqueueRepo } from "../interfaces/pending-enqueue.js";

/** Keys per DELETE statement of removeMany. */
const REMOVE_CHUNK = 200;

export function createPendingEnqueueRepo(h: DatabaseHandle, clock: Clock): PendingEnqueueRepo {
  const { db } = h;

  const recordMany = async (records: readonly PendingEnqueueRecord[]): Promise<void> => {
    if (records.length === 0) return;
    const now = clock.now();
    await db
      .insertInto("pending_enqueues")
      .values(
        records.map(({ key, request, leaseUntil }) => ({
          project: key.project,
          domain: key.domain,
          run_name: key.run,
          name: key.action,
          request,
          attempts: 1,
          next_attempt_at: leaseUntil,
          last_error: null,
          created_at: now,
          updated_at: now,
        })),
      )
      .onConflict((oc) =>
        oc.columns(["project", "domain", "run_name", "name"]).doUpdateSet((eb) => ({
          request: eb.ref("excluded.request"),
          attempts: 1,
          next_attempt_at: eb.ref("excluded.next_attempt_at"),
          last_error: null,
          updated_at: now,
        })),
      )
      .execute();
  };

  const removeMany = async (keys: readonly ActionKey[]): Promise<void> => {
    for (let i = 0; i < keys.length; i += REMOVE_CHUNK) {
      const part = keys.slice(i, i + REMOVE_CHUNK);
      await db
        .deleteFrom("pending_enqueues")
        .where((eb) =>
          eb.or(
            part.map((k) =>
              eb.and([eb("project", "=", k.project), eb("domain", "=", k.domain), eb("run_name", "=", k.run), eb("name", "=", k.action)]),
            ),
          ),
        )
        .execute();
    }
  };

  return {
    record: (key, request, leaseUntil) => recordMany([{ key, request, leaseUntil }]),
    recordMany,

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
