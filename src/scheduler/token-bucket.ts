/**
 * A token bucket (the reference uses golang.org/x/time/rate): tokens refill
 * at `ratePerSecond` up to `burst`; each call takes one. Taking works by
 * reservation: `reserve()` always takes a token, possibly going into debt,
 * and says how long the caller must wait before acting. Concurrent callers
 * therefore queue up fairly without any timers in here.
 */
export interface TokenBucket {
  /** Takes one token; returns the milliseconds to wait before using it (0 = now). */
  reserve(): number;
  /** Gives back a token reserved but not used (the wait was cancelled). */
  release(): void;
}

export interface TokenBucketOptions {
  ratePerSecond: number;
  burst: number;
  /** Milliseconds since the epoch. */
  nowMs: () => number;
}

export function createTokenBucket(opts: TokenBucketOptions): TokenBucket {
  const { ratePerSecond, burst, nowMs } = opts;
  if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) throw new RangeError(`token bucket rate must be positive, got ${ratePerSecond}`);
  if (!(burst >= 1)) throw new RangeError(`token bucket burst must be at least 1, got ${burst}`);
  const perToken = 1000 / ratePerSecond;
  let tokens = burst;
  let last = nowMs();

  function refill(): void {
    const now = nowMs();
    if (now > last) {
      tokens = Math.min(burst, tokens + (now - last) / perToken);
      last = now;
    }
  }

  return {
    reserve() {
      refill();
      tokens -= 1;
      return tokens >= 0 ? 0 : Math.ceil(-tokens * perToken);
    },
    release() {
      refill();
      tokens = Math.min(burst, tokens + 1);
    },
  };
}
