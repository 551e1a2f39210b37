import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CatalogCacheStatus } from "#gen/flyteidl2/core/catalog_pb.js";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { InputsSchema } from "#gen/flyteidl2/task/common_pb.js";
import { RunSpecSchema } from "#gen/flyteidl2/task/run_pb.js";
import { TaskSpecSchema } from "#gen/flyteidl2/task/task_definition_pb.js";
import { ActionSpecSchema, ActionType, RunSource } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { RunInfoSchema } from "#gen/flyteidl2/workflow/run_info_pb.js";
import { toSecondsNanos } from "../../src/repository/timestamps.js";
import { taskSpecDigest } from "../../src/repository/digest.js";
import { computeFilteredInputsHash, generateCacheKey } from "../../src/service/run-service/cache-key.js";
import { generateRunName, seededRandomIndex } from "../../src/service/run-service/run-names.js";
import { testDialects } from "../support/databases.js";
import { createMemoryBlobStore } from "../../src/storage/index.js";
import {
  DOMAIN,
  ORG,
  PREFIX,
  PROJECT,
  actionId,
  codeOf,
  errorOf,
  pythonSpec,
  runId,
  runServiceFixture,
  stringLiteral,
  stringOf,
  type RunServiceFixture,
} from "./run-service-fixtures.js";

const taskSpecSource = (spec = pythonSpec()) => ({ case: "taskSpec" as const, value: spec });
const inputsOf = (...pairs: [string, string][]) => ({
  case: "inputs" as const,
  value: { literals: pairs.map(([name, v]) => ({ name, value: stringLiteral(v) })) },
});

describe.each(await testDialects())("RunService handlers on %s", (kind) => {
  let f: RunServiceFixture;
  beforeAll(async () => {
    f = await runServiceFixture(kind);
  });
  afterAll(async () => f?.drop());
  beforeEach(() => {
    f.client.enqueued.length = 0;
    f.client.aborted.length = 0;
    f.client.failEnqueue = undefined;
    f.pushed.length = 0;
    f.blobs.failWrites = false;
    f.clock.advance(1000);
  });

  describe("CreateRun", () => {
    it("answers the stored run: ids from the row, org '', a0, QUEUED, start = created_at, one attempt, no end", async () => {
      const createdAt = f.clock.now();
      const res = await f.runs.createRun({ id: { case: "runId", value: runId("rbasic") }, task: taskSpecSource(), source: RunSource.CLI });
      const action = res.run!.action!;
      expect(action.id).toMatchObject({ name: "a0", run: { org: "", project: PROJECT, domain: DOMAIN, name: "rbasic" } });
      expect(action.status?.phase).toBe(ActionPhase.QUEUED);
      expect(action.status?.attempts).toBe(1);
      expect(action.status?.cacheStatus).toBe(CatalogCacheStatus.CACHE_DISABLED);
      expect(action.status?.startTime).toMatchObject(toSecondsNanos(createdAt));
      expect(action.status?.endTime).toBeUndefined();
      expect(action.status?.durationMs).toBeUndefined();
      expect(action.metadata).toMatchObject({ actionType: ActionType.TASK, funtionName: "my_env.my_task", environmentName: "my_env", source: RunSource.CLI });
      const meta = action.metadata?.spec;
      expect(meta?.case === "task" && [meta.value.taskType, meta.value.shortName, meta.value.id?.version]).toEqual(["python", "my_task", "v1"]);

      const row = await f.repo.actions.getRun({ project: PROJECT, domain: DOMAIN, run: "rbasic" });
      expect([row.run_source, row.task_name, row.task_type, row.environment_name]).toEqual(["RUN_SOURCE_CLI", "my_env.my_task", "python", "my_env"]);
    });

    it("enqueues a0 of the requested run with the input prefix, output base, task and empty cache key", async () => {
      await f.runs.createRun({ id: { case: "runId", value: runId("renqueue") }, task: taskSpecSource() });
      expect(f.client.enqueued).toHaveLength(1);
      const action = f.client.enqueued[0].action!;
      expect(action.actionId).toMatchObject({ name: "a0", run: { org: ORG, project: PROJECT, domain: DOMAIN, name: "renqueue" } });
      expect(action.inputUri).toBe(`${PREFIX}/${PROJECT}/${DOMAIN}/renqueue/inputs`);
      expect(action.runOutputBase).toBe(`${PREFIX}/${PROJECT}/${DOMAIN}/renqueue/`);
      const spec = action.spec;
      expect(spec?.case === "task" && [spec.value.id?.name, spec.value.cacheKey]).toEqual(["my_env.my_task", ""]);
      expect(f.client.enqueued[0].runSpec?.rawDataStorage?.rawDataPrefix).toBe(PREFIX);
    });

    it("generates a run name for a project id and always writes inputs.pb, even empty", async () => {
      const res = await f.runs.createRun({
        id: { case: "projectId", value: { organization: ORG, name: PROJECT, domain: DOMAIN } },
        task: taskSpecSource(),
      });
      const name = res.run!.action!.id!.run!.name;
      expect(name).toMatch(/^r[bcdfghjklmnpqrstvwxz2456789]{19}$/);
      const bytes = await f.blobs.read(`${PREFIX}/${PROJECT}/${DOMAIN}/${name}/inputs/inputs.pb`);
      expect(fromBinary(InputsSchema, bytes)).toEqual(create(InputsSchema));
      // The fixture's names come from a seeded source.
      expect(name).toBe(generateRunName(seededRandomIndex(42)));
    });

    it("keeps the input context and a custom raw-data prefix (row and Enqueue)", async () => {
      await f.runs.createRun({
        id: { case: "runId", value: runId("rctx-123") },
        task: taskSpecSource(),
        inputWrapper: { case: "inputs", value: { literals: [{ name: "x", value: stringLiteral("1") }], context: [{ key: "trace_id", value: "abc" }] } },
        runSpec: { rawDataStorage: { rawDataPrefix: "s3://custom/raw" }, envs: { values: [{ key: "A", value: "1" }] } },
      });
      const written = fromBinary(InputsSchema, await f.blobs.read("s3://flyte-data/proj/dev/rctx-123/inputs/inputs.pb"));
      expect(written.context).toMatchObject([{ key: "trace_id", value: "abc" }]);
      expect(written.literals.map((l) => l.name)).toEqual(["x"]);
      const row = await f.repo.actions.getRun({ project: PROJECT, domain: DOMAIN, run: "rctx-123" });
      expect(fromBinary(RunSpecSchema, row.run_spec!).rawDataStorage?.rawDataPrefix).toBe("s3://custom/raw");
      expect(f.client.enqueued[0].runSpec?.rawDataStorage?.rawDataPrefix).toBe("s3://custom/raw");
      const info = fromBinary(RunInfoSchema, row.detailed_info!);
      expect(info.inputsUri).toBe("s3://flyte-data/proj/dev/rctx-123/inputs/inputs.pb");
      const spec = fromBinary(ActionSpecSchema, row.action_spec!);
      expect([spec.inputUri, spec.runOutputBase, spec.actionId?.name]).toEqual([info.inputsUri, "s3://flyte-data/proj/dev/rctx-123/", "a0"]);
    });

    it("fills defaults the caller did not give", async () => {
      const spec = pythonSpec("my_env.defaults", { defaults: [["x", stringLiteral("dx")], ["y", stringLiteral("dy")]] });
      await f.runs.createRun({ id: { case: "runId", value: runId("rdefaults") }, task: taskSpecSource(spec), inputWrapper: inputsOf(["x", "given"]) });
      const written = fromBinary(InputsSchema, await f.blobs.read(`${PREFIX}/proj/dev/rdefaults/inputs/inputs.pb`));
      expect(written.literals.map((l) => [l.name, stringOf(l.value)])).toEqual([
        ["x", "given"],
        ["y", "dy"],
      ]);
    });

    it("uses offloaded inputs as they are: nothing written, RunInfo points into them, Enqueue gets the raw uri", async () => {
      const before = f.blobs.keys().length;
      const spec = pythonSpec("my_env.cached", { discoverable: true });
      await f.runs.createRun({
        id: { case: "runId", value: runId("roffload") },
        task: taskSpecSource(spec),
        inputWrapper: { case: "offloadedInputData", value: { uri: "s3://bucket/offloaded/abc", inputsHash: "HASH" } },
      });
      expect(f.blobs.keys()).toHaveLength(before);
      const row = await f.repo.actions.getRun({ project: PROJECT, domain: DOMAIN, run: "roffload" });
      expect(fromBinary(RunInfoSchema, row.detailed_info!).inputsUri).toBe("s3://bucket/offloaded/abc/inputs.pb");
      const action = f.client.enqueued[0].action!;
      expect(action.inputUri).toBe("s3://bucket/offloaded/abc");
      const template = create(TaskSpecSchema, spec).taskTemplate;
      expect(action.spec?.case === "task" && action.spec.value.cacheKey).toBe(generateCacheKey(template, "HASH"));
    });

    it("computes the cache key of a discoverable task from the filled inputs", async () => {
      const spec = pythonSpec("my_env.cached2", { discoverable: true });
      await f.runs.createRun({ id: { case: "runId", value: runId("rcache") }, task: taskSpecSource(spec), inputWrapper: inputsOf(["a", "1"]) });
      const template = create(TaskSpecSchema, spec).taskTemplate;
      const inputs = fromBinary(InputsSchema, await f.blobs.read(`${PREFIX}/proj/dev/rcache/inputs/inputs.pb`));
      const action = f.client.enqueued[0].action!;
      expect(action.spec?.case === "task" && action.spec.value.cacheKey).toBe(generateCacheKey(template, computeFilteredInputsHash(template, inputs)));
    });

    it("stores the task spec once under its digest and shows it in the run details", async () => {
      const spec = pythonSpec("my_env.shared");
      await f.runs.createRun({ id: { case: "runId", value: runId("rspec1") }, task: taskSpecSource(spec) });
      await f.runs.createRun({ id: { case: "runId", value: runId("rspec2") }, task: taskSpecSource(spec) });
      const digest = taskSpecDigest(create(TaskSpecSchema, spec));
      const stored = await f.repo.taskSpecs.get(digest);
      expect(fromBinary(TaskSpecSchema, stored.spec).taskTemplate?.type).toBe("python");
      for (const run of ["rspec1", "rspec2"]) {
        const row = await f.repo.actions.getRun({ project: PROJECT, domain: DOMAIN, run });
        expect(fromBinary(RunInfoSchema, row.detailed_info!).taskSpecDigest).toBe(digest);
      }
      const details = (await f.runs.getRunDetails({ runId: runId("rspec1") })).details!;
      expect(details.action?.spec.case === "task" && details.action.spec.value.taskTemplate?.type).toBe("python");
    });

    it("runs a deployed task by id, and answers NotFound for an unknown one without writing anything", async () => {
      await f.tasks.deployTask({ taskId: { org: ORG, project: PROJECT, domain: DOMAIN, name: "my_env.deployed", version: "v7" }, spec: pythonSpec("my_env.deployed") });
      const res = await f.runs.createRun({
        id: { case: "runId", value: runId("rbyid") },
        task: { case: "taskId", value: { org: ORG, project: PROJECT, domain: DOMAIN, name: "my_env.deployed", version: "v7" } },
      });
      const meta = res.run!.action!.metadata!.spec;
      expect(meta.case === "task" && meta.value.id?.version).toBe("v7");

      const before = f.blobs.keys().length;
      const err = await errorOf(
        f.runs.createRun({
          id: { case: "runId", value: runId("rbyid2") },
          task: { case: "taskId", value: { org: ORG, project: PROJECT, domain: DOMAIN, name: "nope", version: "v1" } },
        }),
      );
      expect(err.code).toBe(Code.NotFound);
      expect(f.blobs.keys()).toHaveLength(before);
      expect(await codeOf(f.repo.actions.getRun({ project: PROJECT, domain: DOMAIN, run: "rbyid2" }))).toBe(Code.NotFound);
      expect(f.client.enqueued).toHaveLength(1);
    });

    it("runs a trigger's task and records the trigger on the run; an unknown trigger is NotFound", async () => {
      await f.tasks.deployTask({
        taskId: { org: ORG, project: PROJECT, domain: DOMAIN, name: "my_env.nightly", version: "v2" },
        spec: pythonSpec("my_env.nightly"),
        triggers: [
          {
            name: "nightly",
            spec: { active: true },
            automationSpec: { type: 1, automation: { case: "schedule", value: { expression: { case: "cron", value: { expression: "0 0 * * *" } } } } },
          },
        ],
      });
      const triggerName = { org: ORG, project: PROJECT, domain: DOMAIN, taskName: "my_env.nightly", name: "nightly" };
      const res = await f.runs.createRun({
        id: { case: "runId", value: runId("rtrig") },
        task: { case: "triggerName", value: triggerName },
        source: RunSource.SCHEDULE_TRIGGER,
      });
      const meta = res.run!.action!.metadata!;
      expect(meta.triggerName).toBe("nightly");
      expect(meta.triggerId?.name).toMatchObject({ name: "nightly", taskName: "my_env.nightly" });
      expect(meta.triggerId?.revision).toBe(1n);
      expect(meta.spec.case === "task" && meta.spec.value.id?.version).toBe("v2");
      const trigger = await f.repo.triggers.get({ project: PROJECT, domain: DOMAIN, taskName: "my_env.nightly", name: "nightly" });
      expect(trigger.triggered_at).not.toBeNull();

      const err = await errorOf(f.runs.createRun({ id: { case: "runId", value: runId("rtrig2") }, task: { case: "triggerName", value: { ...triggerName, name: "hourly" } } }));
      expect(err.code).toBe(Code.NotFound);
      expect(err.rawMessage).toMatch(/^trigger "hourly" not found/);
    });

    it("refuses a run in a project that does not exist", async () => {
      const err = await errorOf(f.runs.createRun({ id: { case: "runId", value: runId("rnoproj", "nope") }, task: taskSpecSource() }));
      expect(err.code).toBe(Code.NotFound);
      expect(err.rawMessage).toBe('project "nope" not found');
      expect(f.blobs.keys().some((k) => k.includes("/nope/"))).toBe(false);
    });

    it("answers the existing run for a duplicate name: one row, inputs untouched, no second enqueue", async () => {
      const first = await f.runs.createRun({ id: { case: "runId", value: runId("rdup") }, task: taskSpecSource(), inputWrapper: inputsOf(["x", "first"]) });
      f.clock.advance(1000);
      const second = await f.runs.createRun({ id: { case: "runId", value: runId("rdup") }, task: taskSpecSource(), inputWrapper: inputsOf(["x", "second"]) });
      expect(second.run).toEqual(first.run);
      expect(f.client.enqueued).toHaveLength(1);
      const written = fromBinary(InputsSchema, await f.blobs.read(`${PREFIX}/proj/dev/rdup/inputs/inputs.pb`));
      expect(stringOf(written.literals[0].value)).toBe("first");
      const page = await f.repo.actions.listActions({ project: PROJECT, domain: DOMAIN, run: "rdup" }, { limit: 10, token: "", filters: [], sort: [] });
      expect(page.rows).toHaveLength(1);
    });

    it("replaces an inputs file no run has (left by an attempt that stored no run) and stores the run", async () => {
      const uri = `${PREFIX}/proj/dev/rleft/inputs/inputs.pb`;
      await f.blobs.write(uri, toBinary(InputsSchema, create(InputsSchema, { literals: [{ name: "x", value: stringLiteral("stale") }] })));
      await f.runs.createRun({ id: { case: "runId", value: runId("rleft") }, task: taskSpecSource(), inputWrapper: inputsOf(["x", "fresh"]) });
      expect(stringOf(fromBinary(InputsSchema, await f.blobs.read(uri)).literals[0].value)).toBe("fresh");
      expect((await f.repo.actions.getRun({ project: PROJECT, domain: DOMAIN, run: "rleft" })).phase).toBe(ActionPhase.QUEUED);
      expect(f.client.enqueued).toHaveLength(1);
    });

    it("answers the existing run for a name first used with offloaded inputs, and for a request that would fail as a new run", async () => {
      const offloaded = { case: "offloadedInputData" as const, value: { uri: "s3://bucket/off/1", inputsHash: "H" } };
      const first = await f.runs.createRun({ id: { case: "runId", value: runId("roff") }, task: taskSpecSource(), inputWrapper: offloaded });
      const inline = await f.runs.createRun({ id: { case: "runId", value: runId("roff") }, task: taskSpecSource(), inputWrapper: inputsOf(["x", "y"]) });
      expect(inline.run).toEqual(first.run);
      const bad = await f.runs.createRun({
        id: { case: "runId", value: runId("roff") },
        task: taskSpecSource(),
        inputWrapper: { case: "offloadedInputData", value: { uri: "", inputsHash: "" } },
      });
      expect(bad.run).toEqual(first.run);
      expect(f.client.enqueued).toHaveLength(1);
      expect(await codeOf(f.runs.createRun({ id: { case: "runId", value: runId("roff2") }, task: taskSpecSource(), inputWrapper: { case: "offloadedInputData", value: { uri: "", inputsHash: "" } } }))).toBe(
        Code.InvalidArgument,
      );
    });

    it("with a store that cannot refuse to replace (no writeNew), looks the name up first: duplicate inputs untouched", async () => {
      const plain = createMemoryBlobStore();
      const fresh = await runServiceFixture(kind, { blobStore: { write: plain.write, read: plain.read, exists: plain.exists } });
      try {
        const first = await fresh.runs.createRun({ id: { case: "runId", value: runId("rplain") }, task: taskSpecSource(), inputWrapper: inputsOf(["x", "first"]) });
        const second = await fresh.runs.createRun({ id: { case: "runId", value: runId("rplain") }, task: taskSpecSource(), inputWrapper: inputsOf(["x", "second"]) });
        expect(second.run).toEqual(first.run);
        expect(stringOf(fromBinary(InputsSchema, await plain.read(`${PREFIX}/proj/dev/rplain/inputs/inputs.pb`)).literals[0].value)).toBe("first");
        expect(fresh.client.enqueued).toHaveLength(1);
      } finally {
        await fresh.drop();
      }
    });

    it("stores every one of many concurrent CreateRuns (grouped inserts) and answers each with its own run", async () => {
      const names = Array.from({ length: 24 }, (_, i) => `rconc${i}`);
      const results = await Promise.all(names.map((n) => f.runs.createRun({ id: { case: "runId", value: runId(n) }, task: taskSpecSource(), inputWrapper: inputsOf(["x", n]) })));
      expect(results.map((r) => r.run?.action?.id?.run?.name)).toEqual(names);
      for (const n of names) {
        expect((await f.repo.actions.getRun({ project: PROJECT, domain: DOMAIN, run: n })).phase).toBe(ActionPhase.QUEUED);
        expect(stringOf(fromBinary(InputsSchema, await f.blobs.read(`${PREFIX}/proj/dev/${n}/inputs/inputs.pb`)).literals[0].value)).toBe(n);
      }
      expect(f.client.enqueued.map((e) => e.action?.actionId?.run?.name).sort()).toEqual([...names].sort());
    });

    it("creates the run even when the executor refuses it (stays QUEUED)", async () => {
      f.client.failEnqueue = new ConnectError("executor down", Code.Unavailable);
      const res = await f.runs.createRun({ id: { case: "runId", value: runId("rnoexec") }, task: taskSpecSource() });
      expect(res.run?.action?.status?.phase).toBe(ActionPhase.QUEUED);
      expect(f.client.enqueued).toHaveLength(1);
      const row = await f.repo.actions.getRun({ project: PROJECT, domain: DOMAIN, run: "rnoexec" });
      expect(row.phase).toBe(ActionPhase.QUEUED);
    });

    it("fails with Internal and writes no row when the inputs cannot be written", async () => {
      f.blobs.failWrites = true;
      const err = await errorOf(f.runs.createRun({ id: { case: "runId", value: runId("rnoblob") }, task: taskSpecSource() }));
      expect(err.code).toBe(Code.Internal);
      expect(err.rawMessage).toMatch(/^failed to write inputs: /);
      expect(await codeOf(f.repo.actions.getRun({ project: PROJECT, domain: DOMAIN, run: "rnoblob" }))).toBe(Code.NotFound);
      expect(f.client.enqueued).toHaveLength(0);
    });

    it("refuses requests without an id or a task (InvalidArgument) before writing anything", async () => {
      expect(await codeOf(f.runs.createRun({ task: taskSpecSource() } as never))).toBe(Code.InvalidArgument);
      expect(await codeOf(f.runs.createRun({ id: { case: "runId", value: runId("rnotask") } } as never))).toBe(Code.InvalidArgument);
      expect(await codeOf(f.runs.createRun({ id: { case: "runId", value: runId("") }, task: taskSpecSource() }))).toBe(Code.InvalidArgument);
      expect(f.blobs.keys().some((k) => k.includes("rnotask"))).toBe(false);
    });
  });

  describe("GetRunDetails / GetActionDetails", () => {
    it("returns the run spec's env vars and the row's cache status; unknown runs are NotFound", async () => {
      await f.runs.createRun({
        id: { case: "runId", value: runId("rdetails") },
        task: taskSpecSource(),
        runSpec: { envs: { values: [{ key: "FOO", value: "bar" }] } },
      });
      await f.repo.actions.updateActionPhase(
        { project: PROJECT, domain: DOMAIN, run: "rdetails", action: "a0" },
        { phase: ActionPhase.SUCCEEDED, attempts: 1, cacheStatus: CatalogCacheStatus.CACHE_HIT, endTime: f.clock.now() },
      );
      const details = (await f.runs.getRunDetails({ runId: runId("rdetails") })).details!;
      expect(details.runSpec?.envs?.values).toMatchObject([{ key: "FOO", value: "bar" }]);
      expect(details.action?.status?.cacheStatus).toBe(CatalogCacheStatus.CACHE_HIT);
      expect(details.action?.status?.phase).toBe(ActionPhase.SUCCEEDED);
      expect(details.action?.id).toMatchObject({ name: "a0", run: { name: "rdetails" } });

      const err = await errorOf(f.runs.getRunDetails({ runId: runId("rmissing") }));
      expect(err.code).toBe(Code.NotFound);
      const err2 = await errorOf(f.runs.getActionDetails({ actionId: actionId("rdetails", "a9") }));
      expect(err2.code).toBe(Code.NotFound);
      expect(err2.rawMessage).toMatch(/action not found/);
    });

    it("falls back to the spec inside action_spec when the digest's spec is missing", async () => {
      await f.internal.recordAction({
        actionId: actionId("rdetails", "child"),
        parent: "a0",
        inputUri: "s3://x/in",
        spec: { case: "task", value: { id: { name: "t" }, spec: pythonSpec("my_env.child") } },
      });
      const details = (await f.runs.getActionDetails({ actionId: actionId("rdetails", "child") })).details!;
      expect(details.spec.case === "task" && details.spec.value.taskTemplate?.id?.name).toBe("my_env.child");
    });
  });

  describe("AbortRun / AbortAction", () => {
    it("AbortRun marks the run ABORTED with the default reason and hands a0 to the reconciler", async () => {
      await f.runs.createRun({ id: { case: "runId", value: runId("rabort1") }, task: taskSpecSource() });
      await f.runs.abortRun({ runId: runId("rabort1") });
      const row = await f.repo.actions.getRun({ project: PROJECT, domain: DOMAIN, run: "rabort1" });
      expect([row.phase, row.abort_reason, row.abort_requested_at !== null]).toEqual([ActionPhase.ABORTED, "User requested abort", true]);
      expect(f.pushed).toEqual([{ target: { project: PROJECT, domain: DOMAIN, run: "rabort1", action: "a0", org: ORG }, reason: "User requested abort" }]);
      expect(f.client.aborted).toHaveLength(0);
      const details = (await f.runs.getRunDetails({ runId: runId("rabort1") })).details!;
      expect(details.action?.result.case === "abortInfo" && details.action.result.value.reason).toBe("User requested abort");
    });

    it("AbortRun passes a custom reason through, even an empty one", async () => {
      await f.runs.createRun({ id: { case: "runId", value: runId("rabort2") }, task: taskSpecSource() });
      await f.runs.createRun({ id: { case: "runId", value: runId("rabort3") }, task: taskSpecSource() });
      await f.runs.abortRun({ runId: runId("rabort2"), reason: "changed my mind" });
      await f.runs.abortRun({ runId: runId("rabort3"), reason: "" });
      expect(f.pushed.map((p) => p.reason)).toEqual(["changed my mind", ""]);
    });

    it("AbortRun: unknown run ⇒ NotFound; finished run or action ⇒ OK, unchanged, nothing pushed", async () => {
      expect(await codeOf(f.runs.abortRun({ runId: runId("rnothere") }))).toBe(Code.NotFound);
      await f.runs.createRun({ id: { case: "runId", value: runId("rdone") }, task: taskSpecSource() });
      const key = { project: PROJECT, domain: DOMAIN, run: "rdone" };
      await f.repo.actions.updateActionPhase({ ...key, action: "a0" }, { phase: ActionPhase.SUCCEEDED, attempts: 1, cacheStatus: 0, endTime: f.clock.now() });
      const before = await f.repo.actions.getRun(key);
      await f.runs.abortRun({ runId: runId("rdone") });
      await f.runs.abortAction({ actionId: actionId("rdone", "a0"), reason: "late" });
      expect(await f.repo.actions.getRun(key)).toEqual(before);
      expect(f.pushed).toEqual([]);
    });

    it("AbortAction uses the default reason for an empty one and hands the action over", async () => {
      await f.runs.createRun({ id: { case: "runId", value: runId("raa") }, task: taskSpecSource() });
      await f.internal.recordAction({ actionId: actionId("raa", "c1"), parent: "a0", spec: { case: "task", value: { spec: pythonSpec("my_env.c1") } } });
      await f.internal.recordAction({ actionId: actionId("raa", "c2"), parent: "a0", spec: { case: "task", value: { spec: pythonSpec("my_env.c2") } } });
      await f.runs.abortAction({ actionId: actionId("raa", "c1"), reason: "" });
      await f.runs.abortAction({ actionId: actionId("raa", "c2"), reason: "custom" });
      expect(f.pushed).toEqual([
        { target: { project: PROJECT, domain: DOMAIN, run: "raa", action: "c1", org: ORG }, reason: "User requested abort" },
        { target: { project: PROJECT, domain: DOMAIN, run: "raa", action: "c2", org: ORG }, reason: "custom" },
      ]);
      const c1 = await f.repo.actions.getAction({ project: PROJECT, domain: DOMAIN, run: "raa", action: "c1" });
      expect(c1.phase).toBe(ActionPhase.ABORTED);
      const root = await f.repo.actions.getRun({ project: PROJECT, domain: DOMAIN, run: "raa" });
      expect(root.phase).toBe(ActionPhase.QUEUED);
      expect(await codeOf(f.runs.abortAction({ actionId: actionId("raa", "c9"), reason: "" }))).toBe(Code.NotFound);
      expect(f.client.aborted).toHaveLength(0);
    });
  });

  describe("ListRuns / ListActions", () => {
    it("pages runs of a project newest first (limit + token), and scopes by task", async () => {
      const fresh = await runServiceFixture(kind);
      try {
        const scope = { case: "projectId" as const, value: { organization: ORG, name: PROJECT, domain: DOMAIN } };
        expect(await fresh.runs.listRuns({ scopeBy: scope })).toMatchObject({ runs: [], token: "" });
        for (const name of ["rl1", "rl2", "rl3"]) {
          fresh.clock.advance(1000);
          await fresh.runs.createRun({ id: { case: "runId", value: runId(name) }, task: taskSpecSource(pythonSpec(name === "rl3" ? "my_env.other" : "my_env.my_task")) });
        }
        const first = await fresh.runs.listRuns({ scopeBy: scope, request: { limit: 2 } });
        expect(first.runs.map((r) => r.action?.id?.run?.name)).toEqual(["rl3", "rl2"]);
        expect(first.token).not.toBe("");
        const second = await fresh.runs.listRuns({ scopeBy: scope, request: { limit: 2, token: first.token } });
        expect(second.runs.map((r) => r.action?.id?.run?.name)).toEqual(["rl1"]);
        expect(second.token).toBe("");
        const all = await fresh.runs.listRuns({ scopeBy: scope, request: { limit: 3 } });
        expect([all.runs.length, all.token]).toEqual([3, ""]);
        expect(all.runs[0].action?.metadata?.environmentName).toBe("my_env");

        const byTask = await fresh.runs.listRuns({
          scopeBy: { case: "taskName", value: { org: ORG, project: PROJECT, domain: DOMAIN, name: "my_env.other" } },
        });
        expect(byTask.runs.map((r) => r.action?.id?.run?.name)).toEqual(["rl3"]);
        const byId = await fresh.runs.listRuns({
          scopeBy: { case: "taskId", value: { org: ORG, project: PROJECT, domain: DOMAIN, name: "my_env.my_task", version: "v1" } },
        });
        expect(byId.runs.map((r) => r.action?.id?.run?.name)).toEqual(["rl2", "rl1"]);
        const byOrg = await fresh.runs.listRuns({ scopeBy: { case: "org", value: ORG } });
        expect(byOrg.runs).toHaveLength(3);
        expect(await codeOf(fresh.runs.listRuns({ scopeBy: scope, request: { limit: 2, token: "garbage" } }))).toBe(Code.InvalidArgument);
        expect(await codeOf(fresh.runs.listRuns({ scopeBy: scope, request: { filters: [{ field: "nope", function: 0, values: ["x"] }] } }))).toBe(Code.InvalidArgument);
        expect(await codeOf(fresh.runs.listRuns({} as never))).toBe(Code.InvalidArgument);
      } finally {
        await fresh.drop();
      }
    });

    it("lists the actions of a run with parent and group only", async () => {
      await f.runs.createRun({ id: { case: "runId", value: runId("rla") }, task: taskSpecSource() });
      f.clock.advance(10);
      await f.internal.recordAction({ actionId: actionId("rla", "c1"), parent: "a0", group: "g", spec: { case: "task", value: { spec: pythonSpec() } } });
      const res = await f.runs.listActions({ runId: runId("rla"), request: { limit: 10 } });
      // Default order: phase, then newest first.
      expect(res.actions.map((a) => [a.id?.name, a.metadata?.parent, a.metadata?.group, a.metadata?.spec.case])).toEqual([
        ["c1", "a0", "g", undefined],
        ["a0", "", "", undefined],
      ]);
      expect((await f.runs.listActions({ runId: runId("rnobody") })).actions).toEqual([]);
    });
  });

  describe("GetActionDataURIs / GetActionData / GetActionLogContext", () => {
    const event = (run: string, action: string, attempt: number, phase: ActionPhase, extra: Record<string, unknown> = {}) => ({
      id: actionId(run, action),
      attempt,
      phase,
      version: 0,
      updatedTime: { seconds: BigInt(1_770_000_000 + attempt * 10 + phase), nanos: 0 },
      ...extra,
    });

    beforeAll(async () => {
      await f.runs.createRun({ id: { case: "runId", value: runId("rdata") }, task: taskSpecSource(), inputWrapper: inputsOf(["x", "in"]) });
    });

    it("missing action ⇒ NotFound; running action ⇒ inputs only", async () => {
      expect(await codeOf(f.runs.getActionDataURIs({ actionId: actionId("rdata", "zz") }))).toBe(Code.NotFound);
      const res = await f.runs.getActionDataURIs({ actionId: actionId("rdata", "a0") });
      expect(res).toMatchObject({ inputsUri: `${PREFIX}/proj/dev/rdata/inputs/inputs.pb`, outputsUri: "" });
    });

    it("no detailed info ⇒ NotFound 'run data not available'", async () => {
      const now = f.clock.now();
      await f.repo.actions.createAction({
        project: PROJECT, domain: DOMAIN, run_name: "rdata", name: "bare", parent_action_name: "a0", phase: 1, run_source: "",
        action_type: ActionType.TASK, task_type: "", function_name: "", abort_attempt_count: 0, attempts: 1, cache_status: 0,
        created_at: now, updated_at: now,
      });
      const err = await errorOf(f.runs.getActionDataURIs({ actionId: actionId("rdata", "bare") }));
      expect([err.code, err.rawMessage]).toEqual([Code.NotFound, "run data not available"]);
    });

    it("succeeded trace ⇒ outputs from its RunInfo", async () => {
      await f.internal.recordAction({
        actionId: actionId("rdata", "tr"),
        parent: "a0",
        inputUri: "s3://x/tr/inputs.pb",
        spec: { case: "trace", value: { name: "tr", outputs: { outputUri: "s3://x/tr/outputs.pb" }, spec: { interface: {} } } },
      });
      expect(await f.runs.getActionDataURIs({ actionId: actionId("rdata", "tr") })).toMatchObject({ inputsUri: "s3://x/tr/inputs.pb", outputsUri: "s3://x/tr/outputs.pb" });
    });

    it("succeeded task ⇒ the last attempt's output uri; no attempts or no uri ⇒ NotFound", async () => {
      const ok = (name: string) => f.repo.actions.updateActionPhase({ project: PROJECT, domain: DOMAIN, run: "rdata", action: name }, { phase: ActionPhase.SUCCEEDED, attempts: 2, cacheStatus: 0, endTime: f.clock.now() });
      for (const name of ["t1", "t2", "t3"]) {
        await f.internal.recordAction({ actionId: actionId("rdata", name), parent: "a0", inputUri: `s3://x/${name}/inputs.pb`, spec: { case: "task", value: { spec: pythonSpec() } } });
        await ok(name);
      }
      let err = await errorOf(f.runs.getActionDataURIs({ actionId: actionId("rdata", "t1") }));
      expect([err.code, err.rawMessage]).toEqual([Code.NotFound, "outputs not available, no attempts for action"]);
      await f.internal.recordActionEvents({ events: [event("rdata", "t2", 1, ActionPhase.SUCCEEDED)] });
      err = await errorOf(f.runs.getActionDataURIs({ actionId: actionId("rdata", "t2") }));
      expect([err.code, err.rawMessage]).toEqual([Code.NotFound, "outputs not available"]);
      await f.internal.recordActionEvents({
        events: [
          event("rdata", "t3", 1, ActionPhase.FAILED, { outputs: { outputUri: "s3://x/t3/1/outputs.pb" } }),
          event("rdata", "t3", 2, ActionPhase.SUCCEEDED, { outputs: { outputUri: "s3://x/t3/2/outputs.pb" } }),
        ],
      });
      expect((await f.runs.getActionDataURIs({ actionId: actionId("rdata", "t3") })).outputsUri).toBe("s3://x/t3/2/outputs.pb");

      // GetActionData reads both blobs; a missing output blob is NotFound.
      await f.blobs.write("s3://x/t3/inputs.pb", toBinary(InputsSchema, create(InputsSchema, { literals: [{ name: "i", value: stringLiteral("in") }] })));
      expect(await codeOf(f.runs.getActionData({ actionId: actionId("rdata", "t3") }))).toBe(Code.NotFound);
      await f.blobs.write("s3://x/t3/2/outputs.pb", toBinary(InputsSchema, create(InputsSchema, { literals: [{ name: "o", value: stringLiteral("out") }] })));
      const data = await f.runs.getActionData({ actionId: actionId("rdata", "t3") });
      expect(data.inputs?.literals.map((l) => l.name)).toEqual(["i"]);
      expect(data.outputs?.literals.map((l) => l.name)).toEqual(["o"]);
    });

    it("GetActionData of a queued run: its inputs and empty outputs; missing inputs blob ⇒ NotFound", async () => {
      const data = await f.runs.getActionData({ actionId: actionId("rdata", "a0") });
      expect(data.inputs?.literals.map((l) => l.name)).toEqual(["x"]);
      expect(data.outputs?.literals).toEqual([]);
      await f.internal.recordAction({ actionId: actionId("rdata", "noin"), parent: "a0", inputUri: "s3://x/missing/inputs.pb", spec: { case: "task", value: { spec: pythonSpec() } } });
      const err = await errorOf(f.runs.getActionData({ actionId: actionId("rdata", "noin") }));
      expect([err.code, err.rawMessage]).toEqual([Code.NotFound, "inputs not found at s3://x/missing/inputs.pb"]);
    });

    it("GetActionLogContext: the latest event's log context and cluster; NotFound without event or context", async () => {
      await f.internal.recordActionEvents({
        events: [
          event("rdata", "a0", 1, ActionPhase.RUNNING, { cluster: "c1", logContext: { primaryPodName: "pod-1", pods: [{ podName: "pod-1" }] } }),
          event("rdata", "a0", 2, ActionPhase.RUNNING, { cluster: "c2" }),
        ],
      });
      const res = await f.runs.getActionLogContext({ actionId: actionId("rdata", "a0"), attempt: 1 });
      expect([res.cluster, res.logContext?.primaryPodName]).toEqual(["c1", "pod-1"]);
      let err = await errorOf(f.runs.getActionLogContext({ actionId: actionId("rdata", "a0"), attempt: 3 }));
      expect([err.code, err.rawMessage]).toEqual([Code.NotFound, "no event found for action proj/dev/rdata/a0 attempt 3"]);
      err = await errorOf(f.runs.getActionLogContext({ actionId: actionId("rdata", "a0"), attempt: 2 }));
      expect([err.code, err.rawMessage]).toEqual([Code.NotFound, "no log context found for action proj/dev/rdata/a0 attempt 2"]);
    });
  });
});
