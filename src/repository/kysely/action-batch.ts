/**
 * Batches of the executor streams' writes: many RecordAction rows or many
 * status updates in one transaction, then their notifications. Each item has
 * the effect (and result) the single-item method would have had, applied in
 * the batch's order.
 */
import type { EventBus } from "../../events/bus.js";
import type { Clock } from "../../util/clock.js";
import type { DatabaseHandle } from "../dialect/index.js";
import type { ActionBatchWrites, ActionKey, RunKey } from "../interfaces/action.js";
import type { ActionRow } from "../schema/index.js";
import { actionKeyOf, publishAction, publishRun } from "./action-read.js";
import { earlierStart, endFields, phaseUpdateAllowed, ROOT_ACTION_NAME } from "./action-write.js";

/** Rows per INSERT (34 parameters each, well under both databases' limits). */
const ROWS_PER_INSERT = 100;
/** Names per IN list. */
const NAMES_PER_QUERY = 500;

const keyId = (k: { project: string; domain: string; run: string; action: string }) => `${k.project}\n${k.domain}\n${k.run}\n${k.action}`;
const runId = (k: RunKey) => `${k.project}\n${k.domain}\n${k.run}`;

type Stored = Pick<ActionRow, "phase" | "created_at" | "ended_at">;
type Changes = Record<string, unknown>;

export function createActionBatchWrites(h: DatabaseHandle, clock: Clock, bus: EventBus): ActionBatchWrites {
  const { db } = h;

  return {
    async createActions(rows) {
      if (rows.length === 0) return [];
      const values = rows.map((row) => ({
        ...row,
        ended_at: null,
        duration_ms: null,
        ...(row.ended_at ? endFields(row.created_at, null, row.ended_at) : {}),
      }));
      const inserted = new Set<string>();
      await db.transaction().execute(async (trx) => {
        if (h.kind === "sqlite") {
          // One prepared statement reused row after row: cheaper on SQLite than
          // compiling and preparing a statement per batch size.
          for (const value of values) {
            const r = await trx.insertInto("actions").values(value).onConflict((oc) => oc.doNothing()).executeTakeFirst();
            if (Number(r.numInsertedOrUpdatedRows ?? 0n) > 0) inserted.add(keyId(actionKeyOf(value)));
          }
          return;
        }
        for (let i = 0; i < values.length; i += ROWS_PER_INSERT) {
          const added = await trx
            .insertInto("actions")
            .values(values.slice(i, i + ROWS_PER_INSERT))
            .onConflict((oc) => oc.doNothing())
            .returning(["project", "domain", "run_name", "name"])
            .execute();
          for (const r of added) inserted.add(keyId(actionKeyOf(r)));
        }
      });
      const result: boolean[] = [];
      for (const row of rows) {
        const key = actionKeyOf(row);
        const id = keyId(key);
        // A key repeated in the batch: only its first row counts as new.
        const isNew = inserted.delete(id);
        result.push(isNew);
        if (!isNew) continue;
        publishAction(bus, key);
        if (!row.parent_action_name) publishRun(bus, key);
      }
      return result;
    },

    async updateActionPhases(items) {
      const result = items.map(() => false);
      if (items.length === 0) return result;
      // Rows locked in one order (run, then name) by every batch, so two batches never wait on each other in a cycle.
      const runs = new Map<string, { run: RunKey; names: Set<string> }>();
      for (const { key } of items) {
        const id = runId(key);
        let group = runs.get(id);
        if (!group) runs.set(id, (group = { run: key, names: new Set() }));
        group.names.add(key.action);
      }
      const finals = new Map<string, { key: ActionKey; set: Changes }>();
      await db.transaction().execute(async (trx) => {
        const stored = new Map<string, Stored>();
        for (const id of [...runs.keys()].sort()) {
          const { run, names } = runs.get(id)!;
          const sorted = [...names].sort();
          for (let i = 0; i < sorted.length; i += NAMES_PER_QUERY) {
            let qb = trx
              .selectFrom("actions")
              .select(["name", "phase", "created_at", "ended_at"])
              .where("project", "=", run.project)
              .where("domain", "=", run.domain)
              .where("run_name", "=", run.run)
              .where("name", "in", sorted.slice(i, i + NAMES_PER_QUERY))
              .orderBy("name");
            if (h.kind === "postgres") qb = qb.forUpdate();
            for (const row of await qb.execute()) stored.set(keyId({ ...run, action: row.name }), row);
          }
        }
        items.forEach(({ key, update }, i) => {
          const id = keyId(key);
          const s = stored.get(id);
          if (!s || !phaseUpdateAllowed(s.phase, update.phase)) return;
          const set: Changes = { phase: update.phase, attempts: update.attempts, cache_status: update.cacheStatus, updated_at: clock.now() };
          // As updateActionPhase: an earlier reported start moves created_at
          // back and the duration is measured from it.
          const start = earlierStart(s.created_at, update.startTime);
          const moved = start !== s.created_at;
          if (moved) {
            set.created_at = start;
          }
          const endAt = update.endTime ?? (moved ? s.ended_at : null);
          if (endAt) {
            const end = endFields(start, s.ended_at, endAt);
            Object.assign(set, end);
            s.ended_at = end.ended_at;
          }
          s.created_at = start;
          s.phase = update.phase;
          const final = finals.get(id);
          finals.set(id, { key, set: final ? { ...final.set, ...set } : set });
          result[i] = true;
        });
        for (const { key, set } of finals.values()) {
          await trx
            .updateTable("actions")
            .set(set)
            .where("project", "=", key.project)
            .where("domain", "=", key.domain)
            .where("run_name", "=", key.run)
            .where("name", "=", key.action)
            .execute();
        }
      });
      for (const { key } of finals.values()) publishAction(bus, key);
      const roots = new Set<string>();
      for (const { key } of items) {
        if (key.action === ROOT_ACTION_NAME && !roots.has(runId(key))) {
          roots.add(runId(key));
          publishRun(bus, key);
        }
      }
      return result;
    },
  };
}
