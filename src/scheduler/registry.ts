/**
 * The scheduler's registered triggers: one entry per live, active schedule
 * trigger, replaced when its revision changes (redeploy, re-activation) and
 * dropped when it disappears (deactivated, deleted). Logs every change.
 */
import type { Logger } from "pino";
import { sqlBool, type TriggerRow } from "../repository/schema/index.js";
import type { Entry } from "./plan.js";
import { baselineMs, timelineOf, type Timeline } from "./timeline.js";

export function triggerKeyString(t: { project: string; domain: string; task_name: string; name: string }): string {
  return `${t.project}/${t.domain}/${t.task_name}/${t.name}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

export interface Registry {
  /** Registered entries in the source's (stable) order. */
  entries(): IterableIterator<Entry>;
  size(): number;
  /** Whether `entry` is still the registered one for its trigger. */
  holds(entry: Entry): boolean;
  /** Brings the entries in line with the active triggers just listed. */
  reconcile(rows: readonly TriggerRow[], nowMs: number): void;
  /** Registers `row` (a new revision) in place of `entry`. */
  replace(entry: Entry, row: TriggerRow, nowMs: number): void;
  remove(entry: Entry, why: string): void;
}

export function createRegistry(log: Logger): Registry {
  let byKey = new Map<string, Entry>();
  /** Unusable schedules already reported, by key@revision (so each is logged once). */
  const reportedInvalid = new Set<string>();

  /**
   * A fresh entry: slots after the trigger's baseline (the later of its
   * updated_at and triggered_at) are owed; undefined when it schedules
   * nothing usable.
   */
  function register(row: TriggerRow, nowMs: number, previous: Entry | undefined): Entry | undefined {
    const key = triggerKeyString(row);
    let timeline: Timeline | undefined;
    try {
      timeline = timelineOf(row);
    } catch (error) {
      const tag = `${key}@${row.latest_revision}`;
      if (!reportedInvalid.has(tag)) {
        reportedInvalid.add(tag);
        const err = error instanceof Error ? error.message : String(error);
        log.error({ trigger: key, revision: row.latest_revision, err }, "trigger has an unusable schedule; not scheduling it");
      }
      return undefined;
    }
    if (!timeline) return undefined;
    const cursorMs = baselineMs(row);
    const next = timeline.nextAfter(cursorMs);
    log.info(
      {
        trigger: key,
        revision: row.latest_revision,
        schedule: timeline.description,
        after: iso(cursorMs),
        firstSlot: next === undefined ? null : iso(next),
        replaces: previous?.row.latest_revision,
      },
      previous ? "trigger re-registered (new revision)" : "trigger registered",
    );
    return { key, row, timeline, registeredAtMs: nowMs, cursorMs, failures: 0, slotAttempts: 0 };
  }

  return {
    entries: () => byKey.values(),
    size: () => byKey.size,
    holds: (entry) => byKey.get(entry.key) === entry,

    reconcile(rows, nowMs) {
      const next = new Map<string, Entry>();
      for (const row of rows) {
        // The listing filters these already; checked again for any other source.
        if (row.deleted_at !== null || !sqlBool(row.active)) continue;
        const key = triggerKeyString(row);
        const existing = byKey.get(key);
        if (existing && existing.row.latest_revision === row.latest_revision) {
          next.set(key, existing);
          continue;
        }
        const entry = register(row, nowMs, existing);
        if (entry) next.set(key, entry);
      }
      for (const [key, entry] of byKey) {
        if (next.has(key)) continue;
        const listed = rows.some((r) => triggerKeyString(r) === key);
        log.info(
          { trigger: key, revision: entry.row.latest_revision },
          listed ? "trigger unregistered (schedule no longer usable)" : "trigger unregistered (deactivated or deleted)",
        );
      }
      byKey = next;
    },

    replace(entry, row, nowMs) {
      const replacement = register(row, nowMs, entry);
      if (replacement) byKey.set(entry.key, replacement);
      else byKey.delete(entry.key);
    },

    remove(entry, why) {
      if (byKey.get(entry.key) !== entry) return;
      byKey.delete(entry.key);
      log.info({ trigger: entry.key, revision: entry.row.latest_revision }, why);
    },
  };
}
