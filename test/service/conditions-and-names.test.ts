// Service tier of the v2.0.43 behaviours: the run-name rule (the reference's TestCreateRun_RejectsInvalidRunName and
// "generated names pass run name validation"), condition recording and the signal write (condition_test.go),
// and a WatchActions snapshot that stays complete while an action's start moves under it.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import type { HandlerContext } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { UpdateActionStatusRequestSchema } from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { ActionSpecSchema, ActionType } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { RunInfoSchema } from "#gen/flyteidl2/workflow/run_info_pb.js";
import { WatchActionsRequestSchema, WatchActionsResponseSchema, type WatchActionsResponse } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { createInProcessBus } from "../../src/events/bus.js";
import type { ActionRepo, ActionStateCursor, RunKey } from "../../src/repository/interfaces/action.js";
import { createRepository } from "../../src/repository/index.js";
import { scheduledRunName } from "../../src/scheduler/run-name.js";
import { generateRunName, runNameProblem, RUN_NAME_MAX_LENGTH, seededRandomIndex } from "../../src/service/run-service/run-names.js";
import { createWatchHandlers } from "../../src/service/run-service/watch.js";
import { systemClock } from "../../src/util/clock.js";
import { DOMAIN as WDOMAIN, PROJECT as WPROJECT, latestActions, taskRow } from "../api/watch-helpers.js";
import { openMigratedDatabase, quietLogger, testDialects } from "../support/databases.js";
import { DOMAIN, PROJECT, actionId, errorOf, pythonSpec, runId, runServiceFixture, type RunServiceFixture } from "./run-service-fixtures.js";

describe("run names", () => {
  it.each([
    ["dot", "my.run"],
    ["leading digit", "1run"],
    ["uppercase", "My-Run"],
    ["underscore", "my_run"],
    ["leading hyphen", "-run"],
    ["trailing hyphen", "run-"],
    ["too long", "a".repeat(RUN_NAME_MAX_LENGTH + 1)],
    ["empty", ""],
  ])("refuses a name with a %s", (_why, name) => {
    expect(runNameProblem(name)).toMatch(/^invalid run name /);
  });

  it("accepts DNS-1035 labels up to 30 characters", () => {
    for (const name of ["a", "my-run", "abc-123", "r" + "0".repeat(RUN_NAME_MAX_LENGTH - 1)]) expect(runNameProblem(name)).toBeUndefined();
  });

  it("generated and scheduled names always pass", () => {
    for (let seed = 0; seed < 100; seed++) expect(runNameProblem(generateRunName(seededRandomIndex(seed)))).toBeUndefined();
    const trigger = { project: "p", domain: "d", taskName: "t", name: "n" };
    for (let slot = 0; slot < 100; slot++) expect(runNameProblem(scheduledRunName(trigger, new Date(slot * 3_600_000)))).toBeUndefined();
  });
});

describe.each(await testDialects())("conditions and run names through the handlers on %s", (kind) => {
  let f: RunServiceFixture;
  beforeAll(async () => {
    f = await runServiceFixture(kind);
    await f.runs.createRun({ id: { case: "runId", value: runId("rc") }, task: { case: "taskSpec", value: pythonSpec() } });
  });
  afterAll(async () => f?.drop());
  const key = (action: string) => ({ project: PROJECT, domain: DOMAIN, run: "rc", action });

  it("CreateRun refuses a bad run_id name with InvalidArgument before any write or Enqueue", async () => {
    const enqueued = f.client.enqueued.length;
    const error = await errorOf(f.runs.createRun({ id: { case: "runId", value: runId("My_Run") }, task: { case: "taskSpec", value: pythonSpec() } }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toContain('invalid run name "My_Run"');
    expect(f.client.enqueued.length).toBe(enqueued);
    expect(f.blobs.keys().some((k) => k.includes("My_Run"))).toBe(false);
    expect(await f.repo.actions.findRun({ project: PROJECT, domain: DOMAIN, run: "My_Run" })).toBeUndefined();
  });

  it("records a condition as ACTION_TYPE_CONDITION named after it, with the spec in action_spec and no digest", async () => {
    const cond = { name: "approve", prompt: "approve?" };
    const reply = await f.internal.recordAction({ actionId: actionId("rc", "c1"), parent: "a0", spec: { case: "condition", value: cond } });
    expect(reply.status?.code).toBe(0);
    const row = await f.repo.actions.getAction(key("c1"));
    expect([row.action_type, row.task_name, row.function_name, row.phase, row.parent_action_name]).toEqual([
      ActionType.CONDITION,
      "approve",
      "approve",
      ActionPhase.QUEUED,
      "a0",
    ]);
    const spec = fromBinary(ActionSpecSchema, row.action_spec!).spec;
    expect(spec.case === "condition" && [spec.value.name, spec.value.prompt]).toEqual(["approve", "approve?"]);
    expect(fromBinary(RunInfoSchema, row.detailed_info!).taskSpecDigest).toBe("");
    const details = (await f.runs.getActionDetails({ actionId: actionId("rc", "c1") })).details!;
    expect(details.metadata?.spec).toMatchObject({ case: "condition", value: { name: "approve" } });
    expect(details.spec.case).toBeUndefined();
  });

  it("a status without a signal payload leaves detailed_info as it was", async () => {
    await f.internal.recordAction({ actionId: actionId("rc", "c2"), parent: "a0", spec: { case: "condition", value: { name: "other" } } });
    const before = (await f.repo.actions.getAction(key("c2"))).detailed_info;
    await f.internal.updateActionStatus({ actionId: actionId("rc", "c2"), status: { phase: ActionPhase.RUNNING, attempts: 1 } });
    expect((await f.repo.actions.getAction(key("c2"))).detailed_info).toEqual(before);
  });

  it("a signal payload for an unknown action is NotFound in the status and changes nothing", async () => {
    const req = { actionId: actionId("rc", "ghost"), status: { phase: ActionPhase.SUCCEEDED, attempts: 1 } };
    const msg = create(UpdateActionStatusRequestSchema, req);
    msg.$unknown = [{ no: 3, wireType: WireType.LengthDelimited, data: new Uint8Array([0]) }];
    const reply = await f.internal.updateActionStatus(msg);
    expect(reply.status?.code).toBe(Code.NotFound);
  });
});

describe.each(await testDialects())("WatchActions snapshot while starts move, on %s", (kind) => {
  it("an action whose start moves behind the snapshot's cursor still reaches the stream, at its new start", async () => {
    const db = await openMigratedDatabase(kind);
    try {
      const bus = createInProcessBus();
      const clock = systemClock();
      const repo = createRepository(db.handle, clock, bus);
      const run = "rmove";
      await repo.actions.createAction(taskRow(run, "a0", null));
      for (const n of ["c1", "c2", "c3", "c4", "c5"]) await repo.actions.createAction(taskRow(run, n, "a0"));
      let pages = 0;
      const spy: ActionRepo = {
        ...repo.actions,
        async listActionStates(k: RunKey, after: ActionStateCursor | undefined, limit: number) {
          const page = await repo.actions.listActionStates(k, after, limit);
          // Between the first and second snapshot page the executor reports c5's real start, before everything.
          if (pages++ === 0) {
            await repo.actions.updateActionPhase(
              { project: WPROJECT, domain: WDOMAIN, run, action: "c5" },
              { phase: ActionPhase.RUNNING, attempts: 1, cacheStatus: 0, startTime: "2020-01-01T00:00:00.000000Z" },
            );
          }
          return page;
        },
      };
      const handlers = createWatchHandlers({ actions: spy, taskSpecs: repo.taskSpecs, bus, clock, logger: quietLogger, watch: { snapshotPageSize: 2 } });
      const controller = new AbortController();
      const stream = handlers.watchActions!(create(WatchActionsRequestSchema, { runId: { org: "o", project: WPROJECT, domain: WDOMAIN, name: run } }), {
        signal: controller.signal,
        requestHeader: new Headers({ "content-type": "application/grpc" }),
      } as HandlerContext);
      const seen: WatchActionsResponse[] = [];
      for await (const m of stream) {
        // As a binary client decodes it (shared entries travel pre-encoded).
        seen.push(fromBinary(WatchActionsResponseSchema, toBinary(WatchActionsResponseSchema, m as WatchActionsResponse)));
        const c5 = latestActions(seen).get("c5");
        if (latestActions(seen).size === 6 && c5?.action?.status?.phase === ActionPhase.RUNNING) break;
      }
      controller.abort();
      const all = latestActions(seen);
      expect([...all.keys()].sort()).toEqual(["a0", "c1", "c2", "c3", "c4", "c5"]);
      expect(all.get("c5")!.action!.status!.startTime!.seconds).toBe(BigInt(Date.parse("2020-01-01T00:00:00Z") / 1000));
      expect(all.get("a0")!.childrenPhaseCounts).toMatchObject({ [ActionPhase.QUEUED]: 4, [ActionPhase.RUNNING]: 1 });
    } finally {
      await db.drop();
    }
  });
});
