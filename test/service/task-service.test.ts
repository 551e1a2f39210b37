import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ProjectSchema } from "#gen/flyteidl2/project/project_service_pb.js";
import { FixedRateUnit } from "#gen/flyteidl2/task/common_pb.js";
import {
  TaskService,
  DeployTaskRequestSchema,
  GetTaskDetailsRequestSchema,
  ListTasksRequestSchema,
  ListVersionsRequestSchema,
} from "#gen/flyteidl2/task/task_service_pb.js";
import { TaskIdentifierSchema, TaskSpecSchema } from "#gen/flyteidl2/task/task_definition_pb.js";
import type { DatabaseHandle } from "../../src/repository/dialect/index.js";
import { InvalidArgumentError, NotFoundError } from "../../src/repository/errors.js";
import { createRepository, type Repository } from "../../src/repository/index.js";
import { projectToRow } from "../../src/repository/transformers/project.js";
import { extractFunctionName, taskDraft } from "../../src/repository/transformers/task.js";
import { createTaskService } from "../../src/service/task-service.js";
import { MAX_LONG_DESCRIPTION_BYTES, MAX_SHORT_DESCRIPTION_BYTES, truncateUtf8 } from "../../src/service/truncate.js";
import { openMigratedDatabase, testDialects } from "../support/databases.js";
import { handlers, type Handlers } from "../support/handlers.js";
import { manualClock } from "../support/manual-clock.js";


describe("description truncation (bytes of UTF-8)", () => {
  it.each([
    [MAX_SHORT_DESCRIPTION_BYTES, "short"],
    [MAX_LONG_DESCRIPTION_BYTES, "long"],
  ])("keeps text up to %i bytes (%s) and cuts longer text to the limit", (limit) => {
    const under = "a".repeat(limit - 1);
    const at = "a".repeat(limit);
    expect(truncateUtf8(under, limit)).toBe(under);
    expect(truncateUtf8(at, limit)).toBe(at);
    expect(truncateUtf8(at + "bcd", limit)).toBe(at);
    expect(Buffer.byteLength(truncateUtf8(at + "bcd", limit))).toBe(limit);
  });

  it("never splits a character", () => {
    const text = "é".repeat(200); // 400 bytes
    const cut = truncateUtf8(text, 255);
    expect(Buffer.byteLength(cut)).toBe(254);
    expect(cut).toBe("é".repeat(127));
    expect(truncateUtf8("a😀", 4)).toBe("a");
  });
});

describe("function names", () => {
  it("strips the environment prefix, else keeps the last segment", () => {
    expect(extractFunctionName("prod.my_function", "prod")).toBe("my_function");
    expect(extractFunctionName("my.nested.function", "")).toBe("function");
    expect(extractFunctionName("dev.pkg.fn", "prod")).toBe("fn");
    expect(extractFunctionName("plain", "")).toBe("plain");
    const row = taskDraft(
      create(TaskIdentifierSchema, { project: "p", domain: "d", name: "prod.my_function", version: "v" }),
      create(TaskSpecSchema, { environment: { name: "prod", description: "env" }, documentation: { shortDescription: "s" } }),
    );
    expect([row.function_name, row.deployed_by, row.env_description, row.short_description]).toEqual(["my_function", "", "env", "s"]);
  });
});

describe.each(await testDialects())("TaskService handlers on %s", (kind) => {
  const clock = manualClock();
  let handle: DatabaseHandle;
  let drop: () => Promise<void>;
  let repo: Repository;
  let svc: Handlers<typeof TaskService>;

  const taskId = (name = "env.fn", version = "v1", project = "proj") => ({ org: "o", project, domain: "development", name, version });
  const deploy = (init: Parameters<typeof create<typeof DeployTaskRequestSchema>>[1]) =>
    svc.deployTask(create(DeployTaskRequestSchema, init));
  const cronTrigger = (name: string, expression: string, timezone = "") => ({
    name,
    spec: { active: true },
    automationSpec: { type: 2, automation: { case: "schedule" as const, value: { expression: { case: "cron" as const, value: { expression, timezone } } } } },
  });
  const counts = async () =>
    Promise.all((["tasks", "triggers", "trigger_revisions"] as const).map(async (t) => (await handle.db.selectFrom(t).selectAll().execute()).length));

  beforeAll(async () => {
    ({ handle, drop } = await openMigratedDatabase(kind));
    repo = createRepository(handle, clock);
    svc = handlers(TaskService, createTaskService({ tasks: repo.tasks, projects: repo.projects }));
    await repo.projects.create(projectToRow(create(ProjectSchema, { id: "proj", name: "proj" }), clock.now()));
  });
  afterAll(async () => drop?.());
  beforeEach(async () => {
    for (const t of ["tasks", "triggers", "trigger_revisions"] as const) await handle.db.deleteFrom(t).execute();
  });

  it("deploys after checking the project, then returns details with org cleared", async () => {
    await deploy({ taskId: taskId(), spec: { taskTemplate: { type: "python" }, environment: { name: "env" } } });
    const res = await svc.getTaskDetails(create(GetTaskDetailsRequestSchema, { taskId: taskId() }));
    expect(res.details?.taskId).toMatchObject({ org: "", project: "proj", domain: "development", name: "env.fn", version: "v1" });
    expect(res.details?.metadata?.shortName).toBe("fn");
    expect(res.details?.metadata?.deployedAt).toBeDefined();
    expect(res.details?.spec?.taskTemplate?.type).toBe("python");
  });

  it("refuses an unknown project with NotFound and stores nothing", async () => {
    const error = await deploy({ taskId: taskId("x", "v1", "nope"), spec: {} }).catch((e) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe('project "nope" not found');
    expect(await counts()).toEqual([0, 0, 0]);
  });

  it.each([
    ["6 fields (seconds)", cronTrigger("bad", "0 * * * * *")],
    ["out of range", cronTrigger("bad", "61 * * * *")],
    ["unknown descriptor", cronTrigger("bad", "@reboot")],
    ["bad zone", cronTrigger("bad", "0 0 * * *", "Mars/Olympus")],
    ["legacy expression", { name: "bad", spec: {}, automationSpec: { automation: { case: "schedule" as const, value: { expression: { case: "cronExpression" as const, value: "nope" } } } } }],
  ])("rejects an invalid cron (%s) naming the trigger; nothing is stored", async (_label, bad) => {
    const error = await deploy({ taskId: taskId(), spec: {}, triggers: [cronTrigger("good", "0 * * * *"), bad] }).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(/^trigger "bad" has invalid cron expression: /);
    expect(await counts()).toEqual([0, 0, 0]);
  });

  it("rejects a zero or unit-less fixed rate and duplicate trigger names", async () => {
    const rate = (value: number, unit: FixedRateUnit) => ({
      name: "r",
      spec: {},
      automationSpec: { automation: { case: "schedule" as const, value: { expression: { case: "rate" as const, value: { value, unit } } } } },
    });
    await expect(deploy({ taskId: taskId(), spec: {}, triggers: [rate(0, FixedRateUnit.HOUR)] })).rejects.toThrow(/trigger "r" has invalid fixed rate/);
    await expect(deploy({ taskId: taskId(), spec: {}, triggers: [rate(5, FixedRateUnit.UNSPECIFIED)] })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(deploy({ taskId: taskId(), spec: {}, triggers: [cronTrigger("x", "@daily"), cronTrigger("x", "@hourly")] })).rejects.toThrow(/more than once/);
    expect(await counts()).toEqual([0, 0, 0]);
    await deploy({ taskId: taskId(), spec: {}, triggers: [rate(5, FixedRateUnit.HOUR)] });
    expect(await counts()).toEqual([1, 1, 1]);
  });

  it("answers InvalidArgument for a request without task id or spec", async () => {
    for (const bad of [{ spec: {} }, { taskId: taskId() }, { taskId: { ...taskId(), name: "" }, spec: {} }]) {
      const error = await deploy(bad).catch((e) => e);
      expect(ConnectError.from(error).code).toBe(Code.InvalidArgument);
    }
    await expect(svc.getTaskDetails(create(GetTaskDetailsRequestSchema, {}))).rejects.toThrow(/task_id is required/);
  });

  it("cuts descriptions to their byte limits before storing", async () => {
    await deploy({
      taskId: taskId(),
      spec: {
        environment: { name: "env", description: "e".repeat(300) },
        documentation: { shortDescription: "s".repeat(300), longDescription: "l".repeat(3000) },
      },
      triggers: [{ ...cronTrigger("t", "@daily"), spec: { active: true, description: "d".repeat(400) } }],
    });
    const details = (await svc.getTaskDetails(create(GetTaskDetailsRequestSchema, { taskId: taskId() }))).details!;
    expect(details.spec?.environment?.description.length).toBe(255);
    expect(details.spec?.documentation?.shortDescription.length).toBe(255);
    expect(details.spec?.documentation?.longDescription.length).toBe(2048);
    expect(details.metadata?.shortDescription.length).toBe(255);
    const trigger = await repo.triggers.get({ project: "proj", domain: "development", taskName: "env.fn", name: "t" });
    expect(trigger.description?.length).toBe(255);
    expect(trigger.task_version).toBe("v1");
    const summary = details.metadata?.triggersSummary?.summary;
    expect(summary?.case === "details" && summary.value.name).toBe("t");
  });

  it("unknown task details are NotFound", async () => {
    await expect(svc.getTaskDetails(create(GetTaskDetailsRequestSchema, { taskId: taskId("none") }))).rejects.toBeInstanceOf(NotFoundError);
  });

  it("lists tasks by org or project with totals; validates the list request", async () => {
    await deploy({ taskId: taskId("a"), spec: {} });
    clock.advance(1);
    await deploy({ taskId: taskId("b"), spec: {} });
    const byOrg = await svc.listTasks(create(ListTasksRequestSchema, { request: { limit: 10 }, scopeBy: { case: "org", value: "o" } }));
    expect(byOrg.tasks.map((t) => t.taskId?.name)).toEqual(["b", "a"]);
    expect(byOrg.tasks[0].taskSummary).toBeDefined();
    expect([byOrg.metadata?.total, byOrg.metadata?.filteredTotal]).toEqual([2, 2]);
    const scoped = await svc.listTasks(
      create(ListTasksRequestSchema, {
        request: { limit: 1 },
        scopeBy: { case: "projectId", value: { organization: "o", name: "proj", domain: "development" } },
        knownFilters: [{ filterBy: { case: "deployedBy", value: "" } }, { filterBy: { case: "isEntrypoint", value: true } }],
      })
    );
    expect(scoped.tasks.length).toBe(1);
    expect(scoped.token).not.toBe("");
    const byOther = await svc.listTasks(
      create(ListTasksRequestSchema, { scopeBy: { case: "org", value: "o" }, knownFilters: [{ filterBy: { case: "deployedBy", value: "someone" } }] })
    );
    expect([byOther.tasks.length, byOther.metadata?.filteredTotal, byOther.metadata?.total]).toEqual([0, 0, 2]);

    const org = { case: "org" as const, value: "o" };
    await expect(svc.listTasks(create(ListTasksRequestSchema, { request: { limit: 201 }, scopeBy: org }))).rejects.toThrow(/exceeds maximum of 200/);
    await expect(svc.listTasks(create(ListTasksRequestSchema, { request: { sortByFields: [{ key: "nope" }] }, scopeBy: org }))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(svc.listTasks(create(ListTasksRequestSchema, { request: { filters: [{ field: "secret", values: ["x"] }] }, scopeBy: org }))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(svc.listTasks(create(ListTasksRequestSchema, {}))).rejects.toThrow(/scope_by is required/);
  });

  it("lists versions newest first", async () => {
    await deploy({ taskId: taskId("t", "v1"), spec: {} });
    clock.advance(1);
    await deploy({ taskId: taskId("t", "v2"), spec: {} });
    const res = await svc.listVersions(
      create(ListVersionsRequestSchema, { taskName: { org: "o", project: "proj", domain: "development", name: "t" } })
    );
    expect(res.versions.map((v) => v.version)).toEqual(["v2", "v1"]);
    expect(res.versions[0].deployedAt).toBeDefined();
    expect(res.token).toBe("");
  });
});
