import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { LiteralSchema } from "#gen/flyteidl2/core/literals_pb.js";
import { InputsSchema } from "#gen/flyteidl2/task/common_pb.js";
import { TaskService } from "#gen/flyteidl2/task/task_service_pb.js";
import {
  InternalRunService,
  UpdateActionStatusStreamRequestSchema,
  RecordActionEventStreamRequestSchema,
} from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { ErrorInfo_Kind } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { CreateRunRequestSchema, RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { createMemoryBlobStore, type MemoryBlobStore } from "../../src/storage/index.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { testDialects } from "../support/databases.js";
import { startFakeActionsService, type FakeActionsService } from "./fake-actions-service.js";

const ORG = "testorg";
const PROJECT = "flytesnacks";
const DOMAIN = "development";
const runId = (name: string) => ({ org: ORG, project: PROJECT, domain: DOMAIN, name });
const actionId = (run: string, name: string) => ({ run: runId(run), name });
const projectId = { organization: ORG, name: PROJECT, domain: DOMAIN };
const spec = (name = "env.hello") => ({
  taskTemplate: {
    id: { org: ORG, project: PROJECT, domain: DOMAIN, name, version: "v1" },
    type: "python",
    metadata: { discoverable: true, discoveryVersion: "1" },
    interface: {},
  },
  shortName: "hello",
  environment: { name: "env" },
  defaultInputs: [{ name: "greeting", parameter: { behavior: { case: "default" as const, value: stringLiteral("hi") } } }],
});
function stringLiteral(s: string) {
  return create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "stringValue", value: s } } } } } });
}
const seconds = (s: number) => ({ seconds: BigInt(s), nanos: 0 });

async function errorOf(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail");
}

async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Small, fast reconciler settings, as in the reference's tests. */
const reconcilerTweak = (maxAttempts = 3, initialDelay = 5) => ({ workers: 2, maxAttempts, queueSize: 100, initialDelay, maxDelay: 20 });

describe.each(await testDialects())("RunService and InternalRunService over a real server on %s", (kind) => {
  let t: TestApp;
  let actions: FakeActionsService;
  let blobs: MemoryBlobStore;
  let runs: Client<typeof RunService>;
  let internal: Client<typeof InternalRunService>;
  let internalGrpc: Client<typeof InternalRunService>;

  beforeAll(async () => {
    actions = await startFakeActionsService();
    blobs = createMemoryBlobStore();
    t = await startTestApp(
      kind,
      (c) => {
        c.runs.actionsServiceUrl = actions.url;
        c.runs.storagePrefix = "s3://runs-bucket/data";
        c.runs.abortReconciler = reconcilerTweak();
      },
      { blobStore: blobs },
    );
    runs = createClient(RunService, t.transports["connect-h2"]);
    internal = createClient(InternalRunService, t.transports["connect-json-h1"]);
    internalGrpc = createClient(InternalRunService, t.transports.grpc);
  });
  afterAll(async () => {
    await t?.close();
    await actions?.close();
  });

  it("plays the SDK: create (named and generated), details, list with paging, actions, abort action, abort run", async () => {
    const created = await runs.createRun({
      id: { case: "runId", value: runId("test-run-001") },
      task: { case: "taskSpec", value: spec() },
      inputWrapper: { case: "inputs", value: { literals: [{ name: "n", value: stringLiteral("5") }] } },
    });
    expect(created.run?.action?.id).toMatchObject({ name: "a0", run: { org: "", project: PROJECT, domain: DOMAIN, name: "test-run-001" } });
    const generated = await runs.createRun({ id: { case: "projectId", value: projectId }, task: { case: "taskSpec", value: spec("env.other") } });
    const generatedName = generated.run!.action!.id!.run!.name;
    expect(generatedName).toMatch(/^r[bcdfghjklmnpqrstvwxz2456789]{19}$/);

    // Enqueue reached the executor with the input prefix, output base and a cache key (discoverable task).
    expect(actions.enqueued.map((e) => e.action?.actionId?.run?.name)).toEqual(["test-run-001", generatedName]);
    const first = actions.enqueued[0].action!;
    expect([first.inputUri, first.runOutputBase]).toEqual([
      `s3://runs-bucket/data/${PROJECT}/${DOMAIN}/test-run-001/inputs`,
      `s3://runs-bucket/data/${PROJECT}/${DOMAIN}/test-run-001/`,
    ]);
    expect(first.spec.case === "task" && first.spec.value.cacheKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const written = fromBinary(InputsSchema, await blobs.read(`${first.inputUri}/inputs.pb`));
    expect(written.literals.map((l) => l.name)).toEqual(["n", "greeting"]);

    const details = (await runs.getRunDetails({ runId: runId("test-run-001") })).details!;
    expect(details.action?.spec.case === "task" && details.action.spec.value.taskTemplate?.type).toBe("python");
    expect(details.runSpec?.rawDataStorage?.rawDataPrefix).toBe("s3://runs-bucket/data");

    const page1 = await runs.listRuns({ scopeBy: { case: "projectId", value: projectId }, request: { limit: 1 } });
    expect(page1.runs.map((r) => r.action?.id?.run?.name)).toEqual([generatedName]);
    const page2 = await runs.listRuns({ scopeBy: { case: "projectId", value: projectId }, request: { limit: 1, token: page1.token } });
    expect(page2.runs.map((r) => r.action?.id?.run?.name)).toEqual(["test-run-001"]);

    const data = await runs.getActionData({ actionId: actionId("test-run-001", "a0") });
    expect(data.inputs?.literals.map((l) => l.name)).toEqual(["n", "greeting"]);

    const listed = await runs.listActions({ runId: runId("test-run-001"), request: { limit: 10 } });
    expect(listed.actions.map((a) => a.id?.name)).toEqual(["a0"]);
    await runs.abortAction({ actionId: actionId("test-run-001", "a0") });
    await runs.abortRun({ runId: runId(generatedName), reason: "testing abort" });
    await actions.waitForAborts(2);
    expect(actions.aborted.map((a) => [a.actionId?.run?.name, a.actionId?.name, a.reason]).sort()).toEqual(
      [
        ["test-run-001", "a0", "User requested abort"],
        [generatedName, "a0", "testing abort"],
      ].sort(),
    );
    await eventually(async () => (await t.app.repository.actions.listPendingAborts()).length === 0);
    const aborted = (await runs.getRunDetails({ runId: runId(generatedName) })).details!;
    expect(aborted.action?.status?.phase).toBe(ActionPhase.ABORTED);
    expect(aborted.action?.result.case === "abortInfo" && aborted.action.result.value.reason).toBe("testing abort");
  });

  it("answers OK to aborting a finished run or action and changes nothing (no Abort to the executor)", async () => {
    await runs.createRun({ id: { case: "runId", value: runId("rdone") }, task: { case: "taskSpec", value: spec() } });
    const child = actionId("rdone", "child1");
    await internal.recordAction({ actionId: child, parent: "a0", spec: { case: "task", value: { id: { org: ORG, project: PROJECT, domain: DOMAIN, name: "env.child", version: "v1" }, spec: spec("env.child") } } });
    await internal.updateActionStatus({ actionId: child, status: { phase: ActionPhase.FAILED, attempts: 1 } });
    await internal.recordActionEvents({
      events: [{ id: actionId("rdone", "a0"), attempt: 1, phase: ActionPhase.SUCCEEDED, updatedTime: seconds(1_780_000_040), outputs: { outputUri: "s3://runs-bucket/out/rdone/outputs.pb" } }],
    });
    await internal.updateActionStatus({ actionId: actionId("rdone", "a0"), status: { phase: ActionPhase.SUCCEEDED, attempts: 1 } });
    const runBefore = (await runs.getRunDetails({ runId: runId("rdone") })).details!;
    const childBefore = (await runs.getActionDetails({ actionId: child })).details!;
    const rowsBefore = [await t.app.repository.actions.getRun({ project: PROJECT, domain: DOMAIN, run: "rdone" }), await t.app.repository.actions.getAction({ project: PROJECT, domain: DOMAIN, run: "rdone", action: "child1" })];
    expect(runBefore.action?.status?.phase).toBe(ActionPhase.SUCCEEDED);
    expect(runBefore.action?.status?.endTime).toBeDefined();
    const abortsBefore = actions.aborted.length;

    await runs.abortRun({ runId: runId("rdone"), reason: "too late" });
    await runs.abortAction({ actionId: child, reason: "too late" });
    await runs.abortAction({ actionId: actionId("rdone", "a0") });
    // Over gRPC too (the UI uses Connect, scripts often gRPC).
    await createClient(RunService, t.transports.grpc).abortRun({ runId: runId("rdone") });

    expect((await runs.getRunDetails({ runId: runId("rdone") })).details).toEqual(runBefore);
    expect((await runs.getActionDetails({ actionId: child })).details).toEqual(childBefore);
    expect([await t.app.repository.actions.getRun({ project: PROJECT, domain: DOMAIN, run: "rdone" }), await t.app.repository.actions.getAction({ project: PROJECT, domain: DOMAIN, run: "rdone", action: "child1" })]).toEqual(rowsBefore);
    expect((await t.app.repository.actions.listPendingAborts()).filter((r) => r.run_name === "rdone")).toEqual([]);
    // Give a wrongly queued abort time to reach the fake executor (the reconciler's first delay is 5 ms).
    await new Promise((r) => setTimeout(r, 200));
    expect(actions.aborted.slice(abortsBefore)).toEqual([]);
    // An unknown run is still NotFound.
    expect((await errorOf(runs.abortRun({ runId: runId("rnope") }))).code).toBe(Code.NotFound);
  });

  it("plays the executor: record children, move phases, record two attempts, see them in the details", async () => {
    await runs.createRun({ id: { case: "runId", value: runId("rexec") }, task: { case: "taskSpec", value: spec() } });
    const child = actionId("rexec", "child1");
    const rec = await internal.recordAction({
      actionId: child,
      parent: "a0",
      inputUri: "s3://runs-bucket/data/child1/inputs.pb",
      spec: { case: "task", value: { id: { org: ORG, project: PROJECT, domain: DOMAIN, name: "env.child", version: "v1" }, spec: spec("env.child") } },
    });
    expect(rec.status?.code).toBe(0);
    const trace = await internal.recordAction({
      actionId: actionId("rexec", "trace1"),
      parent: "a0",
      spec: { case: "trace", value: { name: "fetch", startTime: seconds(1_780_000_000), endTime: seconds(1_780_000_001), spec: { interface: {} } } },
    });
    expect(trace.status?.code).toBe(0);

    // Phases over the bidi stream (gRPC), nonces echoed.
    const statuses = [ActionPhase.INITIALIZING, ActionPhase.RUNNING, ActionPhase.FAILED].map((phase, i) =>
      create(UpdateActionStatusStreamRequestSchema, { nonce: BigInt(i + 1), request: { actionId: child, status: { phase, attempts: 1 } } }),
    );
    const replies = [];
    for await (const r of internalGrpc.updateActionStatusStream((async function* () { yield* statuses; })())) replies.push(r);
    expect(replies.map((r) => [r.nonce, r.response?.status?.code])).toEqual([[1n, 0], [2n, 0], [3n, 0]]);
    // Retry: back to QUEUED with attempt 2, then success.
    expect((await internal.updateActionStatus({ actionId: child, status: { phase: ActionPhase.QUEUED, attempts: 2 } })).status?.code).toBe(0);

    const events = [
      { id: child, attempt: 1, phase: ActionPhase.RUNNING, updatedTime: seconds(1_780_000_010), logContext: { primaryPodName: "pod-a" }, cluster: "c1" },
      { id: child, attempt: 1, phase: ActionPhase.FAILED, updatedTime: seconds(1_780_000_020), errorInfo: { message: "task failed with OOM", kind: ErrorInfo_Kind.USER }, logContext: { primaryPodName: "pod-a" }, cluster: "c1" },
      { id: child, attempt: 2, phase: ActionPhase.RUNNING, updatedTime: seconds(1_780_000_030) },
    ];
    expect((await internal.recordActionEvents({ events })).status?.code).toBe(0);
    expect((await internal.recordActionEvents({ events })).status?.code).toBe(0); // idempotent
    const streamReplies = [];
    for await (const r of internalGrpc.recordActionEventStream(
      (async function* () {
        yield create(RecordActionEventStreamRequestSchema, {
          nonce: 42n,
          request: { event: { id: child, attempt: 2, phase: ActionPhase.SUCCEEDED, updatedTime: seconds(1_780_000_040), outputs: { outputUri: "s3://runs-bucket/out/child1/outputs.pb" } } },
        });
        yield create(RecordActionEventStreamRequestSchema, { nonce: 43n, request: { event: { id: child, attempt: 0 } } });
      })(),
    ))
      streamReplies.push(r);
    expect(streamReplies.map((r) => [r.nonce, r.response?.actionId?.name, r.response?.status?.code])).toEqual([
      [42n, "child1", 0],
      [43n, "child1", Code.InvalidArgument],
    ]);
    await internal.updateActionStatus({ actionId: child, status: { phase: ActionPhase.SUCCEEDED, attempts: 2 } });

    const details = (await runs.getActionDetails({ actionId: child })).details!;
    expect(details.status?.phase).toBe(ActionPhase.SUCCEEDED);
    expect(details.metadata?.parent).toBe("a0");
    expect(details.spec.case === "task" && details.spec.value.taskTemplate?.id?.name).toBe("env.child");
    expect(details.attempts.map((a) => [a.attempt, a.phase])).toEqual([
      [1, ActionPhase.FAILED],
      [2, ActionPhase.SUCCEEDED],
    ]);
    expect(details.attempts[0].errorInfo?.message).toBe("task failed with OOM");
    expect(details.attempts[0].logsAvailable).toBe(true);
    expect((await runs.getActionDataURIs({ actionId: child })).outputsUri).toBe("s3://runs-bucket/out/child1/outputs.pb");
    const logs = await runs.getActionLogContext({ actionId: child, attempt: 1 });
    expect([logs.cluster, logs.logContext?.primaryPodName]).toEqual(["c1", "pod-a"]);
    // The latest event of attempt 2 carries no log context.
    expect((await errorOf(runs.getActionLogContext({ actionId: child, attempt: 2 }))).code).toBe(Code.NotFound);

    const listed = await runs.listActions({ runId: runId("rexec"), request: { limit: 10 } });
    expect(listed.actions.map((a) => a.id?.name).sort()).toEqual(["a0", "child1", "trace1"]);
  });

  it("retries a refused Abort with backoff until it is accepted", async () => {
    await runs.createRun({ id: { case: "runId", value: runId("rretry") }, task: { case: "taskSpec", value: spec() } });
    const before = actions.aborted.length;
    actions.abortScript = (n) => (n - before < 3 ? new ConnectError("executor busy", Code.Unavailable) : undefined);
    try {
      await runs.abortRun({ runId: runId("rretry") });
      await actions.waitForAborts(before + 3);
      await eventually(async () => (await t.app.repository.actions.getRun({ project: PROJECT, domain: DOMAIN, run: "rretry" })).abort_requested_at === null);
      await new Promise((r) => setTimeout(r, 50));
      expect(actions.aborted.length - before).toBe(3);
    } finally {
      actions.abortScript = () => undefined;
    }
  });

  it("gives up after the maximum number of attempts and clears the request", async () => {
    await runs.createRun({ id: { case: "runId", value: runId("rgiveup") }, task: { case: "taskSpec", value: spec() } });
    const before = actions.aborted.length;
    actions.abortScript = () => new ConnectError("no", Code.Internal);
    try {
      await runs.abortRun({ runId: runId("rgiveup") });
      await actions.waitForAborts(before + 3);
      await eventually(async () => (await t.app.repository.actions.getRun({ project: PROJECT, domain: DOMAIN, run: "rgiveup" })).abort_requested_at === null);
      await new Promise((r) => setTimeout(r, 80));
      expect(actions.aborted.length - before).toBe(3);
      // The run itself stays ABORTED.
      expect((await runs.getRunDetails({ runId: runId("rgiveup") })).details?.action?.status?.phase).toBe(ActionPhase.ABORTED);
    } finally {
      actions.abortScript = () => undefined;
    }
  });

  it("runs a deployed task by id", async () => {
    const tasks = createClient(TaskService, t.transports["connect-h2"]);
    const taskId = { org: ORG, project: PROJECT, domain: DOMAIN, name: "env.deployed", version: "v9" };
    await tasks.deployTask({ taskId, spec: spec("env.deployed") });
    const res = await runs.createRun({ id: { case: "runId", value: runId("rbyid") }, task: { case: "taskId", value: taskId } });
    const meta = res.run?.action?.metadata?.spec;
    expect(meta?.case === "task" && meta.value.id?.version).toBe("v9");
    const enqueued = actions.enqueued.at(-1)?.action?.spec;
    expect(enqueued?.case === "task" && enqueued.value.id?.version).toBe("v9");
  });

  it("a failing Enqueue does not fail CreateRun: the run stays QUEUED and the Enqueue is retried until accepted", async () => {
    actions.enqueueScript = () => new ConnectError("no capacity", Code.ResourceExhausted);
    try {
      const res = await runs.createRun({ id: { case: "runId", value: runId("rnoenq") }, task: { case: "taskSpec", value: spec() } });
      expect(res.run?.action?.status?.phase).toBe(ActionPhase.QUEUED);
      expect((await runs.getRunDetails({ runId: runId("rnoenq") })).details?.action?.status?.phase).toBe(ActionPhase.QUEUED);
    } finally {
      actions.enqueueScript = () => undefined;
    }
    // The enqueue retrier (src/service/enqueue-retrier.ts) sends it again (full-jitter backoff from 1 s) until accepted.
    const pending = () => t.app.db.db.selectFrom("pending_enqueues").selectAll().execute();
    for (let waited = 0; (await pending()).length > 0 && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    await t.app.enqueueRetrier.whenIdle();
    expect(await pending()).toEqual([]);
    expect(t.app.enqueueRetrier.waiting()).toEqual([]);
    expect(actions.enqueued.filter((e) => e.action?.actionId?.run?.name === "rnoenq").length).toBeGreaterThanOrEqual(2);
  });

  describe("bad input", () => {
    const countRuns = async () => (await runs.listRuns({ scopeBy: { case: "org", value: ORG }, request: { limit: 200 } })).runs.length;

    it("answers the right code and writes nothing", async () => {
      const runsBefore = await countRuns();
      const blobsBefore = blobs.keys().length;
      const enqueuedBefore = actions.enqueued.length;
      const cases: [string, () => Promise<unknown>, Code][] = [
        ["no id", () => runs.createRun({ task: { case: "taskSpec", value: spec() } }), Code.InvalidArgument],
        ["no task", () => runs.createRun({ id: { case: "runId", value: runId("rbad1") } }), Code.InvalidArgument],
        ["empty project", () => runs.createRun({ id: { case: "projectId", value: { ...projectId, name: "" } }, task: { case: "taskSpec", value: spec() } }), Code.InvalidArgument],
        ["31-character run name", () => runs.createRun({ id: { case: "runId", value: runId("r".repeat(31)) }, task: { case: "taskSpec", value: spec() } }), Code.InvalidArgument],
        ["10 MiB run name", () => runs.createRun({ id: { case: "runId", value: runId("r".repeat(10 * 1024 * 1024)) }, task: { case: "taskSpec", value: spec() } }), Code.InvalidArgument],
        ["unknown project", () => runs.createRun({ id: { case: "runId", value: { ...runId("rbad2"), project: "nope" } }, task: { case: "taskSpec", value: spec() } }), Code.NotFound],
        ["unknown task id", () => runs.createRun({ id: { case: "runId", value: runId("rbad3") }, task: { case: "taskId", value: { org: ORG, project: PROJECT, domain: DOMAIN, name: "nope", version: "v1" } } }), Code.NotFound],
        ["unknown trigger", () => runs.createRun({ id: { case: "runId", value: runId("rbad4") }, task: { case: "triggerName", value: { org: ORG, project: PROJECT, domain: DOMAIN, taskName: "nope", name: "nope" } } }), Code.NotFound],
        ["details without id", () => runs.getRunDetails({}), Code.InvalidArgument],
        ["attempt 0 (log context)", () => runs.getActionLogContext({ actionId: actionId("rexec", "a0"), attempt: 0 }), Code.InvalidArgument],
        ["attempt 0 (events)", () => internal.recordActionEvents({ events: [{ id: actionId("rexec", "a0"), attempt: 0 }] }), Code.InvalidArgument],
        ["list runs without scope", () => runs.listRuns({}), Code.InvalidArgument],
        ["abort without id", () => runs.abortAction({}), Code.InvalidArgument],
        ["unknown run", () => runs.getRunDetails({ runId: runId("rnothere") }), Code.NotFound],
      ];
      for (const [name, call, code] of cases) {
        const err = await errorOf(call());
        expect([name, err.code]).toEqual([name, code]);
      }
      const err = await errorOf(runs.createRun({ id: { case: "runId", value: runId("rbad4") }, task: { case: "triggerName", value: { org: ORG, project: PROJECT, domain: DOMAIN, taskName: "nope", name: "nope" } } }));
      expect(err.rawMessage).toMatch(/^trigger "nope" not found/);
      expect(await countRuns()).toBe(runsBefore);
      expect(blobs.keys()).toHaveLength(blobsBefore);
      expect(actions.enqueued).toHaveLength(enqueuedBefore);
    });

    it("answers a truncated protobuf request with InvalidArgument and keeps serving", async () => {
      const body = toBinary(CreateRunRequestSchema, create(CreateRunRequestSchema, { id: { case: "runId", value: runId("rtrunc") }, task: { case: "taskSpec", value: spec() } }));
      const res = await fetch(`${t.baseUrl}/flyteidl2.workflow.RunService/CreateRun`, {
        method: "POST",
        headers: { "content-type": "application/proto" },
        body: body.subarray(0, body.length - 7),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe("invalid_argument");
      expect((await errorOf(runs.getRunDetails({ runId: runId("rtrunc") }))).code).toBe(Code.NotFound);
      expect((await runs.listRuns({ scopeBy: { case: "org", value: ORG } })).runs.length).toBeGreaterThan(0);
    });

    it("answers WatchRunDetails for an unknown run with NotFound", async () => {
      const err = await errorOf((async () => {
        for await (const _ of runs.watchRunDetails({ runId: runId("never-created") })) break;
      })());
      expect(err.code).toBe(Code.NotFound);
    });
  });
});

describe.each(await testDialects())("abort reconciler across a restart on %s", (kind) => {
  it("resumes pending aborts when the service starts again on the same database", async () => {
    const actions = await startFakeActionsService();
    actions.abortScript = () => new ConnectError("executor down", Code.Unavailable);
    const tweak = (initialDelay: number) => (c: Parameters<NonNullable<Parameters<typeof startTestApp>[1]>>[0]) => {
      c.runs.actionsServiceUrl = actions.url;
      // Long retry delays: the first process never retries before it stops.
      c.runs.abortReconciler = { ...reconcilerTweak(10, initialDelay), maxDelay: initialDelay };
    };
    const first = await startTestApp(kind, tweak(60_000), { blobStore: createMemoryBlobStore() });
    let second: TestApp | undefined;
    try {
      const runs = createClient(RunService, first.transports["connect-h2"]);
      await runs.createRun({ id: { case: "runId", value: runId("rrestart") }, task: { case: "taskSpec", value: spec() } });
      await runs.abortRun({ runId: runId("rrestart"), reason: "restart me" });
      await actions.waitForAborts(1);
      await first.closeApp();
      expect(actions.aborted).toHaveLength(1);
      actions.abortScript = () => undefined;
      const pending = await startTestApp(kind, tweak(5), { blobStore: createMemoryBlobStore(), database: first.database });
      second = pending;
      await actions.waitForAborts(2);
      expect(actions.aborted[1].reason).toBe("restart me");
      expect(actions.aborted[1].actionId).toMatchObject({ name: "a0", run: { project: PROJECT, domain: DOMAIN, name: "rrestart" } });
      await eventually(async () => (await pending.app.repository.actions.listPendingAborts()).length === 0);
      const row = await pending.app.repository.actions.getRun({ project: PROJECT, domain: DOMAIN, run: "rrestart" });
      expect([row.phase, row.abort_requested_at, row.abort_attempt_count]).toEqual([ActionPhase.ABORTED, null, 0]);
    } finally {
      if (second) await second.close();
      else await first.close();
      await actions.close();
    }
  });
});

describe("inputs on a file:// blob store", () => {
  it("writes inputs.pb under the storage prefix on disk and reads it back for GetActionData", async () => {
    const dir = mkdtempSync(join(tmpdir(), "runs-blobs-"));
    const actions = await startFakeActionsService();
    const t = await startTestApp("sqlite", (c) => {
      c.runs.actionsServiceUrl = actions.url;
      c.runs.storagePrefix = `file://${dir}`;
    });
    try {
      const runs = createClient(RunService, t.transports["connect-json-h1"]);
      await runs.createRun({
        id: { case: "runId", value: runId("rfile") },
        task: { case: "taskSpec", value: spec() },
        inputWrapper: { case: "inputs", value: { literals: [{ name: "n", value: stringLiteral("7") }] } },
      });
      const onDisk = fromBinary(InputsSchema, readFileSync(join(dir, PROJECT, DOMAIN, "rfile", "inputs", "inputs.pb")));
      expect(onDisk.literals.map((l) => l.name)).toEqual(["n", "greeting"]);
      const data = await runs.getActionData({ actionId: actionId("rfile", "a0") });
      expect(data.inputs?.literals.map((l) => l.name)).toEqual(["n", "greeting"]);
      expect(actions.enqueued[0].action?.inputUri).toBe(`file://${dir}/${PROJECT}/${DOMAIN}/rfile/inputs`);
    } finally {
      await t.close();
      await actions.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
