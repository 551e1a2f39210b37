import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ProjectSchema } from "#gen/flyteidl2/project/project_service_pb.js";
import { TriggerAutomationSpecType } from "#gen/flyteidl2/task/common_pb.js";
import { DeployTaskRequestSchema, TaskService } from "#gen/flyteidl2/task/task_service_pb.js";
import { TriggerRevisionAction } from "#gen/flyteidl2/trigger/trigger_definition_pb.js";
import {
  DeleteTriggersRequestSchema,
  DeployTriggerRequestSchema,
  GetTriggerDetailsRequestSchema,
  GetTriggerRevisionDetailsRequestSchema,
  GetTriggerRevisionHistoryRequestSchema,
  ListTriggersRequestSchema,
  TriggerService,
  UpdateTriggersRequestSchema,
} from "#gen/flyteidl2/trigger/trigger_service_pb.js";
import type { DatabaseHandle } from "../../src/repository/dialect/index.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../../src/repository/errors.js";
import { createRepository, type Repository } from "../../src/repository/index.js";
import { projectToRow } from "../../src/repository/transformers/project.js";
import { createTaskService } from "../../src/service/task-service.js";
import { createTriggerService } from "../../src/service/trigger-service.js";
import { openMigratedDatabase, testDialects } from "../support/databases.js";
import { handlers, type Handlers } from "../support/handlers.js";
import { manualClock } from "../support/manual-clock.js";

const name = (n: string, taskName = "env.fn", project = "proj") => ({ org: "o", project, domain: "dev", taskName, name: n });
const cron = (expression: string) => ({
  type: TriggerAutomationSpecType.TYPE_SCHEDULE,
  automation: { case: "schedule" as const, value: { expression: { case: "cron" as const, value: { expression, timezone: "" } } } },
});

type ListTriggersInit = NonNullable<Parameters<typeof create<typeof ListTriggersRequestSchema>>[1]>;

describe.each(await testDialects())("TriggerService handlers on %s", (kind) => {
  const clock = manualClock();
  let handle: DatabaseHandle;
  let drop: () => Promise<void>;
  let repo: Repository;
  let svc: Handlers<typeof TriggerService>;
  let tasks: Handlers<typeof TaskService>;

  const deployTrigger = (init: Parameters<typeof create<typeof DeployTriggerRequestSchema>>[1]) =>
    svc.deployTrigger(create(DeployTriggerRequestSchema, init));
  const history = async (n: string) =>
    (await svc.getTriggerRevisionHistory(create(GetTriggerRevisionHistoryRequestSchema, { name: name(n) }))).triggers;

  beforeAll(async () => {
    ({ handle, drop } = await openMigratedDatabase(kind));
    repo = createRepository(handle, clock);
    svc = handlers(TriggerService, createTriggerService({ triggers: repo.triggers, projects: repo.projects }));
    tasks = handlers(TaskService, createTaskService({ tasks: repo.tasks, projects: repo.projects }));
    await repo.projects.create(projectToRow(create(ProjectSchema, { id: "proj", name: "proj" }), clock.now()));
  });
  afterAll(async () => drop?.());
  beforeEach(async () => {
    for (const t of ["tasks", "triggers", "trigger_revisions"] as const) await handle.db.deleteFrom(t).execute();
    await tasks.deployTask(
      create(DeployTaskRequestSchema, { taskId: { org: "o", project: "proj", domain: "dev", name: "env.fn", version: "v1" }, spec: {} })
    );
  });

  it("deploys a trigger and reads it back", async () => {
    const res = await deployTrigger({ name: name("a"), spec: { active: true, taskVersion: "v1", description: "d" }, automationSpec: cron("@hourly") });
    expect(res.trigger?.id?.revision).toBe(1n);
    expect(res.trigger?.id?.name).toMatchObject({ org: "", project: "proj", domain: "dev", taskName: "env.fn", name: "a" });
    expect(res.trigger?.spec).toMatchObject({ active: true, taskVersion: "v1", description: "d" });
    expect(res.trigger?.status?.deployedAt).toBeDefined();
    expect(res.trigger?.automationSpec?.type).toBe(TriggerAutomationSpecType.TYPE_SCHEDULE);
    const got = await svc.getTriggerDetails(create(GetTriggerDetailsRequestSchema, { name: name("a") }));
    expect(got.trigger).toEqual(res.trigger);
    const rev = await svc.getTriggerRevisionDetails(create(GetTriggerRevisionDetailsRequestSchema, { id: { name: name("a"), revision: 1n } }));
    expect(rev.trigger?.id?.revision).toBe(1n);
    const task = await repo.tasks.get({ project: "proj", domain: "dev", name: "env.fn", version: "v1" });
    expect([task.trigger_name, task.total_triggers, task.active_triggers]).toEqual(["a", 1, 1]);
  });

  it("refuses unknown projects, bad crons and zero rates; stale revisions fail the precondition", async () => {
    await expect(deployTrigger({ name: name("a", "t", "ghost"), spec: { taskVersion: "v1" } })).rejects.toThrow('project "ghost" not found');
    const bad = await deployTrigger({ name: name("a"), spec: { taskVersion: "v1" }, automationSpec: cron("* * *") }).catch((e) => e);
    expect(bad).toBeInstanceOf(InvalidArgumentError);
    expect(bad.message).toMatch(/^trigger "a" has invalid cron expression: /);
    const zero = {
      automation: { case: "schedule" as const, value: { expression: { case: "rate" as const, value: { value: 0, unit: 1 } } } },
    };
    await expect(deployTrigger({ name: name("a"), spec: { taskVersion: "v1" }, automationSpec: zero })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect((await handle.db.selectFrom("triggers").selectAll().execute()).length).toBe(0);

    await deployTrigger({ name: name("a"), spec: { taskVersion: "v1" } });
    await deployTrigger({ name: name("a"), spec: { taskVersion: "v1" }, revision: 1n });
    await expect(deployTrigger({ name: name("a"), spec: { taskVersion: "v1" }, revision: 1n })).rejects.toBeInstanceOf(FailedPreconditionError);
    for (const init of [{ spec: { taskVersion: "v1" } }, { name: name("a") }, { name: name(""), spec: { taskVersion: "v1" } }, { name: name("a"), spec: {} }]) {
      expect(ConnectError.from(await deployTrigger(init).catch((e) => e)).code).toBe(Code.InvalidArgument);
    }
  });

  it("lists triggers by project, task name, task id and org", async () => {
    await deployTrigger({ name: name("a"), spec: { active: true, taskVersion: "v1" } });
    clock.advance(1);
    await deployTrigger({ name: name("b"), spec: { active: false, taskVersion: "v2" } });
    clock.advance(1);
    await deployTrigger({ name: name("c", "other.task"), spec: { active: true, taskVersion: "v1" } });
    const list = async (scopeBy: ListTriggersInit["scopeBy"]) =>
      (await svc.listTriggers(create(ListTriggersRequestSchema, { scopeBy } as ListTriggersInit))).triggers.map((t) => t.id?.name?.name);
    expect(await list({ case: "org", value: "o" })).toEqual(["c", "a", "b"]);
    expect(await list({ case: "projectId", value: { organization: "o", name: "proj", domain: "dev" } })).toEqual(["c", "a", "b"]);
    expect(await list({ case: "taskName", value: { org: "o", project: "proj", domain: "dev", name: "env.fn" } })).toEqual(["a", "b"]);
    expect(await list({ case: "taskId", value: { org: "o", project: "proj", domain: "dev", name: "env.fn", version: "v2" } })).toEqual(["b"]);
    const one = (await svc.listTriggers(create(ListTriggersRequestSchema, { scopeBy: { case: "org", value: "o" } }))).triggers[0];
    expect([one.active, one.status?.deployedAt !== undefined, one.automationSpec?.type]).toEqual([true, true, TriggerAutomationSpecType.TYPE_NONE]);
    await expect(svc.listTriggers(create(ListTriggersRequestSchema, {}))).rejects.toThrow(/scope_by is required/);
  });

  it("activates, deactivates (no-op on repeat) and deletes, recording the history", async () => {
    await deployTrigger({ name: name("a"), spec: { active: true, taskVersion: "v1" } });
    clock.advance(1);
    await svc.updateTriggers(create(UpdateTriggersRequestSchema, { names: [name("a"), name("ghost")], active: false }));
    clock.advance(1);
    await svc.updateTriggers(create(UpdateTriggersRequestSchema, { names: [name("a")], active: false }));
    clock.advance(1);
    await svc.updateTriggers(create(UpdateTriggersRequestSchema, { names: [name("a")], active: true }));
    clock.advance(1);
    await svc.deleteTriggers(create(DeleteTriggersRequestSchema, { names: [name("a")] }));
    const revisions = await history("a");
    expect(revisions.map((r) => [r.id?.revision, r.action])).toEqual([
      [4n, TriggerRevisionAction.DELETE],
      [3n, TriggerRevisionAction.ACTIVATE],
      [2n, TriggerRevisionAction.DEACTIVATE],
      [1n, TriggerRevisionAction.DEPLOY],
    ]);
    expect(revisions[0].status?.deletedAt).toBeDefined();
    expect(revisions[0].createdAt).toEqual(revisions[0].status?.deletedAt);
    await expect(svc.getTriggerDetails(create(GetTriggerDetailsRequestSchema, { name: name("a") }))).rejects.toBeInstanceOf(NotFoundError);
    const task = await repo.tasks.get({ project: "proj", domain: "dev", name: "env.fn", version: "v1" });
    expect(task.total_triggers).toBe(0);
    expect(await history("ghost")).toEqual([]);
  });
});
