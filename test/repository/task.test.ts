import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ListRequestSchema, Sort_Direction } from "#gen/flyteidl2/common/list_pb.js";
import { FixedRateUnit, TriggerAutomationSpecSchema } from "#gen/flyteidl2/task/common_pb.js";
import { TaskIdentifierSchema, TaskSpecSchema } from "#gen/flyteidl2/task/task_definition_pb.js";
import { TriggerSpecSchema } from "#gen/flyteidl2/trigger/trigger_definition_pb.js";
import type { DatabaseHandle } from "../../src/repository/dialect/index.js";
import { InvalidArgumentError, NotFoundError } from "../../src/repository/errors.js";
import type { TaskRepo, TaskSpecRepo } from "../../src/repository/interfaces/task.js";
import type { TriggerDraft } from "../../src/repository/interfaces/trigger.js";
import { createTaskRepo } from "../../src/repository/kysely/task.js";
import { createTaskSpecRepo } from "../../src/repository/kysely/task-spec.js";
import { TASK_COLUMNS, TASK_VERSION_COLUMNS, makeFilter, parseListRequest, type ListInput } from "../../src/repository/list/index.js";
import { rowToTaskDetails, taskDraft, triggersSummaryOf } from "../../src/repository/transformers/task.js";
import { storedToTaskSpec, taskSpecToStored } from "../../src/repository/transformers/task-spec.js";
import { triggerDraft } from "../../src/repository/transformers/trigger.js";
import { openMigratedDatabase, testDialects } from "../support/databases.js";
import { manualClock } from "../support/manual-clock.js";

const clock = manualClock();

function spec(env = "prod", extra: Record<string, unknown> = {}) {
  return create(TaskSpecSchema, {
    taskTemplate: { type: "python" },
    environment: { name: env, description: "env desc" },
    documentation: { shortDescription: "short" },
    ...extra,
  });
}

function draft(name: string, version: string, env = "prod", project = "p", domain = "d") {
  return taskDraft(create(TaskIdentifierSchema, { org: "o", project, domain, name, version }), spec(env));
}

function trigger(taskName: string, version: string, name: string, opts: { active?: boolean; cron?: string } = {}): TriggerDraft {
  return triggerDraft(
    { project: "p", domain: "d", taskName, name } as never,
    create(TriggerSpecSchema, { active: opts.active ?? true, taskVersion: version }),
    create(TriggerAutomationSpecSchema, {
      automation: { case: "schedule", value: { expression: { case: "cron", value: { expression: opts.cron ?? "0 * * * *" } } } },
    }),
  );
}

const req = (init: Parameters<typeof create<typeof ListRequestSchema>>[1] = {}, columns = TASK_COLUMNS): ListInput =>
  parseListRequest(create(ListRequestSchema, init), columns);

const projectScope = (project = "p", domain = "d") => [
  makeFilter(TASK_COLUMNS, "project", "eq", [project]),
  makeFilter(TASK_COLUMNS, "domain", "eq", [domain]),
];

describe.each(await testDialects())("task repository on %s", (kind) => {
  let handle: DatabaseHandle;
  let drop: () => Promise<void>;
  let repo: TaskRepo;
  let specs: TaskSpecRepo;

  beforeAll(async () => {
    ({ handle, drop } = await openMigratedDatabase(kind));
    repo = createTaskRepo(handle, clock);
    specs = createTaskSpecRepo(handle, clock);
  });
  afterAll(async () => drop?.());
  beforeEach(async () => {
    for (const t of ["tasks", "task_specs", "triggers", "trigger_revisions"] as const) await handle.db.deleteFrom(t).execute();
  });

  it("stores a task version: environment, function name, descriptions, spec; created_at = updated_at = now", async () => {
    await repo.deploy(draft("prod.my_function", "v1"), []);
    const row = await repo.get({ project: "p", domain: "d", name: "prod.my_function", version: "v1" });
    expect(row.environment).toBe("prod");
    expect(row.function_name).toBe("my_function");
    expect(row.deployed_by).toBe("");
    expect(row.env_description).toBe("env desc");
    expect(row.short_description).toBe("short");
    expect(row.created_at).toBe(clock.now());
    expect(row.updated_at).toBe(row.created_at);
    expect(row.total_triggers).toBe(0);
    const details = rowToTaskDetails(row);
    expect(details.spec?.taskTemplate?.type).toBe("python");
    expect(details.metadata?.shortName).toBe("my_function");
    expect(details.taskId?.org).toBe("");
  });

  it("answers NotFound for an unknown version", async () => {
    const error = await repo.get({ project: "p", domain: "d", name: "x", version: "v" }).catch((e) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toContain("not found");
  });

  it("keeps created_at on redeploy, advances updated_at and replaces the other columns", async () => {
    await repo.deploy(draft("prod.fn", "v1"), []);
    const first = await repo.get({ project: "p", domain: "d", name: "prod.fn", version: "v1" });
    clock.advance(1500);
    await repo.deploy(draft("prod.fn", "v1", "other"), []);
    const second = await repo.get({ project: "p", domain: "d", name: "prod.fn", version: "v1" });
    expect(second.created_at).toBe(first.created_at);
    expect(second.updated_at > first.updated_at).toBe(true);
    expect(second.environment).toBe("other");
    expect(second.function_name).toBe("fn");
  });

  it("lists the newest version of each task with totals", async () => {
    await repo.deploy(draft("a", "v1"), []);
    clock.advance(10);
    await repo.deploy(draft("b", "v1"), []);
    clock.advance(10);
    await repo.deploy(draft("a", "v2"), []);
    clock.advance(10);
    await repo.deploy(draft("c", "v1", "prod", "other"), []);

    const page = await repo.list(req({ limit: 10 }), projectScope());
    expect(page.rows.map((r) => `${r.name}@${r.version}`)).toEqual(["a@v2", "b@v1"]);
    expect(page.total).toBe(2);
    expect(page.filteredTotal).toBe(2);
    expect(page.nextToken).toBe("");

    const filtered = await repo.list(req({ filters: [{ field: "name", function: 0, values: ["b"] }] }), projectScope());
    expect(filtered.rows.map((r) => r.name)).toEqual(["b"]);
    expect(filtered.filteredTotal).toBe(1);
    expect(filtered.total).toBe(2);

    // Filters apply before picking the newest version: v1 of "a" matches here.
    const olderOnly = await repo.list(
      req({ filters: [{ field: "version", function: 0, values: ["v1"] }] }),
      projectScope(),
    );
    expect(olderOnly.rows.map((r) => `${r.name}@${r.version}`).sort()).toEqual(["a@v1", "b@v1"]);

    const everything = await repo.list(req({}), []);
    expect(everything.total).toBe(3);
  });

  it("pages through every task exactly once, in order, whatever the sort", async () => {
    const names = ["t1", "t2", "t3", "t4", "t5", "t6", "t7"];
    for (const n of names) {
      await repo.deploy(draft(n, "v1"), []);
      await repo.deploy(draft(n, "v2"), []); // same instant as v1 for some: newest is picked deterministically
      clock.advance(1);
    }
    for (const sort of [[], [{ key: "name", direction: Sort_Direction.ASCENDING }], [{ key: "created_at", direction: Sort_Direction.ASCENDING }]]) {
      const seen: string[] = [];
      let token = "";
      let pages = 0;
      do {
        const page = await repo.list(req({ limit: 3, token, sortByFields: sort }), projectScope());
        seen.push(...page.rows.map((r) => `${r.name}@${r.version}`));
        token = page.nextToken;
        expect(++pages).toBeLessThan(10);
      } while (token !== "");
      const all = (await repo.list(req({ limit: 50, sortByFields: sort }), projectScope())).rows.map((r) => `${r.name}@${r.version}`);
      expect(seen).toEqual(all);
      expect(new Set(seen).size).toBe(names.length);
      expect(seen.every((s) => s.endsWith("@v2"))).toBe(true);
    }
    const desc = (await repo.list(req({ limit: 50 }), projectScope())).rows.map((r) => r.name);
    expect(desc).toEqual([...names].reverse());
  });

  it("refuses a token issued by another list or for other filters", async () => {
    for (const n of ["a", "b", "c"]) await repo.deploy(draft(n, "v1"), []);
    const page = await repo.list(req({ limit: 1 }), projectScope());
    expect(page.nextToken).not.toBe("");
    await expect(repo.list(req({ limit: 1, token: page.nextToken }), projectScope("q"))).rejects.toBeInstanceOf(InvalidArgumentError);
    const versions = repo.listVersions({ project: "p", domain: "d", name: "a" }, req({ token: page.nextToken }, TASK_VERSION_COLUMNS));
    await expect(versions).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("lists versions newest first and pages through them", async () => {
    for (const v of ["v1", "v2", "v3", "v4", "v5"]) {
      await repo.deploy(draft("t", v), []);
      clock.advance(1);
    }
    await repo.deploy(draft("other", "v9"), []);
    const seen: string[] = [];
    let token = "";
    do {
      const page = await repo.listVersions({ project: "p", domain: "d", name: "t" }, req({ limit: 2, token }, TASK_VERSION_COLUMNS));
      seen.push(...page.rows.map((r) => r.version));
      token = page.nextToken;
    } while (token !== "");
    expect(seen).toEqual(["v5", "v4", "v3", "v2", "v1"]);
    const none = await repo.listVersions({ project: "p", domain: "d", name: "nope" }, req({}, TASK_VERSION_COLUMNS));
    expect(none.rows).toEqual([]);
  });

  it("deploys triggers with DEPLOY revisions and a summary; prunes the ones a redeploy leaves out", async () => {
    await repo.deploy(draft("t", "v1"), [trigger("t", "v1", "hourly"), trigger("t", "v1", "nightly", { active: false })]);
    let row = await repo.get({ project: "p", domain: "d", name: "t", version: "v1" });
    expect([row.total_triggers, row.active_triggers, row.trigger_name]).toEqual([2, 1, null]);
    const summary = triggersSummaryOf(row);
    expect(summary?.summary.case).toBe("stats");

    clock.advance(5);
    await repo.deploy(draft("t", "v2"), [trigger("t", "v2", "hourly", { cron: "@daily" })]);
    const v2 = await repo.get({ project: "p", domain: "d", name: "t", version: "v2" });
    expect([v2.total_triggers, v2.active_triggers, v2.trigger_name]).toEqual([1, 1, "hourly"]);
    const details = triggersSummaryOf(v2);
    expect(details?.summary.case).toBe("details");
    if (details?.summary.case === "details") {
      const s = details.summary.value.automationSpec?.automation;
      expect(s?.case === "schedule" && s.value.expression.case === "cron" && s.value.expression.value.expression).toBe("@daily");
    }
    // The old version no longer has live triggers attached.
    row = await repo.get({ project: "p", domain: "d", name: "t", version: "v1" });
    expect([row.total_triggers, row.active_triggers]).toEqual([0, 0]);

    const triggers = await handle.db.selectFrom("triggers").selectAll().orderBy("name").execute();
    expect(triggers.map((t) => [t.name, t.latest_revision, t.task_version, t.deleted_at === null])).toEqual([
      ["hourly", 2, "v2", true],
      ["nightly", 2, "v1", false],
    ]);
    const revisions = await handle.db.selectFrom("trigger_revisions").select(["name", "revision", "action"]).orderBy("name").orderBy("revision").execute();
    expect(revisions.map((r) => `${r.name}#${r.revision}:${r.action}`)).toEqual([
      "hourly#1:TRIGGER_REVISION_ACTION_DEPLOY",
      "hourly#2:TRIGGER_REVISION_ACTION_DEPLOY",
      "nightly#1:TRIGGER_REVISION_ACTION_DEPLOY",
      "nightly#2:TRIGGER_REVISION_ACTION_DELETE",
    ]);

    // No triggers in the request: existing triggers stay as they are.
    await repo.deploy(draft("t", "v3"), []);
    expect((await handle.db.selectFrom("triggers").select("name").where("deleted_at", "is", null).execute()).length).toBe(1);
  });

  it("stores the single trigger's automation spec byte for byte (any bytes survive)", async () => {
    const automation = create(TriggerAutomationSpecSchema, {
      automation: {
        case: "schedule",
        value: {
          expression: {
            case: "rate",
            value: { value: 200, unit: FixedRateUnit.MINUTE, startTime: { seconds: 1_700_000_000n, nanos: 5 } },
          },
          kickoffTimeInputArg: "ünïcødé\\",
        },
      },
    });
    const t = triggerDraft({ project: "p", domain: "d", taskName: "t", name: "rate" } as never, create(TriggerSpecSchema, { active: true, taskVersion: "v1" }), automation);
    await repo.deploy(draft("t", "v1"), [t]);
    const row = await repo.get({ project: "p", domain: "d", name: "t", version: "v1" });
    expect(Buffer.from(row.trigger_automation_spec!).equals(Buffer.from(t.automation_spec))).toBe(true);
    const summary = triggersSummaryOf(row);
    expect(summary?.summary.case).toBe("details");
    if (summary?.summary.case === "details") {
      const decoded = summary.summary.value.automationSpec!;
      expect(toBinary(TriggerAutomationSpecSchema, decoded)).toEqual(toBinary(TriggerAutomationSpecSchema, fromBinary(TriggerAutomationSpecSchema, t.automation_spec)));
    }
  });

  it("writes nothing when a step of the deploy fails", async () => {
    const broken = { ...trigger("t", "v1", "bad"), spec: null as unknown as Uint8Array };
    await expect(repo.deploy(draft("t", "v1"), [trigger("t", "v1", "good"), broken])).rejects.toThrow();
    expect(await handle.db.selectFrom("tasks").selectAll().execute()).toEqual([]);
    expect(await handle.db.selectFrom("triggers").selectAll().execute()).toEqual([]);
    expect(await handle.db.selectFrom("trigger_revisions").selectAll().execute()).toEqual([]);
  });

  it("stores task specs once under their digest", async () => {
    const stored = taskSpecToStored(spec("env", { shortName: "fn" }));
    await specs.put(stored.digest, stored.spec);
    await specs.put(stored.digest, new Uint8Array([1, 2, 3])); // same digest: first write wins
    const row = await specs.get(stored.digest);
    expect(row.digest).toBe(stored.digest);
    expect(storedToTaskSpec(row).shortName).toBe("fn");
    expect(storedToTaskSpec(row).environment?.name).toBe("env");
    await expect(specs.get("missing")).rejects.toBeInstanceOf(NotFoundError);
    expect(() => storedToTaskSpec({ spec: Buffer.from("invalid proto data") })).toThrow();
  });
});
