import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskService } from "#gen/flyteidl2/task/task_service_pb.js";
import { TriggerRevisionAction } from "#gen/flyteidl2/trigger/trigger_definition_pb.js";
import { TriggerService } from "#gen/flyteidl2/trigger/trigger_service_pb.js";
import { Sort_Direction } from "#gen/flyteidl2/common/list_pb.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { testDialects } from "../support/databases.js";

async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

const ORG = "testorg";
const PROJECT = "flytesnacks";
const DOMAIN = "development";
const taskId = (name: string, version: string, project = PROJECT) => ({ org: ORG, project, domain: DOMAIN, name, version });
const taskName = (name: string) => ({ org: ORG, project: PROJECT, domain: DOMAIN, name });
const triggerName = (task: string, name: string) => ({ org: ORG, project: PROJECT, domain: DOMAIN, taskName: task, name });
const projectScope = { case: "projectId" as const, value: { organization: ORG, name: PROJECT, domain: DOMAIN } };
const cronTrigger = (name: string, expression: string, active = true) => ({
  name,
  spec: { active, description: `${name} trigger` },
  automationSpec: {
    type: 2,
    automation: { case: "schedule" as const, value: { expression: { case: "cron" as const, value: { expression, timezone: "UTC" } } } },
  },
});
const spec = (env = "env") => ({ taskTemplate: { type: "python" }, environment: { name: env }, documentation: { shortDescription: "demo" } });

describe.each(await testDialects())("TaskService and TriggerService over a real server on %s", (kind) => {
  let t: TestApp;
  let tasks: Client<typeof TaskService>;
  let triggers: Client<typeof TriggerService>;

  beforeAll(async () => {
    t = await startTestApp(kind);
    tasks = createClient(TaskService, t.transports["connect-h2"]);
    triggers = createClient(TriggerService, t.transports["connect-h2"]);
  });
  afterAll(async () => t?.close());

  it("deploy → get → list → redeploy → trigger update/delete history", async () => {
    await tasks.deployTask({
      taskId: taskId("env.train", "v1"),
      spec: spec(),
      triggers: [cronTrigger("hourly", "0 * * * *"), cronTrigger("nightly", "@midnight", false)],
    });
    const details = (await tasks.getTaskDetails({ taskId: taskId("env.train", "v1") })).details!;
    expect(details.taskId).toMatchObject({ org: "", project: PROJECT, name: "env.train", version: "v1" });
    expect(details.metadata?.shortName).toBe("train");
    expect(details.metadata?.environmentName).toBe("env");
    expect(details.metadata?.shortDescription).toBe("demo");
    const stats = details.metadata?.triggersSummary?.summary;
    expect(stats?.case === "stats" && [stats.value.total, stats.value.active]).toEqual([2, 1]);

    const listed = await tasks.listTasks({ scopeBy: projectScope, request: { limit: 10 } });
    expect(listed.tasks.map((x) => x.taskId?.version)).toEqual(["v1"]);
    expect([listed.metadata?.total, listed.metadata?.filteredTotal]).toEqual([1, 1]);

    // Redeploy a new version naming only one of the triggers: the other is deleted.
    await tasks.deployTask({ taskId: taskId("env.train", "v2"), spec: spec(), triggers: [cronTrigger("hourly", "30 * * * *")] });
    const latest = await tasks.listTasks({ scopeBy: projectScope, request: { limit: 10 } });
    expect(latest.tasks.map((x) => x.taskId?.version)).toEqual(["v2"]);
    const single = latest.tasks[0].metadata?.triggersSummary?.summary;
    expect(single?.case === "details" && single.value.name).toBe("hourly");
    const versions = await tasks.listVersions({ taskName: taskName("env.train") });
    expect(versions.versions.map((v) => v.version)).toEqual(["v2", "v1"]);

    const live = await triggers.listTriggers({ scopeBy: { case: "taskName", value: taskName("env.train") } });
    expect(live.triggers.map((x) => [x.id?.name?.name, x.id?.revision])).toEqual([["hourly", 2n]]);
    const hourly = (await triggers.getTriggerDetails({ name: triggerName("env.train", "hourly") })).trigger!;
    expect(hourly.spec?.taskVersion).toBe("v2");
    const s = hourly.automationSpec?.automation;
    expect(s?.case === "schedule" && s.value.expression.case === "cron" && s.value.expression.value.expression).toBe("30 * * * *");

    await triggers.updateTriggers({ names: [triggerName("env.train", "hourly")], active: false });
    await triggers.updateTriggers({ names: [triggerName("env.train", "hourly")], active: false });
    await triggers.deleteTriggers({ names: [triggerName("env.train", "hourly")] });
    const history = await triggers.getTriggerRevisionHistory({ name: triggerName("env.train", "hourly") });
    expect(history.triggers.map((r) => [r.id?.revision, r.action])).toEqual([
      [4n, TriggerRevisionAction.DELETE],
      [3n, TriggerRevisionAction.DEACTIVATE],
      [2n, TriggerRevisionAction.DEPLOY],
      [1n, TriggerRevisionAction.DEPLOY],
    ]);
    const rev1 = (await triggers.getTriggerRevisionDetails({ id: { name: triggerName("env.train", "hourly"), revision: 1n } })).trigger!;
    expect(rev1.spec?.taskVersion).toBe("v1");
    expect(await codeOf(triggers.getTriggerDetails({ name: triggerName("env.train", "hourly") }))).toBe(Code.NotFound);
    const nightly = await triggers.getTriggerRevisionHistory({ name: triggerName("env.train", "nightly") });
    expect(nightly.triggers.map((r) => r.action)).toEqual([TriggerRevisionAction.DELETE, TriggerRevisionAction.DEPLOY]);
  });

  it("deploys triggers through TriggerService with optimistic locking", async () => {
    await tasks.deployTask({ taskId: taskId("env.solo", "v1"), spec: spec() });
    const first = (await triggers.deployTrigger({ name: triggerName("env.solo", "t"), spec: { active: true, taskVersion: "v1" } })).trigger!;
    expect(first.id?.revision).toBe(1n);
    const second = (await triggers.deployTrigger({ name: triggerName("env.solo", "t"), revision: 1n, spec: { active: false, taskVersion: "v1" } })).trigger!;
    expect(second.id?.revision).toBe(2n);
    expect(await codeOf(triggers.deployTrigger({ name: triggerName("env.solo", "t"), revision: 1n, spec: { taskVersion: "v1" } }))).toBe(
      Code.FailedPrecondition,
    );
    const listed = await triggers.listTriggers({ scopeBy: { case: "taskId", value: taskId("env.solo", "v1") } });
    expect(listed.triggers.map((x) => [x.id?.name?.name, x.active])).toEqual([["t", false]]);
  });

  it("works over gRPC too", async () => {
    const grpcTasks = createClient(TaskService, t.transports.grpc);
    await grpcTasks.deployTask({ taskId: taskId("env.grpc", "v1"), spec: spec(), triggers: [cronTrigger("g", "@every 1h")] });
    const details = (await grpcTasks.getTaskDetails({ taskId: taskId("env.grpc", "v1") })).details!;
    expect(details.spec?.taskTemplate?.type).toBe("python");
    const grpcTriggers = createClient(TriggerService, t.transports.grpc);
    const listed = await grpcTriggers.listTriggers({ scopeBy: { case: "taskName", value: taskName("env.grpc") } });
    expect(listed.triggers.map((x) => x.id?.name?.name)).toEqual(["g"]);
    expect(await codeOf(grpcTasks.getTaskDetails({ taskId: taskId("env.grpc", "v9") }))).toBe(Code.NotFound);
  });

  it("pages through tasks with opaque tokens, every task once", async () => {
    const names = ["page.a", "page.b", "page.c", "page.d", "page.e"];
    for (const n of names) await tasks.deployTask({ taskId: taskId(n, "v1"), spec: spec("page") });
    const filters = [{ field: "environment", function: 0, values: ["page"] }];
    const sortByFields = [{ key: "name", direction: Sort_Direction.ASCENDING }];
    const seen: string[] = [];
    let token = "";
    do {
      const res = await tasks.listTasks({ scopeBy: projectScope, request: { limit: 2, token, filters, sortByFields } });
      seen.push(...res.tasks.map((x) => x.taskId!.name));
      expect(res.metadata?.filteredTotal).toBe(5);
      token = res.token;
    } while (token !== "");
    expect(seen).toEqual(names);

    const first = await tasks.listTasks({ scopeBy: projectScope, request: { limit: 2, filters, sortByFields } });
    // The token belongs to that list: another list, filter or order refuses it.
    expect(await codeOf(tasks.listVersions({ taskName: taskName("page.a"), request: { token: first.token } }))).toBe(Code.InvalidArgument);
    expect(await codeOf(triggers.listTriggers({ scopeBy: projectScope, request: { token: first.token } }))).toBe(Code.InvalidArgument);
    expect(await codeOf(tasks.listTasks({ scopeBy: projectScope, request: { limit: 2, token: first.token } }))).toBe(Code.InvalidArgument);
    expect(await codeOf(tasks.listTasks({ scopeBy: projectScope, request: { token: "garbage" } }))).toBe(Code.InvalidArgument);
  });

  it("answers bad input with the right code and writes nothing", async () => {
    const before = await t.app.db.db.selectFrom("trigger_revisions").selectAll().execute();
    const checks: [string, () => Promise<unknown>, Code][] = [
      ["unknown project", () => tasks.deployTask({ taskId: taskId("bad.a", "v1", "ghost"), spec: spec() }), Code.NotFound],
      ["bad cron", () => tasks.deployTask({ taskId: taskId("bad.b", "v1"), spec: spec(), triggers: [cronTrigger("ok", "@daily"), cronTrigger("x", "0 0 * * * *")] }), Code.InvalidArgument],
      ["bad zone", () => tasks.deployTask({ taskId: taskId("bad.c", "v1"), spec: spec(), triggers: [{ ...cronTrigger("x", "@daily"), automationSpec: { type: 2, automation: { case: "schedule", value: { expression: { case: "cron", value: { expression: "@daily", timezone: "Nowhere/Land" } } } } } }] }), Code.InvalidArgument],
      ["zero rate", () => tasks.deployTask({ taskId: taskId("bad.d", "v1"), spec: spec(), triggers: [{ name: "r", spec: {}, automationSpec: { type: 2, automation: { case: "schedule", value: { expression: { case: "rate", value: { value: 0, unit: 1 } } } } } }] }), Code.InvalidArgument],
      ["empty task name", () => tasks.deployTask({ taskId: taskId("", "v1"), spec: spec() }), Code.InvalidArgument],
      ["missing spec", () => tasks.deployTask({ taskId: taskId("bad.e", "v1") }), Code.InvalidArgument],
      ["empty trigger name", () => triggers.getTriggerDetails({ name: triggerName("env.train", "") }), Code.InvalidArgument],
      ["trigger project", () => triggers.deployTrigger({ name: { ...triggerName("t", "x"), project: "ghost" }, spec: { taskVersion: "v1" } }), Code.NotFound],
      ["limit above maximum", () => tasks.listTasks({ scopeBy: projectScope, request: { limit: 201 } }), Code.InvalidArgument],
      ["unknown sort column", () => tasks.listTasks({ scopeBy: projectScope, request: { sortByFields: [{ key: "secret" }] } }), Code.InvalidArgument],
      ["unknown filter column", () => triggers.listTriggers({ scopeBy: projectScope, request: { filters: [{ field: "spec", values: ["x"] }] } }), Code.InvalidArgument],
      ["no scope", () => tasks.listTasks({}), Code.InvalidArgument],
      ["missing task", () => tasks.getTaskDetails({ taskId: taskId("none", "v1") }), Code.NotFound],
      ["missing revision", () => triggers.getTriggerRevisionDetails({ id: { name: triggerName("none", "none"), revision: 1n } }), Code.NotFound],
    ];
    for (const [label, call, code] of checks) expect([label, await codeOf(call())]).toEqual([label, code]);
    for (const n of ["bad.a", "bad.b", "bad.c", "bad.d", "bad.e"]) {
      expect((await tasks.listVersions({ taskName: taskName(n) })).versions).toEqual([]);
    }
    expect(await t.app.db.db.selectFrom("trigger_revisions").selectAll().execute()).toEqual(before);
  });
});
