import { describe, expect, it } from "vitest";
import { fromEpochMicros, parseTimestamp, toEpochMicros, toSecondsNanos } from "../../src/repository/timestamps.js";

describe("timestamps", () => {
  it("reads PostgreSQL's UTC text (the rows' form) into the canonical form", () => {
    expect(parseTimestamp("2026-01-02 03:04:05.123456+00")).toBe("2026-01-02T03:04:05.123456Z");
    expect(parseTimestamp("2026-01-02 03:04:05.1+00")).toBe("2026-01-02T03:04:05.100000Z");
    expect(parseTimestamp("2026-01-02 03:04:05+00")).toBe("2026-01-02T03:04:05.000000Z");
    expect(parseTimestamp("1965-12-31 23:59:59.999999+00")).toBe("1965-12-31T23:59:59.999999Z");
  });

  it("converts other offsets and RFC 3339 forms to UTC", () => {
    expect(parseTimestamp("2026-01-02 03:04:05.5+01")).toBe("2026-01-02T02:04:05.500000Z");
    expect(parseTimestamp("2026-01-02T03:04:05.123456789-02:30")).toBe("2026-01-02T05:34:05.123456Z");
    expect(parseTimestamp("2026-01-02T03:04:05Z")).toBe("2026-01-02T03:04:05.000000Z");
    expect(parseTimestamp("not a time")).toBeUndefined();
  });

  it("gives a protobuf Timestamp's seconds and nanos, before and after 1970", () => {
    for (const micros of [0n, 1n, 999_999n, 1_000_000n, -1n, -1_000_001n, 1_767_225_845_123_456n, -157_766_400_000_001n]) {
      const ts = fromEpochMicros(micros);
      const { seconds, nanos } = toSecondsNanos(ts);
      expect(seconds * 1_000_000n + BigInt(nanos / 1000)).toBe(micros);
      expect(nanos).toBeGreaterThanOrEqual(0);
      expect(nanos).toBeLessThan(1_000_000_000);
      expect(toEpochMicros(ts)).toBe(micros);
    }
  });
});
