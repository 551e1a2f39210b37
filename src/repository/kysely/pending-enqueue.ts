/** Kysely implementation of PendingEnqueueRepo over the port's `pending_enqueues` table. */
import type { Clock } from "../../util/clock.js";
import type { DatabaseHandle } from "../dialect/index.js";
import type { PendingEnqueueRepo } from "../interfaces/pending-enqueue.js";

export function createPendingEnqueueRepo(h: DatabaseHandle, clock: Clock): PendingEnqueueRepo {
  const { db } = h;

  return {
    async record(key, request, leaseUntil) {
      const now = clock.now();
      await db
        .insertInto("pending_enqueues")
        .values({
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
        })
        .onConflict((oc) =>
          oc.columns(["project", "domain", "run_name", "name"]).doUpdateSet({
            request,
            attempts: 1,
            next_attempt_at: leaseUntil,
            last_error: null,
            updated_at: now,
          }),
        )
        .execute();
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

    async remove(key) {
      await db
        .deleteFrom("pending_enqueues")
        .where("project", "=", key.project)
        .where("domain", "=", key.domain)
        .where("run_name", "=", key.run)
        .where("name", "=", key.action)
        .execute();
    },

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
