import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { LiteralSchema } from "#gen/flyteidl2/core/literals_pb.js";
import { FixedRateUnit, ScheduleSchema, TriggerAutomationSpecSchema, TriggerAutomationSpecType } from "#gen/flyteidl2/task/common_pb.js";
import { TriggerSpecSchema } from "#gen/flyteidl2/trigger/trigger_definition_pb.js";
import { RunSource } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import type { TriggerRow } from "../../src/repository/schema/index.js";
import { scheduledRunRequest, scheduledInputs } from "../../src/scheduler/run-request.js";
import { scheduledRunName } from "../../src/scheduler/run-name.js";
import { baselineMs, gridTimeline, timelineOf } from "../../src/scheduler/timeline.js";

const ms = (iso: string) => Date.parse(iso);
const isoOf = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

type ScheduleInit = MessageInitShape<typeof ScheduleSchema>;

function row(schedule: ScheduleInit | undefined, fields: Partial<TriggerRow> = {}): TriggerRow {
  const spec = create(TriggerAutomationSpecSchema, schedule ? { type: TriggerAutomationSpecType.TYPE_SCHEDULE, automation: { case: "schedule", value: schedule } } : {});
  return {
    id: 1,
    project: "proj",
    domain: "dev",
    task_name: "env.fn",
    name: "t",
    latest_revision: 1,
    spec: toBinary(TriggerSpecSchema, create(TriggerSpecSchema, { active: true, taskVersion: "v1" })),
    automation_spec: toBinary(TriggerAutomationSpecSchema, spec),
    task_version: "v1",
    active: 1,
    automation_type: schedule ? "TYPE_SCHEDULE" : "TYPE_NONE",
    deployed_by: null,
    updated_by: null,
    deployed_at: "2026-03-24T09:01:10.250000Z",
    updated_at: "2026-03-24T09:01:10.250000Z",
    triggered_at: null,
    deleted_at: null,
    description: null,
    ...fields,
  };
}

const cron = (expression: string, timezone = ""): ScheduleInit => ({ expression: { case: "cron", value: { expression, timezone } } });
const rate = (value: number, unit: FixedRateUnit, startIso?: string): ScheduleInit => ({
  expression: { case: "rate", value: { value, unit, startTime: startIso ? timestampFromMs(ms(startIso)) : undefined } },
});

function slots(r: TriggerRow, n: number, from = baselineMs(r)): (string | undefined)[] {
  const tl = timelineOf(r)!;
  const out: (string | undefined)[] = [];
  let t: number | undefined = from;
  for (let i = 0; i < n && t !== undefined; i++) {
    t = tl.nextAfter(t);
    out.push(isoOf(t));
  }
  return out;
}

describe("trigger timelines", () => {
  it("start strictly after the later of updated_at and triggered_at", () => {
    expect(baselineMs(row(cron("* * * * *")))).toBe(ms("2026-03-24T09:01:10.250Z"));
    expect(baselineMs(row(cron("* * * * *"), { triggered_at: "2026-03-24T10:00:00.100000Z" }))).toBe(ms("2026-03-24T10:00:00.100Z"));
    expect(baselineMs(row(cron("* * * * *"), { triggered_at: "2026-03-24T08:00:00.000000Z" }))).toBe(ms("2026-03-24T09:01:10.250Z"));
  });

  it("a new trigger's first slot is its next one, not its deploy time", () => {
    expect(slots(row(cron("*/5 * * * *")), 2)).toEqual(["2026-03-24T09:05:00.000Z", "2026-03-24T09:10:00.000Z"]);
    expect(slots(row(cron("@hourly")), 1)).toEqual(["2026-03-24T10:00:00.000Z"]);
  });

  it("honour the cron time zone, across daylight-saving changes (structured and CRON_TZ forms)", () => {
    const la = row(cron("0 9 * * *", "America/Los_Angeles"), { updated_at: "2026-03-07T16:59:00.000000Z" });
    expect(slots(la, 3)).toEqual(["2026-03-07T17:00:00.000Z", "2026-03-08T16:00:00.000Z", "2026-03-09T16:00:00.000Z"]);
    const legacy = row({ expression: { case: "cronExpression", value: "CRON_TZ=Europe/Berlin 30 8 * * 1-5" } }, { updated_at: "2026-07-01T00:00:00.000000Z" });
    expect(slots(legacy, 2)).toEqual(["2026-07-01T06:30:00.000Z", "2026-07-02T06:30:00.000Z"]);
    const utc = row(cron("0 9 * * *"), { updated_at: "2026-07-01T08:59:00.000000Z" });
    expect(slots(utc, 1)).toEqual(["2026-07-01T09:00:00.000Z"]);
  });

  it("put fixed rates on a grid anchored at updated_at (cut to the second), or at start_time", () => {
    expect(slots(row(rate(15, FixedRateUnit.MINUTE)), 2)).toEqual(["2026-03-24T09:16:10.000Z", "2026-03-24T09:31:10.000Z"]);
    // After a restart the grid is the same (triggered_at only moves the baseline).
    const restarted = row(rate(15, FixedRateUnit.MINUTE), { triggered_at: "2026-03-24T09:31:12.345678Z" });
    expect(slots(restarted, 1)).toEqual(["2026-03-24T09:46:10.000Z"]);
    // start_time in the past: the next grid point after the baseline.
    expect(slots(row(rate(1, FixedRateUnit.HOUR, "2026-03-01T00:20:00Z")), 2)).toEqual(["2026-03-24T09:20:00.000Z", "2026-03-24T10:20:00.000Z"]);
    // start_time in the future: start_time itself first.
    expect(slots(row(rate(2, FixedRateUnit.DAY, "2026-04-01T06:00:00Z")), 2)).toEqual(["2026-04-01T06:00:00.000Z", "2026-04-03T06:00:00.000Z"]);
    expect(slots(row(cron("@every 90s")), 2)).toEqual(["2026-03-24T09:02:40.000Z", "2026-03-24T09:04:10.000Z"]);
  });

  it("reject unusable schedules and skip triggers without one", () => {
    expect(timelineOf(row(undefined))).toBeUndefined();
    expect(() => timelineOf(row(cron("61 * * * *")))).toThrow(/above maximum/);
    expect(() => timelineOf(row(rate(0, FixedRateUnit.MINUTE)))).toThrow(/greater than 0/);
    expect(() => gridTimeline(0, 0)).toThrow(RangeError);
  });

  it("compute far-away grid slots without iterating", () => {
    const tl = gridTimeline(0, 60_000);
    expect(tl.nextAfter(ms("2100-01-01T00:00:30Z"))).toBe(ms("2100-01-01T00:01:00Z"));
    expect(tl.nextAfter(-1)).toBe(0);
    const day = [ms("2026-01-01T00:00:30Z"), ms("2026-01-02T00:00:00Z")] as const;
    expect(tl.countBetween(...day, 1e9)).toBe(1440);
    expect(tl.countBetween(...day, 10)).toBe(10);
    expect(tl.lastBetween(...day)).toBe(ms("2026-01-02T00:00:00Z"));
    expect(tl.lastBetween(0, 59_999)).toBeUndefined();
    expect(tl.countBetween(0, 59_999, 10)).toBe(0);
  });

  it("find the latest cron slot of a long gap quickly, and count cron slots up to a cap", () => {
    const minutely = timelineOf(row(cron("* * * * *")))!;
    const started = performance.now();
    expect(minutely.lastBetween(ms("2025-01-01T00:00:00Z"), ms("2026-03-24T09:30:30Z"))).toBe(ms("2026-03-24T09:30:00Z"));
    expect(performance.now() - started).toBeLessThan(500);
    const morningHour = timelineOf(row(cron("* 9 * * *")))!;
    expect(morningHour.lastBetween(ms("2026-03-20T00:00:00Z"), ms("2026-03-24T15:00:00Z"))).toBe(ms("2026-03-24T09:59:00Z"));
    expect(morningHour.lastBetween(ms("2026-03-24T10:00:00Z"), ms("2026-03-24T15:00:00Z"))).toBeUndefined();
    const quarter = timelineOf(row(cron("*/15 * * * *")))!;
    expect(quarter.countBetween(ms("2026-03-24T09:00:00Z"), ms("2026-03-24T10:00:00Z"), 100)).toBe(4);
    expect(quarter.countBetween(ms("2026-03-24T09:00:00Z"), ms("2026-03-24T10:00:00Z"), 2)).toBe(2);
    expect(quarter.lastBetween(ms("2026-03-24T09:00:00Z"), ms("2026-03-24T09:00:00Z"))).toBeUndefined();
  });
});

describe("scheduled CreateRun requests", () => {
  const datetimeOf = (l: unknown) => {
    const lit = create(LiteralSchema, l as never);
    if (lit.value.case !== "scalar" || lit.value.value.value.case !== "primitive") return undefined;
    const p = lit.value.value.value.value.value;
    return p.case === "datetime" ? new Date(Number(p.value.seconds) * 1000 + p.value.nanos / 1e6).toISOString() : undefined;
  };

  it("look like the reference's: run id with the deterministic name, trigger name, schedule source", () => {
    const slot = ms("2026-03-24T09:05:00Z");
    const req = scheduledRunRequest(row(cron("*/5 * * * *")), slot);
    expect(req.id).toEqual({ case: "runId", value: expect.objectContaining({ org: "", project: "proj", domain: "dev", name: scheduledRunName({ project: "proj", domain: "dev", taskName: "env.fn", name: "t" }, new Date(slot)) }) });
    expect(req.task).toEqual({ case: "triggerName", value: expect.objectContaining({ org: "", project: "proj", domain: "dev", taskName: "env.fn", name: "t" }) });
    expect(req.source).toBe(RunSource.SCHEDULE_TRIGGER);
    expect(req.inputWrapper.case).toBeUndefined();
    expect(req.runSpec).toBeUndefined();
  });

  it("carry the trigger's inputs and run spec, with the slot time in the kickoff argument", () => {
    const spec = create(TriggerSpecSchema, {
      active: true,
      taskVersion: "v1",
      inputs: {
        literals: [
          { name: "region", value: { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "stringValue", value: "eu" } } } } } } },
          { name: "when", value: { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "integer", value: 0n } } } } } } },
        ],
        context: [{ key: "k", value: "v" }],
      },
      runSpec: { labels: { values: { team: "data" } }, envs: { values: [{ key: "MODE", value: "nightly" }] } },
    });
    const schedule: ScheduleInit = { ...cron("0 * * * *"), kickoffTimeInputArg: "when" };
    const r = row(schedule, { spec: toBinary(TriggerSpecSchema, spec) });
    const req = scheduledRunRequest(r, ms("2026-03-24T10:00:00Z"));
    expect(req.inputWrapper.case).toBe("inputs");
    const inputs = req.inputWrapper.value as NonNullable<typeof spec.inputs>;
    expect(inputs.literals.map((l) => l.name)).toEqual(["region", "when"]);
    expect(datetimeOf(inputs.literals[1].value)).toBe("2026-03-24T10:00:00.000Z");
    expect(inputs.context).toEqual([expect.objectContaining({ key: "k", value: "v" })]);
    expect(req.runSpec?.labels?.values).toEqual({ team: "data" });
    expect(req.runSpec?.envs?.values.map((e) => [e.key, e.value])).toEqual([["MODE", "nightly"]]);
    // The stored spec is not modified.
    expect(fromBinary(TriggerSpecSchema, r.spec).inputs?.literals[1].name).toBe("when");
  });

  it("send only the kickoff literal when the trigger stores no inputs (the reference's request)", () => {
    const inputs = scheduledInputs(undefined, "kickoff", ms("2026-01-01T00:00:00Z"))!;
    expect(inputs.literals.map((l) => [l.name, datetimeOf(l.value)])).toEqual([["kickoff", "2026-01-01T00:00:00.000Z"]]);
    expect(scheduledInputs(undefined, "", 0)).toBeUndefined();
  });
});
