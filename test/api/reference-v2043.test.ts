// Behaviours of the reference's v2.0.43 that the 2.0.16 wire carries, over a real server with the generated
// clients, on both databases: condition actions (human in the loop), PAUSED settling, action_type filters, the
// real action start, DNS-1035 run names, and runs by trigger name carrying the trigger's run spec and inputs.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Filter_Function } from "#gen/flyteidl2/common/list_pb.js";
import { EnrichedIdentitySchema } from "#gen/flyteidl2/common/identity_pb.js";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { LiteralSchema } from "#gen/flyteidl2/core/literals_pb.js";
import { SimpleType } from "#gen/flyteidl2/core/types_pb.js";
import { InputsSchema } from "#gen/flyteidl2/task/common_pb.js";
import { TaskService } from "#gen/flyteidl2/task/task_service_pb.js";
import {
  InternalRunService,
  RecordActionStreamRequestSchema,
  UpdateActionStatusRequestSchema,
} from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { ActionType, ConditionActionSchema } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { RunInfoSchema } from "#gen/flyteidl2/workflow/run_info_pb.js";
import { RunService, type WatchActionsResponse } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { newActionRow } from "../../src/repository/transformers/action-row.js";
import { createMemoryBlobStore, type MemoryBlobStore } from "../../src/storage/index.js";
import { systemClock } from "../../src/util/clock.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { testDialects } from "../support/databases.js";
import { startFakeActionsService, type FakeActionsService } from "./fake-actions-service.js";
import { follow, latestActions } from "./watch-helpers.js";

const ORG = "testorg";
const PROJECT = "flytesnacks";
const DOMAIN = "development";
const runId = (name: string) => ({ org: ORG, project: PROJECT, domain: DOMAIN, name });
const actionId = (run: string, name: string) => ({ run: runId(run), name });
const taskSpec = (name = "env.hello") => ({
  taskTemplate: { id: { org: ORG, project: PROJECT, domain: DOMAIN, name, version: "v1" }, type: "python", interface: {} },
  shortName: "hello",
  environment: { name: "env" },
});
const stringLiteral = (s: string) =>
  create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "stringValue", value: s } } } } } });
const boolLiteral = (b: boolean) =>
  create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "boolean", value: b } } } } } });
const condition = () =>
  create(ConditionActionSchema, { name: "approve", prompt: "approve?", type: { type: { case: "simple", value: SimpleType.BOOLEAN } } });

async function errorOf(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail");
}

/** A length-delimited field as a newer executor (IDL ≥ 2.0.43) puts it on the wire. */
function rawField(no: number, bytes: Uint8Array) {
  return { no, wireType: WireType.LengthDelimited, data: new BinaryWriter().bytes(bytes).finish() };
}

describe.each(await testDialects())("v2.0.43 behaviours over a real server on %s", (kind) => {
  let t: TestApp;
  let executor: FakeActionsService;
  let blobs: MemoryBlobStore;
  let runs: Client<typeof RunService>;
  let runsJson: Client<typeof RunService>;
  let internal: Client<typeof InternalRunService>;
  let internalGrpc: Client<typeof InternalRunService>;
  let tasks: Client<typeof TaskService>;

  beforeAll(async () => {
    executor = await startFakeActionsService();
    blobs = createMemoryBlobStore();
    t = await startTestApp(
      kind,
      (c) => {
        c.runs.actionsServiceUrl = executor.url;
        c.runs.storagePrefix = "s3://runs-bucket/data";
      },
      { blobStore: blobs },
    );
    runs = createClient(RunService, t.transports["connect-h2"]);
    runsJson = createClient(RunService, t.transports["connect-json-h1"]);
    internal = createClient(InternalRunService, t.transports["connect-h2"]);
    internalGrpc = createClient(InternalRunService, t.transports.grpc);
    tasks = createClient(TaskService, t.transports["connect-json-h1"]);
  });
  afterAll(async () => {
    await t?.close();
    await executor?.close();
  });

  it("a condition is recorded, listed, detailed and watched like any action, and settles from PAUSED with its signal kept", async () => {
    await runs.createRun({ id: { case: "runId", value: runId("rcond") }, task: { case: "taskSpec", value: taskSpec() } });
    const watch = follow((signal) => runs.watchActions({ runId: runId("rcond") }, { signal }));
    const node = (name: string) => latestActions(watch.messages as WatchActionsResponse[]).get(name);
    await watch.until(() => node("a0") !== undefined, "the root");

    // Recorded over the executor's bidi stream, as the Go executor does.
    const replies = [];
    for await (const r of internalGrpc.recordActionStream(
      (async function* () {
        yield create(RecordActionStreamRequestSchema, { request: { actionId: actionId("rcond", "c1"), parent: "a0", spec: { case: "condition", value: condition() } } });
      })(),
    ))
      replies.push(r);
    expect(replies.map((r) => [r.response?.actionId?.name, r.response?.status?.code])).toEqual([["c1", 0]]);

    const listed = await runsJson.listActions({ runId: runId("rcond"), request: { limit: 10 } });
    expect(listed.actions.map((a) => a.id?.name).sort()).toEqual(["a0", "c1"]);
    const details = (await runsJson.getActionDetails({ actionId: actionId("rcond", "c1") })).details!;
    expect(details.metadata?.actionType).toBe(ActionType.CONDITION);
    expect(details.metadata?.spec).toMatchObject({ case: "condition", value: { name: "approve" } });
    expect([details.metadata?.funtionName, details.metadata?.parent, details.status?.phase]).toEqual(["approve", "a0", ActionPhase.QUEUED]);

    await watch.until(() => node("c1") !== undefined, "the condition");
    expect(node("c1")!.action?.metadata?.spec).toMatchObject({ case: "condition", value: { name: "approve" } });
    expect(node("a0")!.childrenPhaseCounts).toEqual({ [ActionPhase.QUEUED]: 1 });

    // Paused for a human, then signalled: the value and who signalled ride along in fields the 2.0.16 IDL does not declare.
    expect((await internal.updateActionStatus({ actionId: actionId("rcond", "c1"), status: { phase: ActionPhase.PAUSED, attempts: 1 } })).status?.code).toBe(0);
    await watch.until(() => node("c1")?.action?.status?.phase === ActionPhase.PAUSED, "PAUSED");
    expect(node("a0")!.childrenPhaseCounts).toMatchObject({ [ActionPhase.PAUSED]: 1, [ActionPhase.QUEUED]: 0 });

    const output = toBinary(LiteralSchema, boolLiteral(true));
    const principal = toBinary(EnrichedIdentitySchema, create(EnrichedIdentitySchema, { principal: { case: "user", value: { id: { subject: "user@example.com" } } } }));
    const signalled = create(UpdateActionStatusRequestSchema, { actionId: actionId("rcond", "c1"), status: { phase: ActionPhase.SUCCEEDED, attempts: 1 } });
    signalled.$unknown = [rawField(3, output), rawField(4, principal)];
    expect((await internal.updateActionStatus(signalled)).status?.code).toBe(0);
    await watch.until(() => node("c1")?.action?.status?.phase === ActionPhase.SUCCEEDED, "SUCCEEDED");
    expect(node("a0")!.childrenPhaseCounts).toMatchObject({ [ActionPhase.SUCCEEDED]: 1, [ActionPhase.PAUSED]: 0 });
    expect((await runs.getActionDetails({ actionId: actionId("rcond", "c1") })).details?.status?.endTime).toBeDefined();
    // There is no outputs.pb for a condition: its data is its inputs and no outputs, not NotFound.
    expect((await runs.getActionDataURIs({ actionId: actionId("rcond", "c1") })).outputsUri).toBe("");
    expect((await runs.getActionData({ actionId: actionId("rcond", "c1") })).outputs?.literals).toEqual([]);

    // detailed_info holds what the reference stores there: the condition (5), the value (6) and the signaller (7).
    const row = await t.app.repository.actions.getAction({ project: PROJECT, domain: DOMAIN, run: "rcond", action: "c1" });
    const info = fromBinary(RunInfoSchema, row.detailed_info!);
    const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString("hex") : "");
    const raw = new Map((info.$unknown ?? []).map((f) => [f.no, hex(f.data)]));
    expect(raw.get(5)).toBe(hex(new BinaryWriter().bytes(toBinary(ConditionActionSchema, condition())).finish()));
    expect(raw.get(6)).toBe(hex(new BinaryWriter().bytes(output).finish()));
    expect(raw.get(7)).toBe(hex(new BinaryWriter().bytes(principal).finish()));
    watch.cancel();
  });

  it("filters ListActions and ListRuns by action_type", async () => {
    await runs.createRun({ id: { case: "runId", value: runId("rtypes") }, task: { case: "taskSpec", value: taskSpec() } });
    await internal.recordAction({ actionId: actionId("rtypes", "c1"), parent: "a0", spec: { case: "condition", value: condition() } });
    await internal.recordAction({ actionId: actionId("rtypes", "t1"), parent: "a0", spec: { case: "trace", value: { name: "fetch", spec: { interface: {} } } } });
    const byType = async (type: ActionType) =>
      (await runs.listActions({ runId: runId("rtypes"), request: { filters: [{ field: "action_type", function: Filter_Function.EQUAL, values: [String(type)] }] } })).actions
        .map((a) => a.id?.name)
        .sort();
    expect(await byType(ActionType.CONDITION)).toEqual(["c1"]);
    expect(await byType(ActionType.TRACE)).toEqual(["t1"]);
    expect(await byType(ActionType.TASK)).toEqual(["a0"]);
    const runNames = async (type: ActionType) =>
      (await runsJson.listRuns({ scopeBy: { case: "projectId", value: { organization: ORG, name: PROJECT, domain: DOMAIN } }, request: { filters: [{ field: "action_type", function: Filter_Function.EQUAL, values: [String(type)] }] } })).runs.map(
        (r) => r.action?.id?.run?.name,
      );
    expect(await runNames(ActionType.TASK)).toContain("rtypes");
    expect(await runNames(ActionType.CONDITION)).toEqual([]);
    const bad = await errorOf(runs.listActions({ runId: runId("rtypes"), request: { filters: [{ field: "action_type", values: ["CONDITION"] }] } }));
    expect(bad.code).toBe(Code.InvalidArgument);
  });

  it("a reported start moves the action's start back, to the microsecond, and the duration counts from it", async () => {
    await runs.createRun({ id: { case: "runId", value: runId("rstart") }, task: { case: "taskSpec", value: taskSpec() } });
    await internal.recordAction({ actionId: actionId("rstart", "t1"), parent: "a0", spec: { case: "task", value: { spec: taskSpec("env.child") } } });
    const recorded = (await runs.getActionDetails({ actionId: actionId("rstart", "t1") })).details!.status!.startTime!;
    const watch = follow((signal) => runs.watchActions({ runId: runId("rstart") }, { signal }));
    const node = () => latestActions(watch.messages as WatchActionsResponse[]).get("t1");
    await watch.until(() => node() !== undefined, "the child");

    const start = { seconds: recorded.seconds - 60n, nanos: 123_456_789 };
    await internalGrpc.updateActionStatus({ actionId: actionId("rstart", "t1"), status: { phase: ActionPhase.RUNNING, attempts: 1, startTime: start } });
    await watch.until(() => node()?.action?.status?.startTime?.seconds === start.seconds, "the moved start");
    expect(node()!.action!.status!.startTime!.nanos).toBe(123_456_000);

    const end = { seconds: start.seconds + 90n, nanos: 123_456_000 };
    await internal.updateActionStatus({ actionId: actionId("rstart", "t1"), status: { phase: ActionPhase.SUCCEEDED, attempts: 1, endTime: end } });
    const status = (await runsJson.getActionDetails({ actionId: actionId("rstart", "t1") })).details!.status!;
    expect([status.startTime?.seconds, status.startTime?.nanos, status.durationMs]).toEqual([start.seconds, 123_456_000, 90_000n]);
    // A zero start (an executor that had none) changes nothing.
    await internal.updateActionStatus({ actionId: actionId("rstart", "t1"), status: { phase: ActionPhase.SUCCEEDED, attempts: 1, startTime: { seconds: 0n, nanos: 0 } } });
    expect((await runs.getActionDetails({ actionId: actionId("rstart", "t1") })).details!.status!.startTime!.seconds).toBe(start.seconds);
    watch.cancel();
  });

  it("run names must be DNS-1035 labels: refused before anything is written; names stored before stay readable", async () => {
    const enqueuedBefore = executor.enqueued.length;
    for (const name of ["my.run", "1run", "My-Run", "my_run", "-run", "run-", "a".repeat(31)]) {
      const error = await errorOf(runsJson.createRun({ id: { case: "runId", value: runId(name) }, task: { case: "taskSpec", value: taskSpec() } }));
      expect(error.code, name).toBe(Code.InvalidArgument);
      if (name.length <= 30) expect(error.rawMessage).toContain("DNS-1035");
      expect(await t.app.repository.actions.findRun({ project: PROJECT, domain: DOMAIN, run: name })).toBeUndefined();
    }
    expect(executor.enqueued.length).toBe(enqueuedBefore);
    expect([...blobs.keys()].filter((k) => /my\.run|My-Run|my_run/.test(k))).toEqual([]);
    const ok = await runs.createRun({ id: { case: "runId", value: runId("my-run-1") }, task: { case: "taskSpec", value: taskSpec() } });
    expect(ok.run?.action?.id?.run?.name).toBe("my-run-1");

    // A run stored under an older rule (or by another service) is still read, listed and watched.
    await t.app.repository.actions.createAction(
      newActionRow(
        { project: PROJECT, domain: DOMAIN, run_name: "Legacy_Run.1", name: "a0", created_at: systemClock().now() },
        { action_type: ActionType.TASK, function_name: "legacy" },
      ),
    );
    expect((await runs.getRunDetails({ runId: runId("Legacy_Run.1") })).details?.action?.id?.run?.name).toBe("Legacy_Run.1");
    expect((await runs.listActions({ runId: runId("Legacy_Run.1") })).actions.map((a) => a.id?.name)).toEqual(["a0"]);
  });

  it("CreateRun by trigger name restores the trigger's run spec and inputs (the fire time in its kickoff input) unless the request brings its own", async () => {
    const id = { org: ORG, project: PROJECT, domain: DOMAIN, name: "env.trig", version: "v1" };
    await tasks.deployTask({
      taskId: id,
      spec: taskSpec("env.trig"),
      triggers: [
        {
          name: "withenv",
          spec: {
            active: true,
            inputs: { literals: [{ name: "greeting", value: stringLiteral("from-trigger") }] },
            runSpec: { envs: { values: [{ key: "TRIGGER_ENV", value: "from-trigger" }] }, labels: { values: { team: "ml" } } },
          },
          automationSpec: {
            type: 1,
            automation: { case: "schedule", value: { expression: { case: "cron", value: { expression: "0 3 * * *", timezone: "UTC" } }, kickoffTimeInputArg: "fired_at" } },
          },
        },
      ],
    });
    const trigger = { org: ORG, project: PROJECT, domain: DOMAIN, taskName: "env.trig", name: "withenv" };

    await runsJson.createRun({ id: { case: "runId", value: runId("rtrig1") }, task: { case: "triggerName", value: trigger } });
    const details = (await runs.getRunDetails({ runId: runId("rtrig1") })).details!;
    expect(details.runSpec?.envs?.values.map((kv) => [kv.key, kv.value])).toEqual([["TRIGGER_ENV", "from-trigger"]]);
    expect(details.runSpec?.labels?.values).toEqual({ team: "ml" });
    expect(details.action?.metadata?.triggerName).toBe("withenv");
    const enqueued = executor.enqueued.find((e) => e.action?.actionId?.run?.name === "rtrig1")!;
    expect(enqueued.runSpec?.envs?.values.map((kv) => kv.key)).toEqual(["TRIGGER_ENV"]);
    const inputs = fromBinary(InputsSchema, await blobs.read(`${enqueued.action!.inputUri}/inputs.pb`));
    expect(inputs.literals.map((l) => l.name)).toEqual(["greeting", "fired_at"]);
    const fired = inputs.literals[1].value?.value;
    expect(fired?.case === "scalar" && fired.value.value.case === "primitive" && fired.value.value.value.value.case).toBe("datetime");

    // What the request brings wins.
    await runs.createRun({
      id: { case: "runId", value: runId("rtrig2") },
      task: { case: "triggerName", value: trigger },
      runSpec: { envs: { values: [{ key: "MINE", value: "1" }] } },
      inputWrapper: { case: "inputs", value: { literals: [{ name: "greeting", value: stringLiteral("mine") }] } },
    });
    const own = (await runs.getRunDetails({ runId: runId("rtrig2") })).details!;
    expect(own.runSpec?.envs?.values.map((kv) => kv.key)).toEqual(["MINE"]);
    const ownEnqueued = executor.enqueued.find((e) => e.action?.actionId?.run?.name === "rtrig2")!;
    const ownInputs = fromBinary(InputsSchema, await blobs.read(`${ownEnqueued.action!.inputUri}/inputs.pb`));
    expect(ownInputs.literals.map((l) => l.name)).toEqual(["greeting"]);
  });
});
