import { fromEpochMicros, type Timestamp } from "../repository/timestamps.js";

/** Source of "now", passed in so schedulers, reconcilers and tests can control time. */
export interface Clock {
  /** Milliseconds since the epoch. */
  nowMs(): number;
  /** The current time as a canonical microsecond timestamp. */
  now(): Timestamp;
}

/**
 * The wall clock. Successive calls never go
 * backwards and never repeat, so rows created in the same process keep a
 * stable creation order.
 */
export function systemClock(): Clock {
  let last = 0n;
  return {
    nowMs: () => Date.now(),
    now: () => {
      // Millisecond wall time; calls within one millisecond get successive
      // microseconds so that they still sort in call order.
      let micros = BigInt(Date.now()) * 1000n;
      if (micros <= last) micros = last + 1n;
      last = micros;
      return fromEpochMicros(micros);
    },
  };
}
