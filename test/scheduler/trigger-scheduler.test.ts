import { create, fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { InputsSchema } from "#gen/flyteidl2/task/common_pb.js";
import { RunSpecSchema } from "#gen/flyteidl2/task/run_pb.js";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { CreateRunRequestSchema, type CreateRunRequest } from "#gen/flyteidl2/workflow/run_service_pb.js";
import type { DatabaseHandle } from "../../src/repository/dialect/index.js";
import { NotFoundError } from "../../src/repository/errors.js";
import type { ScheduleTriggerSource } from "../../src/repository/interfaces/schedule-trigger.js";
import { createScheduleTriggerSource } from "../../src/repository/kysely/schedule-triggers.js";
import type { CreateRunFn } from "../../src/scheduler/in-process.js";
import type { Timers } from "../../src/util/backoff.js";
import { testDialects } from "../support/databases.js";
import { manualClock } from "../support/manual-clock.js";
import { manualTimers } from "../support/manual-timers.js";
import { stringLiteral, stringOf } from "../service/run-service-fixtures.js";
import {
  DOMAIN,
  PREFIX,
  PROJECT,
  TASK,
  cron,
  deleteTrigger,
  deployTrigger,
  runs,
  schedulerProcess,
  seed,
  setActive,
  sharedDatabase,
  triggeredAt,
  type ProcessOptions,
  type SchedulerProcess,
} from "./harness.js";

/** The deterministic name, computed here independently (BigInt FNV-1 64 over the reference's text). */
function expectedName(trigger: string, slotIso: string): string {
  const d = new Date(slotIso);
  const text = [PROJECT, DOMAIN, TASK, trigger, d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()].join(":");
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(text)) h = ((h * 0x100000001b3n) & 0xffffffffffffffffn) ^ BigInt(b);
  return `r${h.toString(16)}`;
}

const key = (name: string) => `${PROJECT}/${DOMAIN}/${TASK}/${name}`;
const slotsOf = (fired: { slot: string }[]) => fired.map((f) => f.slot);

describe.each(await testDialects())("trigger scheduler on %s", (kind) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.reverse()) await fn();
    cleanup.length = 0;
  });

  async function world(start = "2026-03-24T09:01:10.000000Z") {
    const db = await sharedDatabase(kind);
    cleanup.push(() => db.drop());
    const clock = manualClock(start);
    const processes: SchedulerProcess[] = [];
    const spawn = async (opts: ProcessOptions = {}, handle?: DatabaseHandle) => {
      const p = schedulerProcess(handle ?? (await db.open()), clock, opts);
      processes.push(p);
      cleanup.push(() => p.scheduler.stop());
      return p;
    };
    const first = await spawn();
    await seed(first, clock);
    return { db, clock, first, spawn };
  }

  it("fires each slot when it comes due, exactly as the reference's scheduler calls CreateRun, plus the trigger's inputs and run spec", async () => {
    const { clock, first: p } = await world();
    await deployTrigger(p, "every5", cron("*/5 * * * *", "", "kickoff"), {
      inputs: { literals: [{ name: "region", value: stringLiteral("eu") }] },
      runSpec: { labels: { values: { team: "data" } } },
    });
    const registration = await p.scheduler.runPass();
    expect(registration.fired).toEqual([]);
    expect(p.scheduler.registered()).toEqual([`${key("every5")}@1`]);
    // The loop wakes for the next resync (09:01:40) before the first slot (09:05).
    expect(new Date(p.scheduler.nextWakeMs()!).toISOString()).toBe("2026-03-24T09:01:40.000Z");

    clock.set("2026-03-24T09:04:59.999000Z");
    expect((await p.scheduler.runPass()).fired).toEqual([]);
    clock.set("2026-03-24T09:05:00.000000Z");
    const pass = await p.scheduler.runPass();
    const name = expectedName("every5", "2026-03-24T09:05:00Z");
    expect(pass.fired).toEqual([{ trigger: key("every5"), slot: "2026-03-24T09:05:00.000Z", run: name, catchUp: false }]);

    expect(await runs(p.handle)).toEqual([
      { run_name: name, run_source: "RUN_SOURCE_SCHEDULE_TRIGGER", trigger_name: "every5", trigger_task_name: TASK, trigger_revision: 1 },
    ]);
    expect(await triggeredAt(p.handle, "every5")).toBe("2026-03-24T09:05:00.000000Z");
    // Inputs: the trigger's own, the slot time in the kickoff input, then the task's defaults.
    const inputs = fromBinary(InputsSchema, await p.blobs.read(`${PREFIX}/${PROJECT}/${DOMAIN}/${name}/inputs/inputs.pb`));
    expect(inputs.literals.map((l) => l.name)).toEqual(["region", "kickoff", "greeting"]);
    expect(stringOf(inputs.literals[0].value)).toBe("eu");
    const kickoff = inputs.literals[1].value;
    expect(kickoff?.value.case === "scalar" && kickoff.value.value.value.case === "primitive" && kickoff.value.value.value.value.value).toEqual({
      case: "datetime",
      value: expect.objectContaining({ seconds: BigInt(Date.parse("2026-03-24T09:05:00Z") / 1000), nanos: 0 }),
    });
    const run = await p.repo.actions.getRun({ project: PROJECT, domain: DOMAIN, run: name });
    const runSpec = fromBinary(RunSpecSchema, run.run_spec!);
    expect(runSpec.labels?.values).toEqual({ team: "data" });
    expect(runSpec.rawDataStorage?.rawDataPrefix).toBe(PREFIX);
    expect(run.phase).toBe(ActionPhase.QUEUED);
    expect(p.executor.enqueued).toHaveLength(1);

    clock.set("2026-03-24T09:05:30.000000Z");
    expect((await p.scheduler.runPass()).fired).toEqual([]);
    clock.set("2026-03-24T09:10:00.000000Z");
    expect(slotsOf((await p.scheduler.runPass()).fired)).toEqual(["2026-03-24T09:10:00.000Z"]);
  });

  it("first fires a new or re-activated trigger at its next slot: never at once, never for the time it was inactive", async () => {
    const { clock, first: p } = await world();
    await deployTrigger(p, "minutely", cron("* * * * *"));
    expect((await p.scheduler.runPass()).fired).toEqual([]); // the reference fired here, for 09:01:10
    clock.set("2026-03-24T09:02:00.000000Z");
    expect(slotsOf((await p.scheduler.runPass()).fired)).toEqual(["2026-03-24T09:02:00.000Z"]);

    clock.set("2026-03-24T09:02:30.000000Z");
    await setActive(p, "minutely", false);
    clock.set("2026-03-24T09:03:00.000000Z");
    expect((await p.scheduler.runPass()).fired).toEqual([]);
    expect(p.scheduler.registered()).toEqual([]);

    clock.set("2026-03-24T09:10:20.000000Z");
    await setActive(p, "minutely", true);
    clock.set("2026-03-24T09:10:21.000000Z");
    expect((await p.scheduler.runPass({ resync: true })).fired).toEqual([]);
    expect(p.scheduler.registered()).toEqual([`${key("minutely")}@3`]);
    clock.set("2026-03-24T09:11:00.000000Z");
    expect(slotsOf((await p.scheduler.runPass()).fired)).toEqual(["2026-03-24T09:11:00.000Z"]);
    expect((await runs(p.handle)).map((r) => r.run_name).sort()).toEqual(
      [expectedName("minutely", "2026-03-24T09:02:00Z"), expectedName("minutely", "2026-03-24T09:11:00Z")].sort(),
    );
  });

  it("caps catch-up after downtime per pass, shared round-robin, oldest slots first; later slots are on time again", async () => {
    const { clock, first: p1, spawn } = await world("2026-03-24T08:59:30.000000Z");
    await deployTrigger(p1, "a-minutely", cron("* * * * *"));
    await deployTrigger(p1, "b-hourly", cron("0 * * * *"));
    await p1.scheduler.runPass();
    clock.set("2026-03-24T09:00:00.000000Z");
    expect((await p1.scheduler.runPass()).fired.map((f) => [f.trigger, f.slot, f.catchUp])).toEqual([
      [key("a-minutely"), "2026-03-24T09:00:00.000Z", false],
      [key("b-hourly"), "2026-03-24T09:00:00.000Z", false],
    ]);

    // Down until 12:30:30, then a new process with a budget of 5 catch-up runs per pass.
    clock.set("2026-03-24T12:30:30.000000Z");
    const p2 = await spawn({ config: { maxCatchupRunsPerLoop: 5 } });
    const pass = await p2.scheduler.runPass();
    expect(pass.fired.map((f) => [f.trigger, f.slot, f.catchUp])).toEqual([
      [key("a-minutely"), "2026-03-24T09:01:00.000Z", true],
      [key("a-minutely"), "2026-03-24T09:02:00.000Z", true],
      [key("a-minutely"), "2026-03-24T09:03:00.000Z", true],
      [key("b-hourly"), "2026-03-24T10:00:00.000Z", true],
      [key("b-hourly"), "2026-03-24T11:00:00.000Z", true],
    ]);
    expect(pass.skipped).toBe(207 + 1);
    clock.set("2026-03-24T12:31:00.000000Z");
    expect((await p2.scheduler.runPass()).fired.map((f) => [f.slot, f.catchUp])).toEqual([["2026-03-24T12:31:00.000Z", false]]);
    expect(await runs(p2.handle)).toHaveLength(2 + 5 + 1);

    // A budget of 0 turns catch-up off entirely.
    clock.set("2026-03-24T15:00:30.000000Z");
    const p3 = await spawn({ config: { maxCatchupRunsPerLoop: 0 } });
    expect(await p3.scheduler.runPass()).toMatchObject({ fired: [], skipped: expect.any(Number) });
    clock.set("2026-03-24T15:01:00.000000Z");
    expect(slotsOf((await p3.scheduler.runPass()).fired)).toEqual(["2026-03-24T15:01:00.000Z"]);
  });

  it("when a registered trigger falls behind, fires its latest slot on time and only the oldest missed ones within the budget", async () => {
    const { clock, first: p0, spawn } = await world();
    await deployTrigger(p0, "minutely", cron("* * * * *"));
    const p = await spawn({ config: { maxCatchupRunsPerLoop: 2 } });
    await p.scheduler.runPass();
    clock.set("2026-03-24T12:00:30.000000Z"); // the loop stalled for three hours
    const pass = await p.scheduler.runPass();
    expect(pass.fired.map((f) => [f.slot, f.catchUp])).toEqual([
      ["2026-03-24T09:02:00.000Z", true],
      ["2026-03-24T09:03:00.000Z", true],
      ["2026-03-24T12:00:00.000Z", false],
    ]);
    expect(pass.skipped).toBe(179 - 2 - 1);
    clock.set("2026-03-24T12:01:00.000000Z");
    expect((await p.scheduler.runPass()).fired.map((f) => [f.slot, f.catchUp])).toEqual([["2026-03-24T12:01:00.000Z", false]]);
  });

  it("never creates a second run for a slot after a restart, even when the trigger's bookkeeping is lost", async () => {
    const { clock, first: p1, spawn } = await world();
    await deployTrigger(p1, "every5", cron("*/5 * * * *"));
    await p1.scheduler.runPass();
    for (const at of ["09:05", "09:10"]) {
      clock.set(`2026-03-24T${at}:00.000000Z`);
      await p1.scheduler.runPass();
    }
    expect(await runs(p1.handle)).toHaveLength(2);

    // Restart at the same instant: nothing is owed.
    const p2 = await spawn();
    expect((await p2.scheduler.runPass()).fired).toEqual([]);

    // Worst case: triggered_at lost, so the old slots are fired again; CreateRun returns the existing runs.
    await sql`UPDATE triggers SET triggered_at = NULL`.execute(p1.handle.db);
    clock.set("2026-03-24T09:12:00.000000Z");
    const p3 = await spawn();
    const pass = await p3.scheduler.runPass();
    expect(pass.fired.map((f) => f.run)).toEqual([expectedName("every5", "2026-03-24T09:05:00Z"), expectedName("every5", "2026-03-24T09:10:00Z")]);
    expect(await runs(p1.handle)).toHaveLength(2);
    expect(p3.executor.enqueued).toHaveLength(0);
  });

  it("two scheduler instances on one database fire each slot once", async () => {
    const { clock, first: p1, spawn } = await world();
    const p2 = await spawn();
    await deployTrigger(p1, "every5", cron("*/5 * * * *"));
    await deployTrigger(p1, "hourly", cron("@hourly"));
    await Promise.all([p1.scheduler.runPass(), p2.scheduler.runPass()]);
    for (const at of ["09:05", "09:10", "09:15", "10:00"]) {
      clock.set(`2026-03-24T${at}:00.000000Z`);
      const [a, b] = await Promise.all([p1.scheduler.runPass(), p2.scheduler.runPass()]);
      if (kind === "postgres") {
        // Both instances fire every slot and get the same run back.
        expect(a.fired.map((f) => f.run)).toEqual(b.fired.map((f) => f.run));
      }
    }
    // SQLite across two processes: a concurrent writer may get SQLITE_BUSY; that fire is retried.
    clock.advance(10_000);
    await Promise.all([p1.scheduler.runPass(), p2.scheduler.runPass()]);
    const every5: string[] = [];
    for (let t = Date.parse("2026-03-24T09:05:00Z"); t <= Date.parse("2026-03-24T10:00:00Z"); t += 5 * 60_000) {
      every5.push(expectedName("every5", new Date(t).toISOString()));
    }
    const expected = [...every5, expectedName("hourly", "2026-03-24T10:00:00Z")].sort();
    expect((await runs(p1.handle)).map((r) => r.run_name).sort()).toEqual(expected);
    // Only the instance that inserted a run enqueued it.
    expect(p1.executor.enqueued.length + p2.executor.enqueued.length).toBe(expected.length);
  });

  it("reflects deactivate, redeploy and delete at the next resync", async () => {
    const { clock, first: p } = await world();
    const hourly = { config: { resyncInterval: 60_000 } };
    const p60 = schedulerProcess(p.handle, clock, hourly);
    cleanup.push(() => p60.scheduler.stop());
    for (const n of ["t1", "t2", "t3"]) await deployTrigger(p, n, cron("0 * * * *"));
    await p60.scheduler.runPass();
    expect(p60.scheduler.registered()).toEqual([`${key("t1")}@1`, `${key("t2")}@1`, `${key("t3")}@1`]);

    clock.set("2026-03-24T09:01:30.000000Z");
    await setActive(p, "t1", false);
    await deployTrigger(p, "t2", cron("30 * * * *"));
    await deleteTrigger(p, "t3");
    clock.set("2026-03-24T09:02:00.000000Z");
    await p60.scheduler.runPass(); // resync not due yet (09:02:10)
    expect(p60.scheduler.registered()).toEqual([`${key("t1")}@1`, `${key("t2")}@1`, `${key("t3")}@1`]);
    clock.set("2026-03-24T09:02:10.000000Z");
    await p60.scheduler.runPass();
    expect(p60.scheduler.registered()).toEqual([`${key("t2")}@2`]);

    clock.set("2026-03-24T09:30:00.000000Z");
    expect((await p60.scheduler.runPass()).fired.map((f) => [f.trigger, f.slot])).toEqual([[key("t2"), "2026-03-24T09:30:00.000Z"]]);
    clock.set("2026-03-24T10:00:00.000000Z");
    expect((await p60.scheduler.runPass()).fired).toEqual([]);
    expect((await runs(p.handle)).map((r) => [r.trigger_name, r.trigger_revision])).toEqual([["t2", 2]]);
  });

  it("does not fire from a stale copy: a trigger changed since the last resync is re-read first", async () => {
    const { clock, first: p } = await world();
    const p1h = schedulerProcess(p.handle, clock, { config: { resyncInterval: 3_600_000 } });
    cleanup.push(() => p1h.scheduler.stop());
    for (const n of ["t1", "t2", "t3"]) await deployTrigger(p, n, cron("*/5 * * * *"));
    await p1h.scheduler.runPass();
    clock.set("2026-03-24T09:03:00.000000Z");
    await setActive(p, "t1", false);
    await deployTrigger(p, "t2", cron("*/10 * * * *"));
    await deleteTrigger(p, "t3");
    clock.set("2026-03-24T09:05:00.000000Z");
    expect((await p1h.scheduler.runPass()).fired).toEqual([]);
    expect(p1h.scheduler.registered()).toEqual([`${key("t2")}@2`]);
    clock.set("2026-03-24T09:10:00.000000Z");
    expect((await p1h.scheduler.runPass()).fired.map((f) => [f.trigger, f.slot])).toEqual([[key("t2"), "2026-03-24T09:10:00.000Z"]]);
  });

  it("honours the cron time zone", async () => {
    const { clock, first: p } = await world("2026-07-01T08:00:00.000000Z");
    await deployTrigger(p, "la-morning", cron("0 9 * * *", "America/Los_Angeles"));
    await p.scheduler.runPass();
    clock.set("2026-07-01T09:00:00.000000Z"); // 09:00 UTC: when the reference fired
    expect((await p.scheduler.runPass()).fired).toEqual([]);
    clock.set("2026-07-01T16:00:00.000000Z"); // 09:00 PDT
    expect((await p.scheduler.runPass()).fired.map((f) => f.run)).toEqual([expectedName("la-morning", "2026-07-01T16:00:00Z")]);
    clock.set("2026-12-01T16:00:00.000000Z");
    await p.scheduler.runPass({ resync: true }); // catch-up of the slots in between (budget 100)
    clock.set("2026-12-01T16:59:59.000000Z");
    expect((await p.scheduler.runPass()).fired).toEqual([]);
    clock.set("2026-12-01T17:00:00.000000Z"); // 09:00 PST
    expect(slotsOf((await p.scheduler.runPass()).fired)).toEqual(["2026-12-01T17:00:00.000Z"]);
  });

  it("rate-limits CreateRun calls to executionQps after a burst of executionBurst", async () => {
    const { clock, first: p0, spawn } = await world("2026-03-24T08:59:30.000000Z");
    await deployTrigger(p0, "minutely", cron("* * * * *"));
    const calls: number[] = [];
    // Timers that let time pass instantly: each wait moves the clock by its delay.
    const instant: Timers & { delays: number[] } = {
      delays: [],
      setTimeout(fn, ms) {
        instant.delays.push(ms);
        clock.advance(ms);
        return setImmediate(fn);
      },
      clearTimeout: (h) => clearImmediate(h as NodeJS.Immediate),
    };
    clock.set("2026-03-24T09:05:30.000000Z");
    const p = await spawn({
      config: { executionQps: 2, executionBurst: 2 },
      timers: instant,
      wrapCreateRun: (inner) => (req) => {
        calls.push(clock.nowMs());
        return inner(req);
      },
    });
    const pass = await p.scheduler.runPass(); // 6 catch-up slots 09:00 … 09:05
    expect(pass.fired).toHaveLength(6);
    const t0 = Date.parse("2026-03-24T09:05:30Z");
    expect(calls.map((t) => t - t0)).toEqual([0, 0, 500, 1000, 1500, 2000]);
    expect(instant.delays).toEqual([500, 500, 500, 500]);
  });

  it("keeps going through failures: transient CreateRun errors are retried with backoff, permanent ones skip the slot, listing errors keep the schedule", async () => {
    const { clock, first: p0, spawn } = await world();
    await deployTrigger(p0, "every5", cron("*/5 * * * *"));
    let failures: (() => Error)[] = [];
    let listFails = 0;
    const realSource = createScheduleTriggerSource(p0.handle);
    const source: ScheduleTriggerSource = {
      async listActiveSchedules() {
        if (listFails > 0) {
          listFails--;
          throw new Error("connection refused");
        }
        return realSource.listActiveSchedules();
      },
    };
    const wrap = (inner: CreateRunFn): CreateRunFn => async (req: CreateRunRequest) => {
      const fail = failures.shift();
      if (fail) throw fail();
      return inner(create(CreateRunRequestSchema, req));
    };
    const p = await spawn({ wrapCreateRun: wrap, deps: { source } });
    await p.scheduler.runPass();

    failures = [() => new ConnectError("database unavailable", Code.Unavailable), () => new ConnectError("database unavailable", Code.Unavailable)];
    clock.set("2026-03-24T09:05:00.000000Z");
    expect(await p.scheduler.runPass()).toMatchObject({ fired: [], failed: 1 });
    // Full jitter with random 0.5: attempt 1 waits 0.5 s, attempt 2 waits 1 s.
    expect(new Date(p.scheduler.nextWakeMs()!).toISOString()).toBe("2026-03-24T09:05:00.500Z");
    clock.set("2026-03-24T09:05:00.400000Z");
    expect(await p.scheduler.runPass()).toMatchObject({ fired: [], failed: 0 });
    clock.set("2026-03-24T09:05:00.500000Z");
    expect(await p.scheduler.runPass()).toMatchObject({ fired: [], failed: 1 });
    clock.set("2026-03-24T09:05:01.500000Z");
    expect((await p.scheduler.runPass()).fired.map((f) => [f.slot, f.catchUp])).toEqual([["2026-03-24T09:05:00.000Z", false]]);

    // A permanent error gives the slot up at once; the next slot fires normally.
    failures = [() => new NotFoundError("task not found")];
    clock.set("2026-03-24T09:10:00.000000Z");
    expect(await p.scheduler.runPass()).toMatchObject({ fired: [], failed: 1 });
    clock.set("2026-03-24T09:15:00.000000Z");
    expect(slotsOf((await p.scheduler.runPass()).fired)).toEqual(["2026-03-24T09:15:00.000Z"]);

    // Listing fails at a resync: logged, the registered triggers keep firing.
    listFails = 1;
    clock.set("2026-03-24T09:20:00.000000Z");
    expect(slotsOf((await p.scheduler.runPass()).fired)).toEqual(["2026-03-24T09:20:00.000Z"]);
    expect(p.scheduler.registered()).toEqual([`${key("every5")}@1`]);
  });

  it("a scheduler whose start-up listing fails keeps retrying instead of stopping the process", async () => {
    const { clock, first: p0, spawn } = await world();
    await deployTrigger(p0, "every5", cron("*/5 * * * *"));
    let listFails = 2;
    const realSource = createScheduleTriggerSource(p0.handle);
    const timers = manualTimers(clock);
    const p = await spawn({
      timers,
      deps: {
        source: {
          async listActiveSchedules() {
            if (listFails-- > 0) throw new Error("database is starting up");
            return realSource.listActiveSchedules();
          },
        },
      },
    });
    p.scheduler.start();
    await p.scheduler.whenIdle();
    expect(p.scheduler.registered()).toEqual([]);
    const settle = () => p.scheduler.whenIdle();
    await timers.advance(5_000, settle);
    expect(p.scheduler.registered()).toEqual([`${key("every5")}@1`]);
    await timers.advance(Date.parse("2026-03-24T09:05:00Z") - clock.nowMs(), settle);
    expect(await runs(p.handle)).toHaveLength(1);
    await p.scheduler.stop();
  });

  it("runs as a loop on its timers: sleeps until the next slot or resync, and stops cleanly", async () => {
    const { clock, first: p0, spawn } = await world();
    await deployTrigger(p0, "every5", cron("*/5 * * * *"));
    const timers = manualTimers(clock);
    const p = await spawn({ timers });
    p.scheduler.start();
    p.scheduler.start(); // idempotent
    await p.scheduler.whenIdle();
    expect(p.scheduler.registered()).toEqual([`${key("every5")}@1`]);
    // Next wake: the resync at 09:01:40 (before the 09:05 slot).
    expect(timers.pending().map((t) => new Date(t).toISOString())).toEqual(["2026-03-24T09:01:40.000Z"]);
    const settle = () => p.scheduler.whenIdle();
    await timers.advance(Date.parse("2026-03-24T09:05:00Z") - clock.nowMs(), settle);
    expect((await runs(p.handle)).map((r) => r.run_name)).toEqual([expectedName("every5", "2026-03-24T09:05:00Z")]);
    await timers.advance(10 * 60_000, settle);
    expect(await runs(p.handle)).toHaveLength(3);
    await p.scheduler.stop();
    expect(timers.pending()).toEqual([]);
  });
});
