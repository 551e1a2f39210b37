import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { EnqueueRequestSchema, type EnqueueRequest } from "#gen/flyteidl2/actions/actions_service_pb.js";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { ProjectSchema } from "#gen/flyteidl2/project/project_service_pb.js";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { openDatabase, type DatabaseHandle } from "../../src/repository/dialect/index.js";
import { createRepository } from "../../src/repository/index.js";
import type { ActionKey } from "../../src/repository/interfaces/action.js";
import type { PendingEnqueueRepo } from "../../src/repository/interfaces/pending-enqueue.js";
import { createPendingEnqueueRepo } from "../../src/repository/kysely/pending-enqueue.js";
import { projectToRow } from "../../src/repository/transformers/project.js";
import type { ActionsClient, EnqueueRequestInit } from "../../src/service/actions-client.js";
import { createEnqueueRetrier, type EnqueueRetrier } from "../../src/service/enqueue-retrier.js";
import { createRunService } from "../../src/service/run-service/index.js";
import { createMemoryBlobStore } from "../../src/storage/index.js";
import { createTestDatabase, MIGRATIONS_DIR, quietLogger, testDialects, type TestDatabase } from "../support/databases.js";
import { manualClock, type ManualClock } from "../support/manual-clock.js";
import { manualTimers, type ManualTimers } from "../support/manual-timers.js";
import { runMigrations } from "../../src/repository/migrate.js";
import { initHandlers, pythonSpec } from "./run-service-fixtures.js";

const PROJECT = "proj";
const DOMAIN = "dev";
const OPTIONS = { initialDelayMs: 1000, maxDelayMs: 8000, leaseMs: 30_000, scanIntervalMs: 60_000, concurrency: 2 };

/** An in-test ActionsService: Enqueue answers are scripted per call (default: accept). */
function fakeExecutor() {
  const enqueued: EnqueueRequest[] = [];
  let script: (call: number) => ConnectError | undefined = () => undefined;
  const client: ActionsClient = {
    async enqueue(req: EnqueueRequestInit) {
      enqueued.push(create(EnqueueRequestSchema, req));
      const error = script(enqueued.length);
      if (error) throw error;
    },
    async abort() {},
  };
  return {
    client,
    enqueued,
    script(fn: (call: number) => ConnectError | undefined) {
      script = fn;
    },
  };
}

const unavailable = () => new ConnectError("executor down", Code.Unavailable);

/** One "process": repositories, a retrier and a RunService whose Enqueue goes through the retrier. */
function processOn(handle: DatabaseHandle, clock: ManualClock, executor: ActionsClient, timers: ManualTimers) {
  const repo = createRepository(handle, clock);
  const pending = createPendingEnqueueRepo(handle, clock);
  const retrier = createEnqueueRetrier({
    ...OPTIONS,
    pending,
    actions: repo.actions,
    client: executor,
    logger: quietLogger,
    clock,
    timers,
    random: () => 0.5,
  });
  const runs = initHandlers(
    RunService,
    createRunService({
      actions: repo.actions,
      tasks: repo.tasks,
      taskSpecs: repo.taskSpecs,
      triggers: repo.triggers,
      projects: repo.projects,
      blobStore: createMemoryBlobStore(),
      enqueuer: retrier,
      storagePrefix: "s3://bucket",
      clock,
      logger: quietLogger,
    }),
  );
  return { repo, pending, retrier, runs };
}

const key = (run: string): ActionKey => ({ project: PROJECT, domain: DOMAIN, run, action: "a0" });

describe.each(await testDialects())("enqueue retrier on %s", (kind) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.reverse()) await fn();
    cleanup.length = 0;
  });

  async function database(): Promise<{ testDb: TestDatabase; open(): Promise<DatabaseHandle> }> {
    const testDb = await createTestDatabase(kind);
    cleanup.push(() => testDb.drop());
    const handles: DatabaseHandle[] = [];
    cleanup.push(async () => {
      for (const h of handles) await h.close();
    });
    return {
      testDb,
      async open() {
        const h = await openDatabase(testDb.config, quietLogger);
        handles.push(h);
        await runMigrations(h, MIGRATIONS_DIR, quietLogger);
        return h;
      },
    };
  }

  async function setup() {
    const db = await database();
    const handle = await db.open();
    const clock = manualClock("2026-03-24T09:00:00.000000Z");
    const timers = manualTimers(clock);
    const executor = fakeExecutor();
    const p = processOn(handle, clock, executor.client, timers);
    await p.repo.projects.create(projectToRow(create(ProjectSchema, { id: PROJECT, name: PROJECT }), clock.now()));
    cleanup.push(() => p.retrier.stop({ graceMs: 0 }));
    const createRun = (run: string) =>
      p.runs.createRun({ id: { case: "runId", value: { project: PROJECT, domain: DOMAIN, name: run } }, task: { case: "taskSpec", value: pythonSpec() } });
    return { db, handle, clock, timers, executor, createRun, ...p };
  }

  it("keeps nothing recorded once the first Enqueue is accepted", async () => {
    const s = await setup();
    s.retrier.start();
    await s.retrier.whenIdle();
    await s.createRun("rok");
    expect(s.executor.enqueued).toHaveLength(1);
    await s.retrier.whenIdle(); // the record's removal runs after CreateRun answered
    expect(await s.pending.listDue(undefined, 10)).toEqual([]);
    expect(s.retrier.waiting()).toEqual([]);
  });

  it("groups the removals of concurrent accepted Enqueues into one statement", async () => {
    const db = await database();
    const handle = await db.open();
    const clock = manualClock("2026-03-24T09:00:00.000000Z");
    const real = createPendingEnqueueRepo(handle, clock);
    const calls: string[] = [];
    const pending: PendingEnqueueRepo = {
      ...real,
      removeMany: (keys) => (calls.push(`remove ${keys.length}`), real.removeMany(keys)),
    };
    const executor = fakeExecutor();
    executor.script((call) => (call === 3 ? unavailable() : undefined));
    const retrier = createEnqueueRetrier({ ...OPTIONS, pending, actions: createRepository(handle, clock).actions, client: executor.client, logger: quietLogger, clock, timers: manualTimers(clock) });
    cleanup.push(() => retrier.stop({ graceMs: 0 }));
    const runs = Array.from({ length: 8 }, (_, i) => `rb${i}`);
    const prepared = runs.map((run) => retrier.prepare({ action: { actionId: { run: { project: PROJECT, domain: DOMAIN, name: run }, name: "a0" } } }));
    for (const [i, p] of prepared.entries()) await real.record(key(runs[i]), p.record!);
    const results = await Promise.allSettled(prepared.map((p) => p.send()));
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
    await retrier.whenIdle();
    expect(calls).toEqual(["remove 7"]);
    // The one the executor refused stays recorded for its retry.
    const left = await real.listDue(undefined, 10);
    expect(left.map((r) => r.run_name)).toEqual([runs[2]]);
  });

  it("record replaces an existing record and removeMany deletes exactly the keys given", async () => {
    const db = await database();
    const handle = await db.open();
    const clock = manualClock("2026-03-24T09:00:00.000000Z");
    const pending = createPendingEnqueueRepo(handle, clock);
    const leaseUntil = "2026-03-24T09:01:00.000000Z";
    for (const run of ["x", "y", "z"]) await pending.record(key(run), { request: new Uint8Array([1]), leaseUntil });
    const claimed = async () => {
      const c = await pending.claim(key("x"), "2026-03-24T09:02:00.000000Z", "2026-03-24T09:03:00.000000Z");
      return c && { request: [...c.request], attempt: c.attempt };
    };
    expect(await claimed()).toEqual({ request: [1], attempt: 2 });
    await pending.record(key("x"), { request: new Uint8Array([2]), leaseUntil });
    expect(await claimed()).toEqual({ request: [2], attempt: 2 });
    await pending.removeMany([key("x"), key("z"), key("absent")]);
    expect((await pending.listDue(undefined, 10)).map((r) => r.run_name)).toEqual(["y"]);
    await pending.removeMany([]);
  });

  it("stores CreateRun's record with the run, and none for a CreateRun of a run that already exists", async () => {
    const s = await setup();
    s.executor.script(() => unavailable());
    await s.createRun("rdup");
    expect((await s.pending.listDue(undefined, 10)).map((r) => [r.run_name, r.attempts])).toEqual([["rdup", 1]]);
    await s.pending.remove(key("rdup"));
    // A second CreateRun of the same run answers with the stored run and records nothing.
    await s.createRun("rdup");
    expect(s.executor.enqueued).toHaveLength(1);
    expect(await s.pending.listDue(undefined, 10)).toEqual([]);
  });

  it("keeps CreateRun's answer, then retries with full-jitter backoff until the executor accepts", async () => {
    const s = await setup();
    s.retrier.start();
    await s.retrier.whenIdle();
    s.executor.script((call) => (call <= 3 ? unavailable() : undefined));

    const res = await s.createRun("rretry");
    expect(res.run?.action?.status?.phase).toBe(ActionPhase.QUEUED);
    expect(s.executor.enqueued).toHaveLength(1);
    const [row] = await s.pending.listDue(undefined, 10);
    expect(row).toMatchObject({ project: PROJECT, domain: DOMAIN, run_name: "rretry", name: "a0", attempts: 1, last_error: "[unavailable] executor down" });
    // Attempt n waits uniform [0, min(8 s, 1 s × 2^(n−1))]; random 0.5 gives half of it.
    expect(row.next_attempt_at).toBe("2026-03-24T09:00:00.500000Z");
    expect(s.retrier.waiting()).toEqual(["proj/dev/rretry/a0"]);

    const settle = () => s.retrier.whenIdle();
    await s.timers.advance(499, settle);
    expect(s.executor.enqueued).toHaveLength(1);
    await s.timers.advance(1, settle); // attempt 2 at +0.5 s fails, next in 1 s
    expect(s.executor.enqueued).toHaveLength(2);
    expect((await s.pending.listDue(undefined, 10))[0]).toMatchObject({ attempts: 2, next_attempt_at: "2026-03-24T09:00:01.500000Z" });
    await s.timers.advance(1000, settle); // attempt 3 fails, next in 2 s
    expect(s.executor.enqueued).toHaveLength(3);
    await s.timers.advance(1999, settle);
    expect(s.executor.enqueued).toHaveLength(3);
    await s.timers.advance(1, settle); // attempt 4 accepted
    expect(s.executor.enqueued).toHaveLength(4);
    expect(await s.pending.listDue(undefined, 10)).toEqual([]);
    expect(s.retrier.waiting()).toEqual([]);
    // Every retry sends exactly CreateRun's request.
    const first = s.executor.enqueued[0];
    for (const req of s.executor.enqueued) expect(req).toEqual(first);
    expect(first.action?.actionId?.run?.name).toBe("rretry");
    expect(first.action?.inputUri).toBe("s3://bucket/proj/dev/rretry/inputs");
    expect(s.timers.delays.filter((d) => d !== OPTIONS.scanIntervalMs)).toEqual([500, 1000, 2000]);
  });

  it("resumes pending retries after a restart (start-up scan), including a first attempt cut short by a crash", async () => {
    const s = await setup();
    s.retrier.start();
    await s.retrier.whenIdle();
    s.executor.script(() => unavailable());
    await s.createRun("rrestart");
    // A crash during CreateRun's own attempt: recorded, never rescheduled (its lease of 30 s still runs).
    await s.createRun("rcrash");
    const crashed = (await s.pending.listDue(undefined, 10)).find((r) => r.run_name === "rcrash")!;
    await s.pending.record(key("rcrash"), { request: crashed.request, leaseUntil: "2026-03-24T09:00:30.000000Z" });
    await s.retrier.stop({ graceMs: 0 });
    const before = s.executor.enqueued.length;

    // "Restart": a new process on the same database, the executor back.
    s.clock.advance(5000);
    const handle2 = await s.db.open();
    const timers2 = manualTimers(s.clock);
    const executor2 = fakeExecutor();
    const p2 = processOn(handle2, s.clock, executor2.client, timers2);
    cleanup.push(() => p2.retrier.stop({ graceMs: 0 }));
    p2.retrier.start();
    await p2.retrier.whenIdle();
    expect(p2.retrier.waiting().sort()).toEqual(["proj/dev/rcrash/a0", "proj/dev/rrestart/a0"]);
    const settle = () => p2.retrier.whenIdle();
    await timers2.advance(0, settle); // rrestart was due at +0.5 s: retried at once
    expect(executor2.enqueued.map((r) => r.action?.actionId?.run?.name)).toEqual(["rrestart"]);
    await timers2.advance(24_999, settle);
    expect(executor2.enqueued).toHaveLength(1);
    await timers2.advance(1, settle); // the crashed attempt's lease ends at +30 s
    expect(executor2.enqueued.map((r) => r.action?.actionId?.run?.name)).toEqual(["rrestart", "rcrash"]);
    expect(await p2.pending.listDue(undefined, 10)).toEqual([]);
    expect(s.executor.enqueued).toHaveLength(before);
  });

  it("stops retrying once the run is aborted, and drops runs the executor already picked up", async () => {
    const s = await setup();
    s.retrier.start();
    await s.retrier.whenIdle();
    s.executor.script(() => unavailable());
    await s.createRun("rabort");
    await s.createRun("rrunning");
    expect(s.executor.enqueued).toHaveLength(2);

    await s.repo.actions.abortRun({ project: PROJECT, domain: DOMAIN, run: "rabort" }, "user");
    await s.repo.actions.updateActionPhase(key("rrunning"), { phase: ActionPhase.RUNNING, attempts: 1, cacheStatus: 0 });
    await s.timers.advance(60_000, () => s.retrier.whenIdle());
    expect(s.executor.enqueued).toHaveLength(2);
    expect(await s.pending.listDue(undefined, 10)).toEqual([]);
    expect(s.retrier.waiting()).toEqual([]);
  });

  it("does not retry a record another replica holds, and two replicas send each retry once", async () => {
    const s = await setup();
    s.retrier.start();
    await s.retrier.whenIdle();
    s.executor.script((call) => (call === 1 ? unavailable() : undefined));
    await s.createRun("rshared");

    const handle2 = await s.db.open();
    const timers2 = manualTimers(s.clock);
    const p2 = processOn(handle2, s.clock, s.executor.client, timers2);
    cleanup.push(() => p2.retrier.stop({ graceMs: 0 }));
    p2.retrier.start();
    await p2.retrier.whenIdle();
    expect(p2.retrier.waiting()).toEqual(["proj/dev/rshared/a0"]);

    // Both replicas' timers come due at the same instant.
    s.clock.advance(500);
    await Promise.all([s.timers.advance(0), timers2.advance(0)]);
    await Promise.all([s.retrier.whenIdle(), p2.retrier.whenIdle()]);
    expect(s.executor.enqueued).toHaveLength(2);
    expect(await s.pending.listDue(undefined, 10)).toEqual([]);
  });

  it("survives database errors: a failed claim is retried later", async () => {
    const s = await setup();
    let failClaims = 1;
    const flaky: PendingEnqueueRepo = {
      ...s.pending,
      async claim(k, now, lease) {
        if (failClaims-- > 0) throw new Error("connection terminated");
        return s.pending.claim(k, now, lease);
      },
    };
    const retrier = createEnqueueRetrier({ ...OPTIONS, pending: flaky, actions: s.repo.actions, client: s.executor.client, logger: quietLogger, clock: s.clock, timers: s.timers, random: () => 0.5 });
    cleanup.push(() => retrier.stop({ graceMs: 0 }));
    s.executor.script((call) => (call === 1 ? unavailable() : undefined));
    await s.createRun("rflaky"); // through the first retrier: recorded, due at +0.5 s
    await s.retrier.stop({ graceMs: 0 });
    retrier.start();
    await retrier.whenIdle();
    const settle = () => retrier.whenIdle();
    await s.timers.advance(500, settle); // claim fails
    expect(s.executor.enqueued).toHaveLength(1);
    await s.timers.advance(1000, settle); // retried after the initial delay
    expect(s.executor.enqueued).toHaveLength(2);
    expect(await s.pending.listDue(undefined, 10)).toEqual([]);
  });
});

describe("enqueue retrier without a database", () => {
  it("sends Enqueue requests without a full action id straight to the executor, with nothing to record", async () => {
    const executor = fakeExecutor();
    const calls: string[] = [];
    const pending = new Proxy({} as PendingEnqueueRepo, {
      get: (_t, name) => async () => {
        calls.push(String(name));
        return [];
      },
    });
    const retrier: EnqueueRetrier = createEnqueueRetrier({ pending, actions: { getAction: async () => { throw new Error("unused"); } }, client: executor.client, logger: quietLogger });
    const prepared = retrier.prepare({ action: { inputUri: "x" } });
    expect(prepared.record).toBeUndefined();
    await prepared.send();
    executor.script(() => unavailable());
    await expect(retrier.prepare({ action: { inputUri: "y" } }).send()).rejects.toThrow("executor down");
    expect(executor.enqueued.map((r) => r.action?.inputUri)).toEqual(["x", "y"]);
    expect(calls).toEqual([]);
  });
});
