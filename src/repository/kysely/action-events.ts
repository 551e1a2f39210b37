/** action_events: inserts (RecordActionEvents) and reads (details, log context, cluster events). */
import type { EventBus } from "../../events/bus.js";
import type { Clock } from "../../util/clock.js";
import type { DatabaseHandle } from "../dialect/index.js";
import type { ActionKey, ActionRepo } from "../interfaces/action.js";
import { publishAction } from "./action-read.js";

/** Rows per INSERT statement (11 parameters each, well under both databases' limits). */
const INSERT_CHUNK = 500;

export function createActionEventMethods(
  h: DatabaseHandle,
  clock: Clock,
  bus: EventBus,
): Pick<ActionRepo, "insertEvents" | "listEvents" | "getLatestEventByAttempt" | "listEventsAfter"> {
  const { db } = h;
  const eventsOf = (key: ActionKey) =>
    db
      .selectFrom("action_events")
      .selectAll()
      .where("project", "=", key.project)
      .where("domain", "=", key.domain)
      .where("run_name", "=", key.run)
      .where("name", "=", key.action);

  return {
    async insertEvents(events) {
      if (events.length === 0) return;
      // Each event gets its own insert time (the clock never repeats), as
      // updated_at orders events for WatchClusterEvents.
      const rows = events.map((e) => {
        const now = clock.now();
        return { ...e, created_at: now, updated_at: now };
      });
      await db.transaction().execute(async (trx) => {
        if (h.kind === "sqlite") {
          // One prepared statement reused row after row (see createActions).
          for (const row of rows) await trx.insertInto("action_events").values(row).onConflict((oc) => oc.doNothing()).execute();
          return;
        }
        for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
          await trx
            .insertInto("action_events")
            .values(rows.slice(i, i + INSERT_CHUNK))
            .onConflict((oc) => oc.doNothing())
            .execute();
        }
      });
      const seen = new Set<string>();
      for (const e of events) {
        const key: ActionKey = { project: e.project, domain: e.domain, run: e.run_name, action: e.name };
        const id = JSON.stringify([key.project, key.domain, key.run, key.action]);
        if (seen.has(id)) continue;
        seen.add(id);
        publishAction(bus, key);
      }
    },

    async listEvents(key, limit) {
      return eventsOf(key).orderBy("attempt").orderBy("phase").orderBy("version").limit(limit).execute();
    },

    async getLatestEventByAttempt(key, attempt) {
      return eventsOf(key)
        .where("attempt", "=", attempt)
        .orderBy("phase", "desc")
        .orderBy("version", "desc")
        .limit(1)
        .executeTakeFirst();
    },

    async listEventsAfter(key, attempt, after, limit) {
      let qb = eventsOf(key).where("attempt", "=", attempt);
      if (after) {
        qb = qb.where((eb) =>
          eb.or([
            eb("updated_at", ">", after.updatedAt),
            eb.and([
              eb("updated_at", "=", after.updatedAt),
              eb.or([
                eb("phase", ">", after.phase),
                eb.and([eb("phase", "=", after.phase), eb("version", ">", after.version)]),
              ]),
            ]),
          ]),
        );
      }
      return qb.orderBy("updated_at").orderBy("phase").orderBy("version").limit(limit).execute();
    },
  };
}
