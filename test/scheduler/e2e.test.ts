/** The one real-time test: the whole service with the scheduler on, over HTTP, against an in-test executor. */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { EnqueueRequestSchema, type EnqueueRequest } from "#gen/flyteidl2/actions/actions_service_pb.js";
import { TriggerAutomationSpecType } from "#gen/flyteidl2/task/common_pb.js";
import { TaskService } from "#gen/flyteidl2/task/task_service_pb.js";
import { TriggerService } from "#gen/flyteidl2/trigger/trigger_service_pb.js";
import { RunSource } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import type { ActionsClient } from "../../src/service/actions-client.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { pythonSpec } from "../service/run-service-fixtures.js";

const PROJECT = "flytesnacks";
const DOMAIN = "development";
const TASK = "my_env.my_task";

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("trigger scheduler end to end (real time)", () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("fires an @every 1s trigger through CreateRun, retries the refused Enqueue, and stops with the app", async () => {
    const enqueued: EnqueueRequest[] = [];
    const executor: ActionsClient = {
      async enqueue(req) {
        enqueued.push(create(EnqueueRequestSchema, req));
        if (enqueued.length === 1) throw new ConnectError("executor busy", Code.Unavailable);
      },
      async abort() {},
    };
    t = await startTestApp(
      "sqlite",
      (c) => {
        c.runs.triggerScheduler = { enabled: true, resyncInterval: 200, maxCatchupRunsPerLoop: 100, executionQps: 10, executionBurst: 20 };
        c.runs.abortReconciler = { ...c.runs.abortReconciler, initialDelay: 20, maxDelay: 100 };
      },
      { actionsClient: executor },
    );
    expect(t.app.triggerScheduler).toBeDefined();
    const tasks = createClient(TaskService, t.transports["connect-h2"]);
    const triggers = createClient(TriggerService, t.transports["connect-h2"]);
    const runs = createClient(RunService, t.transports["connect-h2"]);
    const taskId = { org: "", project: PROJECT, domain: DOMAIN, name: TASK, version: "v1" };
    await tasks.deployTask({ taskId, spec: pythonSpec(TASK) });
    await triggers.deployTrigger({
      name: { org: "", project: PROJECT, domain: DOMAIN, taskName: TASK, name: "every-second" },
      spec: { active: true, taskVersion: "v1" },
      automationSpec: {
        type: TriggerAutomationSpecType.TYPE_SCHEDULE,
        automation: { case: "schedule", value: { expression: { case: "cron", value: { expression: "@every 1s", timezone: "" } }, kickoffTimeInputArg: "at" } },
      },
    });

    const run = await until("a scheduled run", async () => {
      const res = await runs.listRuns({ scopeBy: { case: "projectId", value: { organization: "", name: PROJECT, domain: DOMAIN } }, request: { limit: 10 } });
      return res.runs.find((r) => r.action?.metadata?.triggerName === "every-second");
    });
    expect(run.action?.id?.run?.name).toMatch(/^r[0-9a-f]{1,16}$/);
    const details = await runs.getRunDetails({ runId: run.action!.id!.run! });
    expect(details.details?.action?.metadata?.source).toBe(RunSource.SCHEDULE_TRIGGER);
    expect(details.details?.action?.metadata?.triggerId?.revision).toBe(1n);

    // The first Enqueue was refused; the retrier sends the same request again.
    const firstRun = enqueued[0].action?.actionId?.run?.name;
    const same = () => enqueued.filter((e) => e.action?.actionId?.run?.name === firstRun);
    await until("the retried Enqueue", async () => (same().length >= 2 ? true : undefined));
    expect(same()[1]).toEqual(enqueued[0]);

    await t.close();
    t = undefined;
  });
});
