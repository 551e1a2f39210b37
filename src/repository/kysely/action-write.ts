/** Action inserts (CreateRun, RecordAction) and phase-guarded status updates (UpdateActionStatus). */
import type { Kysely } from "kysely";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import type { EventBus } from "../../events/bus.js";
import type { Clock } from "../../util/clock.js";
import type { DatabaseHandle } from "../dialect/index.js";
import type { ActionRepo, CreateActionResult } from "../interfaces/action.js";
import type { ActionRow, Database, NewActionRow, NewPendingEnqueueRow } from "../schema/index.js";
import { createGroupCommit } from "../../util/group-commit.js";
import { recordedInsertGroup, type RecordedInsert } from "./action-group.js";
import { parseTimestamp, toEpochMicros, type Timestamp } from "../timestamps.js";
import { NotFoundError } from "../errors.js";
import {
  ACTION_ROW_COLUMNS,
  actionKeyOf,
  actionLabel,
  lockForUpdate,
  publishAction,
  publishRun,
  whereAction,
} from "./action-read.js";
import { PENDING_ENQUEUE_COLUMNS, pendingEnqueueSelection, pendingEnqueueValues, replaceExistingRecord } from "./pending-enqueue.js";

/** The root action's name: status updates of "a0" also notify run watchers. */
export const ROOT_ACTION_NAME = "a0";

/** Phases an action may leave for a lower one (a retry of the action). */
const RETRYABLE: ReadonlySet<number> = new Set([ActionPhase.FAILED, ActionPhase.TIMED_OUT]);

/**
 * Phases a PAUSED action may settle into. PAUSED (9) sorts above every
 * terminal phase, so without this a signalled, timed-out or aborted condition
 * would stay PAUSED for ever. Only terminal phases: a paused action never resumes.
 */
const SETTLES_PAUSED: ReadonlySet<number> = new Set([
  ActionPhase.SUCCEEDED,
  ActionPhase.FAILED,
  ActionPhase.ABORTED,
  ActionPhase.TIMED_OUT,
]);

export interface EndFields {
  ended_at: Timestamp;
  duration_ms: number;
}

/**
 * ended_at and duration_ms once an action ends: an existing ended_at is kept
 * (the first end wins), otherwise the end time but never before created_at;
 * duration_ms is ended_at − created_at in milliseconds, rounded half up.
 */
export function endFields(createdAt: Timestamp, existingEnd: Timestamp | null, end: Timestamp): EndFields {
  const created = toEpochMicros(createdAt);
  let endedAt = existingEnd;
  if (endedAt === null) endedAt = toEpochMicros(end) > created ? end : createdAt;
  const micros = toEpochMicros(endedAt) - created;
  const ms = micros <= 0n ? 0n : (micros + 500n) / 1000n;
  return { ended_at: endedAt, duration_ms: Number(ms) };
}

/** Whether the phase guard lets an action in `stored` move to `next`. */
export function phaseUpdateAllowed(stored: number, next: number): boolean {
  return stored <= next || RETRYABLE.has(stored) || (stored === ActionPhase.PAUSED && SETTLES_PAUSED.has(next));
}

/** The earlier of the stored start and a reported one (an action's start only ever moves back). */
export function earlierStart(createdAt: Timestamp, reported: Timestamp | undefined): Timestamp {
  return reported !== undefined && toEpochMicros(reported) < toEpochMicros(createdAt) ? reported : createdAt;
}

const TIMESTAMP_COLUMNS = ["abort_requested_at", "created_at", "updated_at", "ended_at"] as const;

/** CreateRun groups written at once on PostgreSQL (each on its own pooled connection). */
const POSTGRES_GROUPS_IN_FLIGHT = 2;

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}

type MarkTriggered = NonNullable<Parameters<ActionRepo["createAction"]>[1]>["markTriggered"];

export function createActionWrites(
  h: DatabaseHandle,
  clock: Clock,
  bus: EventBus,
): Pick<ActionRepo, "createAction" | "updateActionPhase" | "updateActionDetailedInfo"> {
  const { db } = h;

  /** The row the database holds after inserting `values`, as a read would return it. */
  function storedRow(values: NewActionRow): ActionRow {
    const row: Record<string, unknown> = {};
    for (const column of ACTION_ROW_COLUMNS) {
      const value = values[column] ?? null;
      // Both drivers read blobs back as Buffers (a view here, not a copy).
      row[column] = value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value;
    }
    if (h.kind === "postgres") {
      // TIMESTAMPTZ reads back in canonical form whatever text was written.
      for (const column of TIMESTAMP_COLUMNS) {
        const value = row[column];
        if (typeof value === "string") row[column] = parseTimestamp(value) ?? value;
      }
    }
    return row as unknown as ActionRow;
  }

  /** What createAction answers once `values` was inserted (new) or found taken (the stored row). */
  async function settle(values: NewActionRow, isNew: boolean): Promise<CreateActionResult> {
    if (!isNew) {
      const existing = await whereAction(db.selectFrom("actions").select(ACTION_ROW_COLUMNS), actionKeyOf(values)).executeTakeFirstOrThrow();
      return { row: existing, inserted: false };
    }
    const stored = storedRow(values);
    const key = actionKeyOf(stored);
    publishAction(bus, key);
    if (stored.parent_action_name === null) publishRun(bus, key);
    return { row: stored, inserted: true };
  }

  /** createAction written on its own. */
  async function createNow(values: NewActionRow, trigger: MarkTriggered | undefined, record: NewPendingEnqueueRow | undefined, now: Timestamp): Promise<boolean> {
    const insert = async (conn: Kysely<Database>): Promise<boolean> => {
      const result = await conn.insertInto("actions").values(values).onConflict((oc) => oc.doNothing()).executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    };
    if (!trigger && !record) {
      // One statement: no transaction, and no RETURNING, since a new row is
      // exactly the values just written.
      return insert(db);
    }
    if (!trigger && record && h.kind === "postgres") {
      // One statement and one commit: the record is inserted from the
      // action insert's RETURNING, so only for a new action.
      // The same text on every call: a prepared statement, planned once per connection.
      const query = db
        .with("inserted", (qb) => qb.insertInto("actions").values(values).onConflict((oc) => oc.doNothing()).returning("name"))
        .insertInto("pending_enqueues")
        .columns(PENDING_ENQUEUE_COLUMNS)
        .expression((eb) => eb.selectFrom("inserted").select(pendingEnqueueSelection(record)))
        .onConflict(replaceExistingRecord(now))
        .compile();
      const result = await h.executePrepared(query);
      return Number(result.numAffectedRows ?? 0n) > 0;
    }
    return db.transaction().execute(async (trx) => {
      if (!(await insert(trx))) return false;
      if (trigger) {
        await trx
          .updateTable("triggers")
          .set({ triggered_at: now })
          .where("project", "=", trigger.project)
          .where("domain", "=", trigger.domain)
          .where("task_name", "=", trigger.taskName)
          .where("name", "=", trigger.name)
          .execute();
      }
      if (record) await trx.insertInto("pending_enqueues").values(record).onConflict(replaceExistingRecord(now)).execute();
      return true;
    });
  }

  // CreateRun's inserts (an action with its Enqueue record, no trigger): concurrent calls share one
  // transaction (SQLite) or one statement (PostgreSQL); a failed group is written again item by item.
  const insertGroup = recordedInsertGroup(h);
  const grouped = createGroupCommit<RecordedInsert, boolean>({
    // A group of one (one CreateRun in flight) takes the single-item statement, which PostgreSQL plans faster.
    flush: async (items) => (items.length === 1 ? [await createNow(items[0]!.values, undefined, items[0]!.record, clock.now())] : insertGroup(items, clock.now())),
    single: (item) => createNow(item.values, undefined, item.record, clock.now()),
    maxInFlight: h.kind === "postgres" ? POSTGRES_GROUPS_IN_FLIGHT : 1,
    // A busy (another process holds SQLite's write lock) or lost database fails every item alike: writing
    // them one by one would only wait for the lock once more per item.
    retryAlone: (error) => !(h.isConnectionError(error) || isBusy(error)),
  });

  return {
    async createAction(row, opts) {
      const now = clock.now();
      const values = {
        ...row,
        ended_at: null,
        duration_ms: null,
        ...(row.ended_at ? endFields(row.created_at, null, row.ended_at) : {}),
      };
      const trigger = opts?.markTriggered;
      const record = opts?.pendingEnqueue && pendingEnqueueValues(actionKeyOf(row), opts.pendingEnqueue, now);
      const isNew = record && !trigger ? await grouped.add({ values, record }) : await createNow(values, trigger, record, now);
      return settle(values, isNew);
    },

    async updateActionPhase(key, update) {
      const changed = await db.transaction().execute(async (trx) => {
        const stored: Pick<ActionRow, "phase" | "created_at" | "ended_at"> | undefined = await lockForUpdate(
          h,
          whereAction(trx.selectFrom("actions").select(["phase", "created_at", "ended_at"]), key),
        ).executeTakeFirst();
        if (!stored || !phaseUpdateAllowed(stored.phase, update.phase)) return false;
        // A reported start earlier than the row's moves created_at back, and the
        // duration is measured from it (also when the end was stored before).
        const start = earlierStart(stored.created_at, update.startTime);
        const moved = start !== stored.created_at;
        const end = update.endTime ?? (moved ? stored.ended_at : null);
        const result = await trx
          .updateTable("actions")
          .set({
            phase: update.phase,
            attempts: update.attempts,
            cache_status: update.cacheStatus,
            updated_at: clock.now(),
            ...(moved ? { created_at: start } : {}),
            ...(end ? endFields(start, stored.ended_at, end) : {}),
          })
          .where("project", "=", key.project)
          .where("domain", "=", key.domain)
          .where("run_name", "=", key.run)
          .where("name", "=", key.action)
          .executeTakeFirst();
        return Number(result.numUpdatedRows) > 0;
      });
      if (changed) publishAction(bus, key);
      if (key.action === ROOT_ACTION_NAME) publishRun(bus, key);
      return changed;
    },

    async updateActionDetailedInfo(key, detailedInfo) {
      const result = await db
        .updateTable("actions")
        .set({ detailed_info: detailedInfo, updated_at: clock.now() })
        .where("project", "=", key.project)
        .where("domain", "=", key.domain)
        .where("run_name", "=", key.run)
        .where("name", "=", key.action)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw new NotFoundError(`action not found: ${actionLabel(key)}`);
      // Watchers learn about a write that changes no phase, too.
      publishAction(bus, key);
      if (key.action === ROOT_ACTION_NAME) publishRun(bus, key);
    },
  };
}
