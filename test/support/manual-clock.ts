import { fromEpochMicros, parseTimestamp, toEpochMicros, type Timestamp } from "../../src/repository/timestamps.js";
import type { Clock } from "../../src/util/clock.js";

/** A clock that only moves when told to (microsecond resolution). */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms` milliseconds (fractions allowed down to 1 µs). */
  advance(ms: number): void;
  set(iso: string): void;
}

export function manualClock(start = "2026-01-01T00:00:00.000000Z"): ManualClock {
  let micros = toEpochMicros(parseTimestamp(start)!);
  return {
    nowMs: () => Number(micros / 1000n),
    now: (): Timestamp => fromEpochMicros(micros),
    advance(ms) {
      micros += BigInt(Math.round(ms * 1000));
    },
    set(iso) {
      micros = toEpochMicros(parseTimestamp(iso)!);
    },
  };
}
