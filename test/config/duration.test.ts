import { describe, expect, it } from "vitest";
import { durationToMs, formatDuration, parseDuration } from "../../src/config/duration.js";

describe("parseDuration", () => {
  it.each([
    ["0", 0],
    ["30s", 30_000],
    ["1h", 3_600_000],
    ["1h30m", 5_400_000],
    ["500ms", 500],
    ["1.5s", 1_500],
    ["1.s", 1_000],
    [".5m", 30_000],
    ["2m3s", 123_000],
    ["1500us", 1.5],
    ["1500\u00b5s", 1.5],
    ["1500\u03bcs", 1.5],
    ["1000000ns", 1],
    ["-5s", -5_000],
    ["+5s", 5_000],
  ])("%s → %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "abc", "30", "1x", "s", ".s", "1.5.3s", "1h30", "-", "1 s", "3000000h"])("rejects %j", (text) => {
    expect(() => parseDuration(text)).toThrow(/invalid duration/);
  });
});

describe("durationToMs", () => {
  it("reads plain numbers as nanoseconds", () => {
    expect(durationToMs(1_000_000_000)).toBe(1_000);
    expect(durationToMs(0)).toBe(0);
  });

  it("reads strings as Go durations and the empty string as zero", () => {
    expect(durationToMs("1m")).toBe(60_000);
    expect(durationToMs("")).toBe(0);
  });

  it("rejects other types", () => {
    expect(() => durationToMs(true)).toThrow(/expected a duration/);
    expect(() => durationToMs({})).toThrow(/expected a duration/);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [500, "500ms"],
    [1_500, "1.5s"],
    [60_000, "1m0s"],
    [5_400_000, "1h30m0s"],
    [0.001, "1\u00b5s"],
    [-30_000, "-30s"],
  ])("%d ms → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
