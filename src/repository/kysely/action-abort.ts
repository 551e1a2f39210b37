/** AbortRun / AbortAction and the abort reconciler's bookkeeping. */
import type { Transaction } from "kysely";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import type { EventBus } from "../../events/bus.js";
import type { Clock } from "../../util/clock.js";
import type { DatabaseHandle } from "../dialect/index.js";
import { NotFoundError } from "../errors.js";
import type { AbortOutcome, ActionRepo } from "../interfaces/action.js";
import type { ActionRow, Database } from "../schema/index.js";
import { isTerminalPhase } from "../transformers/phase.js";
import {
  ACTION_ROW_COLUMNS,
  actionKeyOf,
  actionLabel,
  lockForUpdate,
  publishAction,
  publishRun,
  runLabel,
  whereAction,
  whereRunRoot,
} from "./action-read.js";
import { endFields } from "./action-write.js";

/**
 * Marks a locked, still running action ABORTED with a pending abort request
 * for the reconciler. A finished action (SUCCEEDED, FAILED, ABORTED,
 * TIMED_OUT) is left unchanged: the abort is already satisfied, as the
 * reference answers, without overwriting the terminal phase as it does.
 */
async function markAborted(trx: Transaction<Database>, stored: ActionRow, reason: string, clock: Clock): Promise<AbortOutcome> {
  if (isTerminalPhase(stored.phase)) {
    return { row: stored, aborted: false };
  }
  const now = clock.now();
  const row = await trx
    .updateTable("actions")
    .set({
      phase: ActionPhase.ABORTED,
      updated_at: now,
      abort_requested_at: now,
      abort_attempt_count: 0,
      abort_reason: reason,
      ...endFields(stored.created_at, stored.ended_at, now),
    })
    .where("project", "=", stored.project)
    .where("domain", "=", stored.domain)
    .where("run_name", "=", stored.run_name)
    .where("name", "=", stored.name)
    .returning(ACTION_ROW_COLUMNS)
    .executeTakeFirstOrThrow();
  return { row, aborted: true };
}

export function createActionAborts(
  h: DatabaseHandle,
  clock: Clock,
  bus: EventBus,
): Pick<ActionRepo, "abortRun" | "abortAction" | "listPendingAborts" | "markAbortAttempt" | "clearAbortRequest"> {
  const { db } = h;
  return {
    async abortRun(key, reason) {
      const outcome = await db.transaction().execute(async (trx) => {
        const stored = await lockForUpdate(h, whereRunRoot(trx.selectFrom("actions").select(ACTION_ROW_COLUMNS), key)).executeTakeFirst();
        if (!stored) throw new NotFoundError(`run not found: ${runLabel(key)}`);
        return markAborted(trx, stored, reason, clock);
      });
      if (outcome.aborted) {
        publishRun(bus, key);
        publishAction(bus, actionKeyOf(outcome.row));
      }
      return outcome;
    },

    async abortAction(key, reason) {
      const outcome = await db.transaction().execute(async (trx) => {
        const stored = await lockForUpdate(h, whereAction(trx.selectFrom("actions").select(ACTION_ROW_COLUMNS), key)).executeTakeFirst();
        if (!stored) throw new NotFoundError(`action not found: ${actionLabel(key)}`);
        return markAborted(trx, stored, reason, clock);
      });
      if (outcome.aborted) {
        publishAction(bus, key);
        // A root aborted this way changes its run too.
        if (outcome.row.parent_action_name === null) publishRun(bus, key);
      }
      return outcome;
    },

    async listPendingAborts() {
      return db
        .selectFrom("actions")
        .select(ACTION_ROW_COLUMNS)
        .where("abort_requested_at", "is not", null)
        .orderBy("abort_requested_at")
        .orderBy("project")
        .orderBy("domain")
        .orderBy("run_name")
        .orderBy("name")
        .execute();
    },

    async markAbortAttempt(key) {
      const row = await db
        .updateTable("actions")
        .set((eb) => ({ abort_attempt_count: eb("abort_attempt_count", "+", 1), updated_at: clock.now() }))
        .where("project", "=", key.project)
        .where("domain", "=", key.domain)
        .where("run_name", "=", key.run)
        .where("name", "=", key.action)
        .returning("abort_attempt_count")
        .executeTakeFirst();
      if (!row) throw new NotFoundError(`action not found: ${actionLabel(key)}`);
      return row.abort_attempt_count;
    },

    async clearAbortRequest(key) {
      await db
        .updateTable("actions")
        .set({ abort_requested_at: null, abort_attempt_count: 0, updated_at: clock.now() })
        .where("project", "=", key.project)
        .where("domain", "=", key.domain)
        .where("run_name", "=", key.run)
        .where("name", "=", key.action)
        .execute();
    },
  };
}
