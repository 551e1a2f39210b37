import { describe, expect, it } from "vitest";
import { createTokenBucket } from "../../src/scheduler/token-bucket.js";

describe("token bucket", () => {
  it("allows a burst, then one token per 1/rate seconds", () => {
    let now = 1_000_000;
    const bucket = createTokenBucket({ ratePerSecond: 2, burst: 3, nowMs: () => now });
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    // Reservations queue up: 0.5 s, 1 s, 1.5 s.
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([500, 1000, 1500]);
    now += 1500;
    expect(bucket.reserve()).toBe(500);
    now += 10_000;
    // Refills up to the burst only.
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0, 500]);
  });

  it("gives a cancelled reservation back", () => {
    const now = 0;
    const bucket = createTokenBucket({ ratePerSecond: 1, burst: 1, nowMs: () => now });
    expect(bucket.reserve()).toBe(0);
    expect(bucket.reserve()).toBe(1000);
    bucket.release();
    expect(bucket.reserve()).toBe(1000);
  });

  it("rejects a zero rate or burst (a limiter that never lets anything through)", () => {
    expect(() => createTokenBucket({ ratePerSecond: 0, burst: 1, nowMs: () => 0 })).toThrow(RangeError);
    expect(() => createTokenBucket({ ratePerSecond: 1, burst: 0, nowMs: () => 0 })).toThrow(RangeError);
  });
});
