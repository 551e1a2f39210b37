import { describe, expect, it } from "vitest";
import { cronSpec, CronSyntaxError, parseCron, parseGoDuration, resolveTimezone } from "../../src/scheduler/cron.js";

const at = (iso: string) => new Date(iso);
const iso = (d: Date | undefined) => d?.toISOString();

function runs(spec: string, from: string, n: number): (string | undefined)[] {
  const schedule = parseCron(spec);
  const out: (string | undefined)[] = [];
  let t: Date | undefined = at(from);
  for (let i = 0; i < n && t; i++) {
    t = schedule.next(t);
    out.push(iso(t));
  }
  return out;
}

describe("cron grammar (robfig standard parser)", () => {
  it.each([
    "* * * * *",
    "*/5 * * * ?",
    "0 0 1 1 *",
    "0-59/15 1,2,3 1-31 JAN-dec MON-fri",
    "5/10 * * * *",
    "0 12 * * sun",
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
    "@every 1h30m",
    "@every 90s",
    "@every 1.5s",
    "CRON_TZ=America/New_York 0 9 * * 1-5",
    "TZ=Europe/Berlin @daily",
    "CRON_TZ=UTC   0 0 * * *",
    "  0   0  *  *  *  ",
  ])("accepts %j", (spec) => {
    expect(() => parseCron(spec)).not.toThrow();
  });

  it.each([
    ["", /empty spec/],
    ["* * * *", /expected exactly 5 fields, found 4/],
    ["0 * * * * *", /expected exactly 5 fields, found 6/],
    ["0 0 * * * * 2026", /expected exactly 5 fields/],
    ["60 * * * *", /above maximum/],
    ["* 24 * * *", /above maximum/],
    ["* * 0 * *", /below minimum/],
    ["* * 32 * *", /above maximum/],
    ["* * * 13 *", /above maximum/],
    ["* * * * 7", /above maximum/],
    ["5-1 * * * *", /beyond end of range/],
    ["*/0 * * * *", /step of range should be a positive number/],
    ["1-2-3 * * * *", /too many hyphens/],
    ["*/2/3 * * * *", /too many slashes/],
    ["a * * * *", /failed to parse int/],
    ["* * L * *", /failed to parse int/],
    ["* * * * 1#2", /failed to parse int/],
    ["* * 15W * *", /failed to parse int/],
    ["* * * jan-foo *", /failed to parse int/],
    ["@reboot", /unrecognized descriptor/],
    ["@DAILY", /unrecognized descriptor/],
    ["@every", /unrecognized descriptor/],
    ["@every 1x", /failed to parse duration/],
    ["@every ", /failed to parse duration/],
    ["CRON_TZ=Nowhere/City 0 0 * * *", /provided bad location/],
    ["CRON_TZ=america/new_york 0 0 * * *", /provided bad location/],
    ["CRON_TZ=UTC", /missing schedule/],
  ])("rejects %j", (spec, message) => {
    const error = (() => {
      try {
        parseCron(spec);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(CronSyntaxError);
    expect(error!.message).toMatch(message);
  });

  it("prefixes a zone the way the reference does", () => {
    expect(cronSpec("0 0 * * *", "")).toBe("0 0 * * *");
    expect(cronSpec("0 0 * * *", "Asia/Tokyo")).toBe("CRON_TZ=Asia/Tokyo 0 0 * * *");
  });

  it("parses Go durations", () => {
    expect(parseGoDuration("1h30m")).toBe(5_400_000_000_000n);
    expect(parseGoDuration("1.5s")).toBe(1_500_000_000n);
    expect(parseGoDuration("-2m")).toBe(-120_000_000_000n);
    expect(parseGoDuration("0")).toBe(0n);
    expect(parseGoDuration("300ms")).toBe(300_000_000n);
    expect(parseGoDuration("2\u00b5s")).toBe(2_000n);
    expect(() => parseGoDuration("1")).toThrow(CronSyntaxError);
    expect(() => parseGoDuration(".s")).toThrow(CronSyntaxError);
    expect(() => parseGoDuration("1d")).toThrow(/unknown unit/);
  });

  it("resolves zone names like Go's LoadLocation", () => {
    expect(resolveTimezone("")).toBe("UTC");
    expect(resolveTimezone("UTC")).toBe("UTC");
    expect(resolveTimezone("Europe/Paris")).toBe("Europe/Paris");
    expect(() => resolveTimezone("+01:00")).toThrow(CronSyntaxError);
  });
});

describe("next fire time", () => {
  it("is strictly after the given time, on whole seconds", () => {
    expect(runs("0 12 * * *", "2026-03-01T12:00:00.000Z", 2)).toEqual([
      "2026-03-02T12:00:00.000Z",
      "2026-03-03T12:00:00.000Z",
    ]);
    expect(runs("*/15 * * * *", "2026-03-01T00:07:31.250Z", 3)).toEqual([
      "2026-03-01T00:15:00.000Z",
      "2026-03-01T00:30:00.000Z",
      "2026-03-01T00:45:00.000Z",
    ]);
  });

  it("ORs day-of-month and day-of-week when both are restricted, ANDs when one is *", () => {
    // 2026-03-01 is a Sunday.
    expect(runs("0 0 5 * 1", "2026-03-01T00:00:00Z", 3)).toEqual([
      "2026-03-02T00:00:00.000Z",
      "2026-03-05T00:00:00.000Z",
      "2026-03-09T00:00:00.000Z",
    ]);
    expect(runs("0 0 * * 1", "2026-03-01T00:00:00Z", 2)).toEqual(["2026-03-02T00:00:00.000Z", "2026-03-09T00:00:00.000Z"]);
    expect(runs("0 0 5 * *", "2026-03-01T00:00:00Z", 2)).toEqual(["2026-03-05T00:00:00.000Z", "2026-04-05T00:00:00.000Z"]);
    // "*/2" is not "*": both restricted ⇒ OR.
    expect(runs("0 0 */10 * 3", "2026-03-01T00:00:00Z", 3)).toEqual([
      "2026-03-04T00:00:00.000Z",
      "2026-03-11T00:00:00.000Z",
      "2026-03-18T00:00:00.000Z",
    ]);
  });

  it("expands descriptors", () => {
    expect(runs("@weekly", "2026-03-02T10:00:00Z", 1)).toEqual(["2026-03-08T00:00:00.000Z"]);
    expect(runs("@monthly", "2026-03-02T10:00:00Z", 1)).toEqual(["2026-04-01T00:00:00.000Z"]);
    expect(runs("@yearly", "2026-03-02T10:00:00Z", 1)).toEqual(["2027-01-01T00:00:00.000Z"]);
    expect(runs("@hourly", "2026-03-02T10:00:00Z", 1)).toEqual(["2026-03-02T11:00:00.000Z"]);
  });

  it("reads the fields in the given zone", () => {
    expect(runs("CRON_TZ=America/New_York 30 2 * * *", "2026-01-10T00:00:00Z", 1)).toEqual(["2026-01-10T07:30:00.000Z"]);
    expect(runs("CRON_TZ=Asia/Tokyo 0 9 * * *", "2026-01-10T00:00:00Z", 1)).toEqual(["2026-01-11T00:00:00.000Z"]);
  });

  it("@every adds the delay to the time cut to its second, and rounds sub-second delays up to one second", () => {
    expect(runs("@every 1h30m", "2026-03-01T00:00:10.700Z", 2)).toEqual([
      "2026-03-01T01:30:10.000Z",
      "2026-03-01T03:00:10.000Z",
    ]);
    expect(runs("@every 100ms", "2026-03-01T00:00:00.500Z", 1)).toEqual(["2026-03-01T00:00:01.000Z"]);
    expect(runs("@every 2.9s", "2026-03-01T00:00:00Z", 1)).toEqual(["2026-03-01T00:00:02.000Z"]);
  });

  it("never fires for impossible dates", () => {
    expect(runs("0 0 30 2 *", "2026-01-01T00:00:00Z", 1)).toEqual([undefined]);
    expect(runs(", * * * *", "2026-01-01T00:00:00Z", 1)).toEqual([undefined]);
  });
});
