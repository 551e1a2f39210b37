/** Shared set-up of the trigger scheduler tests: real database, real RunService/TriggerService, fake executor. */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { ProjectSchema } from "#gen/flyteidl2/project/project_service_pb.js";
import { TriggerAutomationSpecType, type InputsSchema, type ScheduleSchema } from "#gen/flyteidl2/task/common_pb.js";
import { DeployTaskRequestSchema, TaskService } from "#gen/flyteidl2/task/task_service_pb.js";
import { DeleteTriggersRequestSchema, DeployTriggerRequestSchema, TriggerService, UpdateTriggersRequestSchema } from "#gen/flyteidl2/trigger/trigger_service_pb.js";
import type { RunSpecSchema } from "#gen/flyteidl2/task/run_pb.js";
import type { TriggerSchedulerConfig } from "../../src/config/index.js";
import { openDatabase, type DatabaseHandle } from "../../src/repository/dialect/index.js";
import { createRepository, type Repository } from "../../src/repository/index.js";
import { createScheduleTriggerSource } from "../../src/repository/kysely/schedule-triggers.js";
import { runMigrations } from "../../src/repository/migrate.js";
import { projectToRow } from "../../src/repository/transformers/project.js";
import { inProcessCreateRun, type CreateRunFn } from "../../src/scheduler/in-process.js";
import { createTriggerScheduler, type TriggerScheduler, type TriggerSchedulerDeps } from "../../src/scheduler/trigger-scheduler.js";
import type { Timers } from "../../src/util/backoff.js";
import { createRunService } from "../../src/service/run-service/index.js";
import { createTaskService } from "../../src/service/task-service.js";
import { createTriggerService } from "../../src/service/trigger-service.js";
import { createMemoryBlobStore, type MemoryBlobStore } from "../../src/storage/index.js";
import type { Clock } from "../../src/util/clock.js";
import { createTestDatabase, MIGRATIONS_DIR, quietLogger, type DialectName, type TestDatabase } from "../support/databases.js";
import { handlers, type Handlers } from "../support/handlers.js";
import { fakeActionsClient, pythonSpec, stringLiteral, type FakeActionsClient } from "../service/run-service-fixtures.js";
import { directEnqueuer } from "../../src/service/enqueuer.js";

export const PROJECT = "proj";
export const DOMAIN = "dev";
export const TASK = "my_env.my_task";
export const PREFIX = "s3://flyte-data";

export const FAST: Omit<TriggerSchedulerConfig, "enabled"> = {
  resyncInterval: 30_000,
  maxCatchupRunsPerLoop: 100,
  executionQps: 1e6,
  executionBurst: 1_000_000,
};

export type ScheduleInit = MessageInitShape<typeof ScheduleSchema>;
export const cron = (expression: string, timezone = "", kickoffTimeInputArg = ""): ScheduleInit => ({
  expression: { case: "cron", value: { expression, timezone } },
  kickoffTimeInputArg,
});

/** One "process": its own connection, repositories, services, executor and scheduler. */
export interface SchedulerProcess {
  handle: DatabaseHandle;
  repo: Repository;
  blobs: MemoryBlobStore;
  executor: FakeActionsClient;
  createRun: CreateRunFn;
  scheduler: TriggerScheduler;
  triggers: Handlers<typeof TriggerService>;
  tasks: Handlers<typeof TaskService>;
}

export interface ProcessOptions {
  config?: Partial<Omit<TriggerSchedulerConfig, "enabled">>;
  timers?: Timers;
  /** Wraps CreateRun (fault injection, call recording). */
  wrapCreateRun?: (inner: CreateRunFn) => CreateRunFn;
  deps?: Partial<TriggerSchedulerDeps>;
}

export function schedulerProcess(handle: DatabaseHandle, clock: Clock, opts: ProcessOptions = {}): SchedulerProcess {
  const repo = createRepository(handle, clock);
  const blobs = createMemoryBlobStore();
  const executor = fakeActionsClient();
  const runService = createRunService({
    actions: repo.actions,
    tasks: repo.tasks,
    taskSpecs: repo.taskSpecs,
    triggers: repo.triggers,
    projects: repo.projects,
    blobStore: blobs,
    enqueuer: directEnqueuer(executor),
    storagePrefix: PREFIX,
    clock,
    logger: quietLogger,
  });
  const direct = inProcessCreateRun(runService, { logger: quietLogger, isConnectionError: handle.isConnectionError });
  const createRun = opts.wrapCreateRun ? opts.wrapCreateRun(direct) : direct;
  const scheduler = createTriggerScheduler({
    source: createScheduleTriggerSource(handle),
    triggers: repo.triggers,
    createRun,
    config: { ...FAST, ...opts.config },
    logger: quietLogger,
    clock,
    timers: opts.timers,
    random: () => 0.5,
    ...opts.deps,
  });
  return {
    handle,
    repo,
    blobs,
    executor,
    createRun,
    scheduler,
    triggers: handlers(TriggerService, createTriggerService({ triggers: repo.triggers, projects: repo.projects })),
    tasks: handlers(TaskService, createTaskService({ tasks: repo.tasks, projects: repo.projects })),
  };
}

/** A fresh migrated database that can be opened several times (several processes). */
export async function sharedDatabase(kind: DialectName) {
  const testDb: TestDatabase = await createTestDatabase(kind);
  const handles: DatabaseHandle[] = [];
  return {
    testDb,
    async open(): Promise<DatabaseHandle> {
      const h = await openDatabase(testDb.config, quietLogger);
      handles.push(h);
      await runMigrations(h, MIGRATIONS_DIR, quietLogger);
      return h;
    },
    async drop() {
      for (const h of handles) await h.close().catch(() => undefined);
      await testDb.drop();
    },
  };
}

/** The project and the task every trigger belongs to. */
export async function seed(p: SchedulerProcess, clock: Clock): Promise<void> {
  await p.repo.projects.create(projectToRow(create(ProjectSchema, { id: PROJECT, name: PROJECT }), clock.now()));
  await p.tasks.deployTask(
    create(DeployTaskRequestSchema, {
      taskId: { org: "", project: PROJECT, domain: DOMAIN, name: TASK, version: "v1" },
      spec: pythonSpec(TASK, { defaults: [["greeting", stringLiteral("hello")]] }),
    }),
  );
}

export const triggerName = (name: string) => ({ org: "", project: PROJECT, domain: DOMAIN, taskName: TASK, name });

export async function deployTrigger(
  p: SchedulerProcess,
  name: string,
  schedule: ScheduleInit,
  spec: { inputs?: MessageInitShape<typeof InputsSchema>; runSpec?: MessageInitShape<typeof RunSpecSchema>; active?: boolean } = {},
): Promise<void> {
  await p.triggers.deployTrigger(
    create(DeployTriggerRequestSchema, {
      name: triggerName(name),
      spec: { active: spec.active ?? true, taskVersion: "v1", inputs: spec.inputs, runSpec: spec.runSpec },
      automationSpec: { type: TriggerAutomationSpecType.TYPE_SCHEDULE, automation: { case: "schedule", value: schedule } },
    }),
  );
}

export async function setActive(p: SchedulerProcess, name: string, active: boolean): Promise<void> {
  await p.triggers.updateTriggers(create(UpdateTriggersRequestSchema, { names: [triggerName(name)], active }));
}

export async function deleteTrigger(p: SchedulerProcess, name: string): Promise<void> {
  await p.triggers.deleteTriggers(create(DeleteTriggersRequestSchema, { names: [triggerName(name)] }));
}

export interface RunRow {
  run_name: string;
  run_source: string;
  trigger_name: string | null;
  trigger_task_name: string | null;
  trigger_revision: number | null;
}

/** Every run (root action), by name. */
export async function runs(handle: DatabaseHandle): Promise<RunRow[]> {
  const rows = await handle.db
    .selectFrom("actions")
    .select(["run_name", "run_source", "trigger_name", "trigger_task_name", "trigger_revision"])
    .where("parent_action_name", "is", null)
    .orderBy("run_name")
    .execute();
  return rows.map((r) => ({ ...r, trigger_revision: r.trigger_revision === null ? null : Number(r.trigger_revision) }));
}

export async function triggeredAt(handle: DatabaseHandle, name: string): Promise<string | null> {
  const row = await handle.db.selectFrom("triggers").select("triggered_at").where("name", "=", name).executeTakeFirstOrThrow();
  return row.triggered_at;
}
