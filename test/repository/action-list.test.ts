import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { Filter_Function, ListRequestSchema, Sort_Direction } from "#gen/flyteidl2/common/list_pb.js";
import type { DatabaseHandle } from "../../src/repository/dialect/index.js";
import { InvalidArgumentError } from "../../src/repository/errors.js";
import type { ActionRepo, RunKey, RunScope } from "../../src/repository/interfaces/action.js";
import type { PageRequest } from "../../src/repository/interfaces/common.js";
import { createActionRepo } from "../../src/repository/kysely/action.js";
import { ACTION_COLUMNS, parseListRequest } from "../../src/repository/list/index.js";
import type { ActionRow, NewActionRow } from "../../src/repository/schema/index.js";
import { openMigratedDatabase, testDialects } from "../support/databases.js";
import { manualClock, type ManualClock } from "../support/manual-clock.js";
import { newActionRow, recordingBus } from "./action-fixtures.js";

const request = (init: MessageInitShape<typeof ListRequestSchema> = {}): PageRequest =>
  parseListRequest(create(ListRequestSchema, init), ACTION_COLUMNS);
const asc = (key: string) => ({ key, direction: Sort_Direction.ASCENDING });
const desc = (key: string) => ({ key, direction: Sort_Direction.DESCENDING });
const ALL: RunScope = { kind: "all" };
const label = (r: ActionRow) => `${r.project}/${r.run_name}/${r.name}`;

describe.each(await testDialects())("listing runs and actions on %s", (kind) => {
  let handle: DatabaseHandle;
  let drop: () => Promise<void>;
  let clock: ManualClock;
  let repo: ActionRepo;

  beforeAll(async () => {
    ({ handle, drop } = await openMigratedDatabase(kind));
  });
  afterAll(async () => drop?.());
  beforeEach(async () => {
    await handle.db.deleteFrom("actions").execute();
    clock = manualClock("2026-01-01T00:00:00.000000Z");
    repo = createActionRepo(handle, clock, recordingBus());
  });

  const add = async (overrides: Partial<NewActionRow> & Pick<NewActionRow, "run_name" | "name">) => {
    clock.advance(1);
    return (await repo.createAction(newActionRow(clock, overrides))).row;
  };

  /** Follows next tokens to the end, returning every page. */
  async function walk<R extends { name: string }>(
    list: (req: PageRequest) => Promise<{ rows: R[]; nextToken: string }>,
    init: MessageInitShape<typeof ListRequestSchema>,
  ) {
    const pages: R[][] = [];
    let token = "";
    do {
      const page = await list(request({ ...init, token }));
      pages.push(page.rows);
      token = page.nextToken;
      expect(pages.length).toBeLessThan(100);
    } while (token !== "");
    return pages;
  }

  it("lists root actions only, pages with limit + tokens, and scopes by project", async () => {
    for (const run of ["run-1", "run-2", "run-3"]) {
      await add({ run_name: run, name: "a0" });
      await add({ run_name: run, name: "child", parent_action_name: "a0" });
    }
    const all = await repo.listRuns(ALL, request({ limit: 50 }));
    expect(all.rows.map((r) => r.run_name).sort()).toEqual(["run-1", "run-2", "run-3"]);
    expect(all.rows.every((r) => r.name === "a0")).toBe(true);
    expect(all.nextToken).toBe("");

    const page1 = await repo.listRuns(ALL, request({ limit: 2 }));
    expect(page1.rows).toHaveLength(2);
    expect(page1.nextToken).not.toBe("");
    const page2 = await repo.listRuns(ALL, request({ limit: 2, token: page1.nextToken }));
    expect(page2.rows).toHaveLength(1);
    expect(page2.nextToken).toBe("");

    await add({ project: "other-proj", run_name: "run-other", name: "a0" });
    const scoped = await repo.listRuns({ kind: "project", project: "proj1", domain: "domain1" }, request({ limit: 50 }));
    expect(scoped.rows).toHaveLength(3);
    expect(scoped.rows.every((r) => r.project === "proj1" && r.domain === "domain1")).toBe(true);
    expect((await repo.listRuns(ALL, request())).rows).toHaveLength(4);
  });

  it("orders by phase ascending, then newest first, by default", async () => {
    await add({ run_name: "old-running", name: "a0", phase: ActionPhase.RUNNING });
    await add({ run_name: "old-queued", name: "a0", phase: ActionPhase.QUEUED });
    await add({ run_name: "succeeded", name: "a0", phase: ActionPhase.SUCCEEDED });
    await add({ run_name: "new-queued", name: "a0", phase: ActionPhase.QUEUED });
    await add({ run_name: "new-running", name: "a0", phase: ActionPhase.RUNNING });
    const names = (await repo.listRuns(ALL, request())).rows.map((r) => r.run_name);
    expect(names).toEqual(["new-queued", "old-queued", "new-running", "old-running", "succeeded"]);
  });

  it("scopes runs by trigger, task name and task id; user filters are ANDed", async () => {
    const task = { task_project: "tp", task_domain: "td", task_name: "my.task" };
    await add({ run_name: "r1", name: "a0", ...task, task_version: "v1", trigger_name: "nightly", trigger_task_name: "my.task" });
    await add({ run_name: "r2", name: "a0", ...task, task_version: "v2", trigger_name: "hourly", trigger_task_name: "my.task" });
    await add({ run_name: "r3", name: "a0", ...task, task_version: "v1", phase: ActionPhase.SUCCEEDED });
    await add({ run_name: "r4", name: "a0", task_project: "tp", task_domain: "td", task_name: "other", task_version: "v1" });
    await add({ run_name: "r1", name: "c1", parent_action_name: "a0", ...task, task_version: "v1" });
    const runs = async (scope: RunScope, init: MessageInitShape<typeof ListRequestSchema> = {}) =>
      (await repo.listRuns(scope, request(init))).rows.map((r) => r.run_name).sort();

    expect(await runs({ kind: "trigger", project: "proj1", domain: "domain1", taskName: "my.task", triggerName: "nightly" })).toEqual(["r1"]);
    expect(await runs({ kind: "trigger", project: "proj1", domain: "other", taskName: "my.task", triggerName: "nightly" })).toEqual([]);
    expect(await runs({ kind: "taskName", project: "tp", domain: "td", taskName: "my.task" })).toEqual(["r1", "r2", "r3"]);
    expect(await runs({ kind: "taskId", project: "tp", domain: "td", taskName: "my.task", taskVersion: "v1" })).toEqual(["r1", "r3"]);
    expect(
      await runs(
        { kind: "taskName", project: "tp", domain: "td", taskName: "my.task" },
        { filters: [{ field: "phase", function: Filter_Function.EQUAL, values: [String(ActionPhase.SUCCEEDED)] }] },
      ),
    ).toEqual(["r3"]);
  });

  it("lists the actions of one run only", async () => {
    await add({ run_name: "run1", name: "a0" });
    await add({ run_name: "run1", name: "c1", parent_action_name: "a0" });
    await add({ run_name: "run1", name: "c2", parent_action_name: "c1" });
    await add({ run_name: "run2", name: "a0" });
    await add({ project: "p2", run_name: "run1", name: "a0" });
    const run: RunKey = { project: "proj1", domain: "domain1", run: "run1" };
    const page = await repo.listActions(run, request({ sortByFields: [asc("created_at")] }));
    expect(page.rows.map((r) => r.name)).toEqual(["a0", "c1", "c2"]);
    expect((await repo.listActions({ ...run, run: "missing" }, request())).rows).toEqual([]);
  });

  it("refuses a token of another list or order", async () => {
    await add({ run_name: "run1", name: "a0" });
    await add({ run_name: "run1", name: "c1", parent_action_name: "a0" });
    await add({ run_name: "run2", name: "a0" });
    const runsPage = await repo.listRuns(ALL, request({ limit: 1 }));
    const run: RunKey = { project: "proj1", domain: "domain1", run: "run1" };
    await expect(repo.listActions(run, request({ limit: 1, token: runsPage.nextToken }))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(repo.listRuns({ kind: "project", project: "proj1", domain: "domain1" }, request({ limit: 1, token: runsPage.nextToken }))).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(repo.listRuns(ALL, request({ limit: 1, token: runsPage.nextToken, sortByFields: [asc("created_at")] }))).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    const actionsPage = await repo.listActions(run, request({ limit: 1 }));
    const next = await repo.listActions(run, request({ limit: 1, token: actionsPage.nextToken }));
    expect(next.rows).toHaveLength(1);
    expect(next.rows[0].name).not.toBe(actionsPage.rows[0].name);
  });

  describe("keyset tokens (decision D5)", () => {
    const SORTS: Record<string, MessageInitShape<typeof ListRequestSchema>["sortByFields"]> = {
      default: [],
      "created_at ASC": [asc("created_at")],
      "created_at DESC": [desc("created_at")],
      "phase DESC": [desc("phase")],
      "ended_at ASC (nullable)": [asc("ended_at")],
      "duration_ms DESC (nullable)": [desc("duration_ms")],
      "function_name ASC, created_at DESC": [asc("function_name"), desc("created_at")],
      "trigger_name DESC, run_name ASC": [desc("trigger_name"), asc("run_name")],
    };

    /** 23 runs (plus children) where many share one created_at microsecond, phase and end time. */
    async function seed() {
      const shared = "2026-02-01T10:00:00.123456Z";
      const rows: NewActionRow[] = [];
      for (let i = 0; i < 23; i++) {
        const createdAt = i % 3 === 0 ? "2026-02-01T09:00:00.000001Z" : shared;
        const ended = i % 4 === 0 ? null : "2026-02-01T11:00:00.000000Z";
        rows.push(
          newActionRow(clock, {
            run_name: `run-${String(i).padStart(2, "0")}`,
            name: "a0",
            phase: [ActionPhase.QUEUED, ActionPhase.RUNNING, ActionPhase.SUCCEEDED][i % 3],
            function_name: `fn-${i % 2}`,
            trigger_name: i % 5 === 0 ? null : `t${i % 2}`,
            created_at: createdAt,
            updated_at: createdAt,
            ended_at: ended,
          }),
        );
        rows.push(newActionRow(clock, { run_name: `run-${String(i).padStart(2, "0")}`, name: "c1", parent_action_name: "a0", created_at: shared }));
      }
      for (const row of rows) await repo.createAction(row);
    }

    for (const [name, sortByFields] of Object.entries(SORTS)) {
      it(`walks ListRuns sorted by ${name}: every run exactly once, in the unpaged order`, async () => {
        await seed();
        const full = (await repo.listRuns(ALL, request({ sortByFields, limit: 200 }))).rows.map(label);
        expect(full).toHaveLength(23);
        for (const limit of [1, 4, 7]) {
          const pages = await walk((req) => repo.listRuns(ALL, req), { sortByFields, limit });
          expect(pages.flat().map(label)).toEqual(full);
          expect(pages.slice(0, -1).every((p) => p.length === limit)).toBe(true);
        }
      });
    }

    it("reads ListActions pages without the spec and detail blobs", async () => {
      const run: RunKey = { project: "proj1", domain: "domain1", run: "slim" };
      await repo.createAction(newActionRow(clock, { run_name: "slim", name: "a0", created_by_subject: "alice" }));
      const [row] = (await repo.listActions(run, request())).rows;
      expect(row).toMatchObject({ name: "a0", created_by_subject: "alice" });
      for (const blob of ["action_spec", "action_details", "detailed_info", "run_spec"]) expect(row).not.toHaveProperty(blob);
      const filtered = await repo.listActions(run, request({ filters: [{ field: "created_by_subject", function: Filter_Function.EQUAL, values: ["alice"] }] }));
      expect(filtered.rows.map((r) => r.name)).toEqual(["a0"]);
    });

    it("walks ListActions of one run where every action shares created_at", async () => {
      const run: RunKey = { project: "proj1", domain: "domain1", run: "big" };
      const at = "2026-02-01T10:00:00.000000Z";
      await repo.createAction(newActionRow(clock, { run_name: "big", name: "a0", created_at: at }));
      for (let i = 0; i < 30; i++) {
        await repo.createAction(
          newActionRow(clock, { run_name: "big", name: `n${i}`, parent_action_name: "a0", created_at: at, phase: 1 + (i % 4) }),
        );
      }
      for (const sortByFields of [[], [asc("created_at")], [desc("phase"), desc("created_at")]]) {
        const full = (await repo.listActions(run, request({ sortByFields, limit: 200 }))).rows.map((r) => r.name);
        expect(new Set(full).size).toBe(31);
        const pages = await walk((req) => repo.listActions(run, req), { sortByFields, limit: 6 });
        expect(pages.flat().map((r) => r.name)).toEqual(full);
      }
    });
  });
});
