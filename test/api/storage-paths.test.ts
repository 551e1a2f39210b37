// Identifiers that become storage path segments (project, domain, run, action) are refused with
// InvalidArgument naming the field before anything is written; rows stored earlier stay readable.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { ProjectService } from "#gen/flyteidl2/project/project_service_pb.js";
import { InternalRunService } from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { systemClock } from "../../src/util/clock.js";
import { newActionRow } from "../repository/action-fixtures.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { testDialects } from "../support/databases.js";
import { startFakeActionsService, type FakeActionsService } from "./fake-actions-service.js";

const PROJECT = "flytesnacks";
const DOMAIN = "development";
const spec = { taskTemplate: { id: { project: PROJECT, domain: DOMAIN, name: "t", version: "v1" }, type: "python" } };

async function errorOf(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail");
}

describe.each(await testDialects())("identifiers in storage paths on %s", (kind) => {
  let t: TestApp;
  let actions: FakeActionsService;
  let storage: string;
  let runs: Client<typeof RunService>;

  beforeAll(async () => {
    storage = mkdtempSync(join(tmpdir(), "runs-paths-"));
    actions = await startFakeActionsService();
    t = await startTestApp(kind, (c) => {
      c.runs.actionsServiceUrl = actions.url;
      c.runs.storagePrefix = `file://${storage}/data`;
    });
    runs = createClient(RunService, t.transports["connect-h2"]);
  });
  afterAll(async () => {
    await t?.close();
    await actions?.close();
    rmSync(storage, { recursive: true, force: true });
  });

  const bad: [string, string][] = [
    ["../../x", "holds a path separator"],
    ["..", "relative path"],
    ["a..b", "relative path"],
    ["a\\b", "holds a path separator"],
    ["x\u0000y", "control character"],
    ["x\ny", "control character"],
    ["x\u007fy", "control character"],
  ];

  it.each(bad)("CreateRun refuses %j in each run_id field and in project_id, writing nothing", async (value, problem) => {
    for (const field of ["project", "domain", "name"] as const) {
      const runId = { project: PROJECT, domain: DOMAIN, name: "rok", [field]: value };
      const error = await errorOf(runs.createRun({ id: { case: "runId", value: runId }, task: { case: "taskSpec", value: spec } }));
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toContain(`run_id.${field}`);
      expect(error.rawMessage).toContain(problem);
    }
    for (const field of ["name", "domain"] as const) {
      const projectId = { name: PROJECT, domain: DOMAIN, [field]: value };
      const error = await errorOf(runs.createRun({ id: { case: "projectId", value: projectId }, task: { case: "taskSpec", value: spec } }));
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toContain(`project_id.${field}`);
    }
    // Over gRPC the same code (it used to be Internal).
    const grpc = createClient(RunService, t.transports.grpc);
    const error = await errorOf(grpc.createRun({ id: { case: "runId", value: { project: value, domain: DOMAIN, name: "r1" } }, task: { case: "taskSpec", value: spec } }));
    expect(error.code).toBe(Code.InvalidArgument);

    expect(readdirSync(storage)).toEqual([]);
    expect(actions.enqueued).toEqual([]);
    const listed = await runs.listRuns({ scopeBy: { case: "projectId", value: { name: PROJECT, domain: DOMAIN } }, request: { limit: 10 } });
    expect(listed.runs).toEqual([]);
  });

  it("RecordAction (unary and stream) and CreateProject refuse such names; ordinary names still work", async () => {
    const created = await runs.createRun({ id: { case: "runId", value: { project: PROJECT, domain: DOMAIN, name: "r-ok-1" } }, task: { case: "taskSpec", value: spec } });
    expect(created.run?.action?.id?.run?.name).toBe("r-ok-1");
    expect(readdirSync(join(storage, "data", PROJECT, DOMAIN))).toEqual(["r-ok-1"]);

    const internal = createClient(InternalRunService, t.transports.grpc);
    const record = (name: string) =>
      internal.recordAction({
        actionId: { run: { project: PROJECT, domain: DOMAIN, name: "r-ok-1" }, name },
        parent: "a0",
        spec: { case: "task", value: { id: { project: PROJECT, domain: DOMAIN, name: "t", version: "v1" }, spec } },
      });
    const refused = await record("../escape");
    expect(refused.status?.code).toBe(Code.InvalidArgument);
    expect(refused.status?.message).toContain("action_id.name");
    const replies = [];
    for await (const r of internal.recordActionStream(
      (async function* () {
        yield { request: { actionId: { run: { project: PROJECT, domain: DOMAIN, name: "r-ok-1" }, name: "a\u0000" }, parent: "a0", spec: { case: "task" as const, value: { spec } } } };
        yield { request: { actionId: { run: { project: PROJECT, domain: DOMAIN, name: "r-ok-1" }, name: "child-ok" }, parent: "a0", spec: { case: "task" as const, value: { spec } } } };
      })(),
    ))
      replies.push(r.response?.status?.code);
    expect(replies).toEqual([Code.InvalidArgument, 0]);
    const listed = await runs.listActions({ runId: { project: PROJECT, domain: DOMAIN, name: "r-ok-1" }, request: { limit: 10 } });
    expect(listed.actions.map((a) => a.id?.name).sort()).toEqual(["a0", "child-ok"]);

    const projects = createClient(ProjectService, t.transports["connect-h2"]);
    const error = await errorOf(projects.createProject({ project: { id: "team/a", name: "A" } }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toContain("project.id");
    expect((await errorOf(projects.getProject({ id: "team/a" }))).code).toBe(Code.NotFound);
  });

  it("reads rows stored before the check (e.g. by the Go service) as before", async () => {
    const clock = systemClock();
    await t.app.repository.actions.createAction(
      newActionRow(clock, { project: PROJECT, domain: DOMAIN, run_name: "old..run", name: "a0", phase: ActionPhase.RUNNING }),
    );
    const details = await runs.getRunDetails({ runId: { project: PROJECT, domain: DOMAIN, name: "old..run" } });
    expect(details.details?.action?.id?.run?.name).toBe("old..run");
    await runs.abortRun({ runId: { project: PROJECT, domain: DOMAIN, name: "old..run" } });
    expect((await t.app.repository.actions.getRun({ project: PROJECT, domain: DOMAIN, run: "old..run" })).phase).toBe(ActionPhase.ABORTED);
  });
});
