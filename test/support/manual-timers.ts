import type { Timers } from "../../src/util/backoff.js";
import type { ManualClock } from "./manual-clock.js";

/**
 * Timers driven by a manual clock: nothing fires until `advance` moves the
 * clock past a timer's due time. Timers fire in due order, with the clock set
 * to their due time, and `settle` (e.g. "wait until the component is idle")
 * is awaited after each one.
 */
export interface ManualTimers extends Timers {
  /** Delays asked for, in call order. */
  readonly delays: number[];
  /** Due times (ms) of the armed timers, earliest first. */
  pending(): number[];
  /** Moves the clock forward by `ms`, firing every timer that comes due. */
  advance(ms: number, settle?: () => Promise<void>): Promise<void>;
  /** Fires the earliest timer (moving the clock to it); false when none is armed. */
  fireNext(settle?: () => Promise<void>): Promise<boolean>;
}

export function manualTimers(clock: ManualClock): ManualTimers {
  let seq = 0;
  const armed = new Map<number, { due: number; seq: number; fn: () => void }>();
  const delays: number[] = [];
  const earliest = () => [...armed.entries()].sort((a, b) => a[1].due - b[1].due || a[1].seq - b[1].seq)[0];
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

  async function fire(id: number, settle?: () => Promise<void>): Promise<void> {
    const timer = armed.get(id)!;
    armed.delete(id);
    const now = clock.nowMs();
    if (timer.due > now) clock.advance(timer.due - now);
    timer.fn();
    await flush();
    await settle?.();
  }

  return {
    delays,
    setTimeout(fn, ms) {
      delays.push(ms);
      const id = ++seq;
      armed.set(id, { due: clock.nowMs() + Math.max(0, ms), seq: id, fn });
      return id;
    },
    clearTimeout(handle) {
      armed.delete(handle as number);
    },
    pending: () => [...armed.values()].map((t) => t.due).sort((a, b) => a - b),
    async advance(ms, settle) {
      const target = clock.nowMs() + ms;
      for (;;) {
        const next = earliest();
        if (!next || next[1].due > target) break;
        await fire(next[0], settle);
      }
      const now = clock.nowMs();
      if (target > now) clock.advance(target - now);
    },
    async fireNext(settle) {
      const next = earliest();
      if (!next) return false;
      await fire(next[0], settle);
      return true;
    },
  };
}
