import { create, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import {
  InternalRunService,
  RecordActionEventStreamRequestSchema,
  RecordActionStreamRequestSchema,
  UpdateActionStatusStreamRequestSchema,
} from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { ActionSpecSchema, ActionType } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { RunInfoSchema } from "#gen/flyteidl2/workflow/run_info_pb.js";
import type { ActionKey, ActionRepo } from "../../src/repository/interfaces/action.js";
import { createInternalRunService } from "../../src/service/internal-run-service/index.js";
import { quietLogger, testDialects } from "../support/databases.js";
import { manualClock } from "../support/manual-clock.js";
import { DOMAIN, PROJECT, actionId, initHandlers, pythonSpec, runServiceFixture, type RunServiceFixture } from "./run-service-fixtures.js";

const key = (run: string, action: string): ActionKey => ({ project: PROJECT, domain: DOMAIN, run, action });
/** The handler context the streams read: only its signal (shutdown), never aborted here. */
const streamContext = () => ({ signal: new AbortController().signal }) as never;

async function* items<T>(...list: T[]): AsyncIterable<T> {
  for (const item of list) yield item;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe.each(await testDialects())("InternalRunService handlers on %s", (kind) => {
  let f: RunServiceFixture;
  beforeAll(async () => {
    f = await runServiceFixture(kind);
    await f.runs.createRun({ id: { case: "runId", value: { org: "o", project: PROJECT, domain: DOMAIN, name: "rexec" } }, task: { case: "taskSpec", value: pythonSpec() } });
  });
  afterAll(async () => f?.drop());
  beforeEach(() => f.clock.advance(1000));

  describe("RecordAction", () => {
    it("records a task child: ids, parent, group, task columns, spec digest; recording it again changes nothing", async () => {
      const res = await f.internal.recordAction({
        actionId: actionId("rexec", "t1"),
        parent: "a0",
        group: "grp",
        inputUri: "s3://b/t1/inputs.pb",
        spec: { case: "task", value: { id: { project: PROJECT, domain: DOMAIN, name: "my_env.sub", version: "v3" }, spec: pythonSpec("my_env.sub", { shortName: "sub" }), cacheKey: "ck" } },
      });
      expect(res.status?.code).toBe(0);
      expect(res.actionId?.name).toBe("t1");
      const row = await f.repo.actions.getAction(key("rexec", "t1"));
      expect([row.parent_action_name, row.action_group, row.phase, row.action_type, row.attempts]).toEqual(["a0", "grp", ActionPhase.QUEUED, ActionType.TASK, 1]);
      expect([row.task_name, row.task_version, row.function_name, row.task_short_name, row.task_type, row.environment_name, row.run_source]).toEqual([
        "my_env.sub", "v3", "my_env.sub", "sub", "python", "my_env", "",
      ]);
      const info = fromBinary(RunInfoSchema, row.detailed_info!);
      expect(info.inputsUri).toBe("s3://b/t1/inputs.pb");
      expect(info.taskSpecDigest).toHaveLength(44);
      const spec = fromBinary(ActionSpecSchema, row.action_spec!);
      expect([spec.parentActionName, spec.group, spec.spec.case === "task" && spec.spec.value.cacheKey]).toEqual(["a0", "grp", "ck"]);

      f.clock.advance(5);
      const again = await f.internal.recordAction({ actionId: actionId("rexec", "t1"), parent: "other", spec: { case: "task", value: { spec: pythonSpec() } } });
      expect(again.status?.code).toBe(0);
      expect(await f.repo.actions.getAction(key("rexec", "t1"))).toEqual(row);
    });

    it("records a trace as SUCCEEDED with its own start/end times and outputs", async () => {
      const res = await f.internal.recordAction({
        actionId: actionId("rexec", "tr1"),
        parent: "a0",
        spec: {
          case: "trace",
          value: {
            name: "fetch",
            phase: ActionPhase.RUNNING,
            startTime: { seconds: 1_700_000_000n, nanos: 0 },
            endTime: { seconds: 1_700_000_002n, nanos: 500_000_000 },
            outputs: { outputUri: "s3://b/tr1/outputs.pb" },
            spec: { interface: {} },
          },
        },
      });
      expect(res.status?.code).toBe(0);
      const row = await f.repo.actions.getAction(key("rexec", "tr1"));
      expect([row.phase, row.action_type, row.task_name, row.function_name]).toEqual([ActionPhase.SUCCEEDED, ActionType.TRACE, "fetch", "fetch"]);
      expect(row.created_at).toBe("2023-11-14T22:13:20.000000Z");
      expect([row.ended_at, row.duration_ms]).toEqual(["2023-11-14T22:13:22.500000Z", 2500]);
      expect(fromBinary(RunInfoSchema, row.detailed_info!).outputsUri).toBe("s3://b/tr1/outputs.pb");
      const details = (await f.runs.getActionDetails({ actionId: actionId("rexec", "tr1") })).details!;
      expect(details.spec.case).toBe("trace");
    });

    it("answers InvalidArgument in the status for no spec, and writes nothing (conditions: conditions.test.ts)", async () => {
      const none = await f.internal.recordAction({ actionId: actionId("rexec", "c2") });
      expect([none.status?.code, none.status?.message]).toEqual([Code.InvalidArgument, "unsupported action spec type: none"]);
      const noId = await f.internal.recordAction({ spec: { case: "task", value: { spec: pythonSpec() } } });
      expect(noId.status?.code).toBe(Code.InvalidArgument);
      const listed = await f.runs.listActions({ runId: { org: "o", project: PROJECT, domain: DOMAIN, name: "rexec" } });
      expect(listed.actions.map((a) => a.id?.name)).not.toContain("c2");
    });
  });

  describe("UpdateActionStatus", () => {
    const update = (action: string, phase: ActionPhase, attempts = 1, extra: Record<string, unknown> = {}) =>
      f.internal.updateActionStatus({ actionId: actionId("rexec", action), status: { phase, attempts, ...extra } });

    it("moves phases forward, ignores moves back, allows a retry after FAILED and stamps the end of a terminal phase", async () => {
      await f.internal.recordAction({ actionId: actionId("rexec", "u1"), parent: "a0", spec: { case: "task", value: { spec: pythonSpec() } } });
      expect((await update("u1", ActionPhase.RUNNING)).status?.code).toBe(0);
      expect((await update("u1", ActionPhase.QUEUED)).status?.code).toBe(0); // ignored, still OK
      expect((await f.repo.actions.getAction(key("rexec", "u1"))).phase).toBe(ActionPhase.RUNNING);
      const failedAt = f.clock.now();
      await update("u1", ActionPhase.FAILED);
      let row = await f.repo.actions.getAction(key("rexec", "u1"));
      expect([row.phase, row.ended_at]).toEqual([ActionPhase.FAILED, failedAt]);
      f.clock.advance(100);
      await update("u1", ActionPhase.QUEUED, 2);
      row = await f.repo.actions.getAction(key("rexec", "u1"));
      expect([row.phase, row.attempts, row.ended_at]).toEqual([ActionPhase.QUEUED, 2, failedAt]);
      await update("u1", ActionPhase.SUCCEEDED, 2, { endTime: { seconds: 1_900_000_000n, nanos: 0 }, cacheStatus: 2 });
      row = await f.repo.actions.getAction(key("rexec", "u1"));
      expect([row.phase, row.cache_status]).toEqual([ActionPhase.SUCCEEDED, 2]);
    });

    it("is OK for an unknown action (nothing changes)", async () => {
      expect((await update("ghost", ActionPhase.RUNNING)).status?.code).toBe(0);
    });
  });

  describe("RecordActionEvents", () => {
    const ev = (action: string, attempt: number, phase: ActionPhase, version = 0, seconds = 1_800_000_000) => ({
      id: actionId("rexec", action),
      attempt,
      phase,
      version,
      updatedTime: { seconds: BigInt(seconds), nanos: 0 },
    });

    it("stores events idempotently and shows them as attempts", async () => {
      await f.internal.recordAction({ actionId: actionId("rexec", "e1"), parent: "a0", spec: { case: "task", value: { spec: pythonSpec() } } });
      const batch = [ev("e1", 1, ActionPhase.RUNNING, 0, 1_800_000_000), ev("e1", 1, ActionPhase.FAILED, 0, 1_800_000_010), ev("e1", 2, ActionPhase.RUNNING, 0, 1_800_000_020)];
      expect((await f.internal.recordActionEvents({ events: batch })).status?.code).toBe(0);
      expect((await f.internal.recordActionEvents({ events: batch })).status?.code).toBe(0);
      const events = await f.repo.actions.listEvents(key("rexec", "e1"), 100);
      expect(events).toHaveLength(3);
      const details = (await f.runs.getActionDetails({ actionId: actionId("rexec", "e1") })).details!;
      expect(details.attempts.map((a) => [a.attempt, a.phase])).toEqual([
        [1, ActionPhase.FAILED],
        [2, ActionPhase.RUNNING],
      ]);
    });

    it("refuses a batch with an attempt 0 or a missing id without storing any of it", async () => {
      const res = await f.internal.recordActionEvents({ events: [ev("e2", 1, ActionPhase.RUNNING), ev("e2", 0, ActionPhase.RUNNING)] });
      expect(res.status?.code).toBe(Code.InvalidArgument);
      expect(await f.repo.actions.listEvents(key("rexec", "e2"), 100)).toEqual([]);
      expect((await f.internal.recordActionEvents({ events: [{ attempt: 1 }] })).status?.code).toBe(Code.InvalidArgument);
      expect((await f.internal.recordActionEvents({ events: [] })).status?.code).toBe(0);
    });
  });

  describe("streams", () => {
    it("RecordActionStream answers each item in order; a bad item gets its status and the stream goes on", async () => {
      const out = await collect(
        f.internalImpl.recordActionStream!(
          items(
            create(RecordActionStreamRequestSchema, { request: { actionId: actionId("rexec", "s1"), parent: "a0", spec: { case: "task", value: { spec: pythonSpec() } } } }),
            create(RecordActionStreamRequestSchema, { request: { actionId: actionId("rexec", "s2"), spec: { case: "task", value: {} } } }),
            create(RecordActionStreamRequestSchema, {}),
            create(RecordActionStreamRequestSchema, { request: { actionId: { run: { org: "o", project: PROJECT, domain: DOMAIN, name: "x".repeat(31) }, name: "s3" }, spec: { case: "task", value: { spec: pythonSpec() } } } }),
            create(RecordActionStreamRequestSchema, { request: { actionId: actionId("rexec", "s4"), parent: "a0", spec: { case: "task", value: { spec: pythonSpec() } } } }),
          ),
          streamContext(),
        ),
      );
      expect(out.map((r) => [r.response?.actionId?.name, r.response?.status?.code])).toEqual([
        ["s1", 0],
        ["s2", Code.InvalidArgument], // TaskAction.spec is required
        [undefined, Code.InvalidArgument],
        ["s3", Code.InvalidArgument], // run name longer than 30
        ["s4", 0],
      ]);
      expect(out[1].response?.status?.message).toMatch(/spec/);
      await f.repo.actions.getAction(key("rexec", "s4"));
    });

    it("UpdateActionStatusStream echoes nonces", async () => {
      const out = await collect(
        f.internalImpl.updateActionStatusStream!(
          items(
            create(UpdateActionStatusStreamRequestSchema, { nonce: 7n, request: { actionId: actionId("rexec", "s1"), status: { phase: ActionPhase.RUNNING, attempts: 1 } } }),
            create(UpdateActionStatusStreamRequestSchema, { nonce: 8n, request: { actionId: actionId("rexec", "s1"), status: { phase: ActionPhase.RUNNING, attempts: 0 } } }),
            create(UpdateActionStatusStreamRequestSchema, { nonce: 9n }),
          ),
          streamContext(),
        ),
      );
      expect(out.map((r) => [r.nonce, r.response?.status?.code])).toEqual([
        [7n, 0],
        [8n, Code.InvalidArgument],
        [9n, Code.InvalidArgument],
      ]);
      expect((await f.repo.actions.getAction(key("rexec", "s1"))).phase).toBe(ActionPhase.RUNNING);
    });

    it("RecordActionEventStream answers with the event's action id and the nonce", async () => {
      const event = (attempt: number): MessageInitShape<typeof RecordActionEventStreamRequestSchema>["request"] => ({
        event: { id: actionId("rexec", "s1"), attempt, phase: ActionPhase.RUNNING, updatedTime: { seconds: 1_800_000_000n, nanos: 0 } },
      });
      const out = await collect(
        f.internalImpl.recordActionEventStream!(
          items(
            create(RecordActionEventStreamRequestSchema, { nonce: 1n, request: event(1) }),
            create(RecordActionEventStreamRequestSchema, { nonce: 2n, request: event(0) }),
            create(RecordActionEventStreamRequestSchema, { nonce: 3n }),
          ),
          streamContext(),
        ),
      );
      expect(out.map((r) => [r.nonce, r.response?.actionId?.name, r.response?.status?.code])).toEqual([
        [1n, "s1", 0],
        [2n, "s1", Code.InvalidArgument],
        [3n, undefined, Code.InvalidArgument],
      ]);
    });
  });
});

/** An action repository whose status updates and inserts fail as an unreachable / broken database would. */
function createInMemoryActionsFailing() {
  const connectionError = new Error("connect ECONNREFUSED");
  const fail = (error: Error) => async () => {
    throw error;
  };
  const actions = {
    updateActionPhase: fail(connectionError),
    createAction: fail(connectionError),
    insertEvents: fail(new Error("syntax error near VALUES")),
  } as unknown as ActionRepo;
  return { actions, connectionError };
}

describe("InternalRunService when the database fails", () => {
  it("reports Unavailable / Internal in the status instead of failing the call", async () => {
    const { actions, connectionError } = createInMemoryActionsFailing();
    const impl = createInternalRunService({
      actions,
      taskSpecs: { put: async () => undefined, get: async () => { throw new Error("unused"); } },
      clock: manualClock(),
      logger: quietLogger,
      isConnectionError: (e) => e === connectionError,
    });
    const h = initHandlers(InternalRunService, impl);
    const down = await h.updateActionStatus({ actionId: actionId("r", "a"), status: { phase: ActionPhase.RUNNING, attempts: 1 } });
    expect(down.status?.code).toBe(Code.Unavailable);
    const broken = await h.recordActionEvents({ events: [{ id: actionId("r", "a"), attempt: 1 }] });
    expect([broken.status?.code, broken.status?.message]).toEqual([Code.Internal, "internal error"]);
    const out = await collect(
      impl.recordActionStream!(
        items(create(RecordActionStreamRequestSchema, { request: { actionId: actionId("r", "a"), spec: { case: "task", value: { spec: pythonSpec() } } } })),
        streamContext(),
      ),
    );
    expect(out[0].response?.status?.code).toBe(Code.Unavailable);
  });
});
