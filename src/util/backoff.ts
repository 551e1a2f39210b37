/**
 * Retry delays: exponential backoff with full jitter, i.e. a uniformly random
 * delay in [0, min(max, initial × 2^(attempt−1))]. The randomness keeps many
 * retries that failed together from hitting the remote side together again.
 */
export function backoffCeiling(attempt: number, initialMs: number, maxMs: number): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // 2^exponent overflows to Infinity for huge attempts; min() then caps it.
  return Math.max(0, Math.min(maxMs, initialMs * 2 ** exponent));
}

export function fullJitterDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(attempt, initialMs, maxMs);
  return Math.min(ceiling, Math.floor(random() * (ceiling + 1)));
}

/** A cancellable one-shot timer, injectable so tests control time. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Real timers that never keep the process alive on their own. */
export const realTimers: Timers = {
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    handle.unref?.();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
