import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ListRequestSchema, Sort_Direction } from "#gen/flyteidl2/common/list_pb.js";
import { TriggerAutomationSpecSchema, TriggerAutomationSpecType } from "#gen/flyteidl2/task/common_pb.js";
import { TaskIdentifierSchema, TaskSpecSchema } from "#gen/flyteidl2/task/task_definition_pb.js";
import { TriggerRevisionAction, TriggerSpecSchema } from "#gen/flyteidl2/trigger/trigger_definition_pb.js";
import type { DatabaseHandle } from "../../src/repository/dialect/index.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../../src/repository/errors.js";
import type { TaskRepo } from "../../src/repository/interfaces/task.js";
import type { TriggerKey, TriggerRepo } from "../../src/repository/interfaces/trigger.js";
import { createTaskRepo } from "../../src/repository/kysely/task.js";
import { createTriggerRepo } from "../../src/repository/kysely/trigger.js";
import { TRIGGER_COLUMNS, TRIGGER_REVISION_COLUMNS, makeFilter, parseListRequest } from "../../src/repository/list/index.js";
import { taskDraft } from "../../src/repository/transformers/task.js";
import {
  revisionToTriggerDetails,
  revisionToTriggerRevision,
  rowToTrigger,
  rowToTriggerDetails,
  triggerDraft,
} from "../../src/repository/transformers/trigger.js";
import { openMigratedDatabase, testDialects } from "../support/databases.js";
import { manualClock } from "../support/manual-clock.js";

const clock = manualClock();

const key = (name: string, taskName = "t"): TriggerKey => ({ project: "p", domain: "d", taskName, name });

function draft(name: string, opts: { active?: boolean; version?: string; taskName?: string; description?: string; cron?: string } = {}) {
  return triggerDraft(
    { project: "p", domain: "d", taskName: opts.taskName ?? "t", name } as never,
    create(TriggerSpecSchema, { active: opts.active ?? true, taskVersion: opts.version ?? "v1", description: opts.description ?? "" }),
    opts.cron === undefined
      ? undefined
      : create(TriggerAutomationSpecSchema, {
          type: TriggerAutomationSpecType.TYPE_NONE, // normalised to TYPE_SCHEDULE
          automation: { case: "schedule", value: { expression: { case: "cron", value: { expression: opts.cron } } } },
        }),
  );
}

describe.each(await testDialects())("trigger repository on %s", (kind) => {
  let handle: DatabaseHandle;
  let drop: () => Promise<void>;
  let repo: TriggerRepo;
  let tasks: TaskRepo;

  const revisions = async (name: string) =>
    (await repo.listRevisions(key(name), parseListRequest(undefined, TRIGGER_REVISION_COLUMNS))).rows;
  const taskRow = (version = "v1") => tasks.get({ project: "p", domain: "d", name: "t", version });

  beforeAll(async () => {
    ({ handle, drop } = await openMigratedDatabase(kind));
    repo = createTriggerRepo(handle, clock);
    tasks = createTaskRepo(handle, clock);
  });
  afterAll(async () => drop?.());
  beforeEach(async () => {
    for (const t of ["tasks", "triggers", "trigger_revisions"] as const) await handle.db.deleteFrom(t).execute();
    for (const v of ["v1", "v2"]) {
      await tasks.deploy(
        taskDraft(create(TaskIdentifierSchema, { project: "p", domain: "d", name: "t", version: v }), create(TaskSpecSchema, {})),
        [],
      );
    }
  });

  it("creates at revision 1 with a DEPLOY revision and normalised automation", async () => {
    const saved = await repo.save(draft("a", { cron: "0 * * * *", description: "hello" }), 0);
    expect(saved.latest_revision).toBe(1);
    expect(saved.deployed_at).toBe(clock.now());
    expect(saved.updated_at).toBe(clock.now());
    expect(saved.automation_type).toBe("TYPE_SCHEDULE");
    const details = rowToTriggerDetails(saved);
    expect(details.id?.revision).toBe(1n);
    expect(details.spec?.description).toBe("hello");
    expect(details.automationSpec?.type).toBe(TriggerAutomationSpecType.TYPE_SCHEDULE);
    const history = await revisions("a");
    expect(history.map((r) => [r.revision, r.action])).toEqual([[1, "TRIGGER_REVISION_ACTION_DEPLOY"]]);
    const none = await repo.save(draft("b"), 0);
    expect(none.automation_type).toBe("TYPE_NONE");
    expect(rowToTriggerDetails(none).automationSpec?.type).toBe(TriggerAutomationSpecType.TYPE_NONE);
  });

  it("redeploy bumps the revision and moves updated_at only when active changes", async () => {
    const first = await repo.save(draft("a"), 0);
    clock.advance(10);
    const same = await repo.save(draft("a", { version: "v2" }), 0);
    expect(same.latest_revision).toBe(2);
    expect(same.deployed_at > first.deployed_at).toBe(true);
    expect(same.updated_at).toBe(first.updated_at);
    expect(same.task_version).toBe("v2");
    clock.advance(10);
    const toggled = await repo.save(draft("a", { version: "v2", active: false }), 0);
    expect(toggled.latest_revision).toBe(3);
    expect(toggled.updated_at).toBe(clock.now());
    // The trigger moved from v1 to v2: both summaries follow.
    expect((await taskRow("v1")).total_triggers).toBe(0);
    expect([(await taskRow("v2")).total_triggers, (await taskRow("v2")).active_triggers]).toEqual([1, 0]);
  });

  it("applies the optimistic lock only to existing triggers", async () => {
    await repo.save(draft("a"), 0);
    await repo.save(draft("a"), 1); // stored revision is 1: accepted
    const error = await repo.save(draft("a", { active: false }), 1).catch((e) => e);
    expect(error).toBeInstanceOf(FailedPreconditionError);
    expect(error.message).toMatch(/optimistic lock failure/);
    const stored = await repo.get(key("a"));
    expect([stored.latest_revision, rowToTrigger(stored).active]).toEqual([2, true]);
    expect((await revisions("a")).length).toBe(2);
    // A new trigger ignores the expected revision.
    expect((await repo.save(draft("fresh"), 7)).latest_revision).toBe(1);
  });

  it("activates and deactivates only on a real change", async () => {
    await repo.save(draft("a", { active: true }), 0);
    await repo.save(draft("b", { active: true }), 0);
    clock.advance(1);
    expect(await repo.setActive([key("a"), key("missing")], false)).toBe(1);
    expect(await repo.setActive([key("a")], false)).toBe(0); // repeat: no-op
    const a = await repo.get(key("a"));
    expect([a.latest_revision, rowToTrigger(a).active, a.updated_at]).toEqual([2, false, clock.now()]);
    expect((await revisions("a")).map((r) => r.action)).toEqual([
      "TRIGGER_REVISION_ACTION_DEACTIVATE",
      "TRIGGER_REVISION_ACTION_DEPLOY",
    ]);
    expect([(await taskRow()).total_triggers, (await taskRow()).active_triggers]).toEqual([2, 1]);
    expect(await repo.setActive([key("a")], true)).toBe(1);
    expect(revisionToTriggerRevision((await revisions("a"))[0]).action).toBe(TriggerRevisionAction.ACTIVATE);
    expect((await taskRow()).active_triggers).toBe(2);
  });

  it("soft-deletes with a DELETE revision; redeploy brings the trigger back", async () => {
    await repo.save(draft("a"), 0);
    clock.advance(1);
    expect(await repo.delete([key("a"), key("a")])).toBe(1);
    await expect(repo.get(key("a"))).rejects.toBeInstanceOf(NotFoundError);
    const history = await revisions("a");
    expect(history.map((r) => r.action)).toEqual(["TRIGGER_REVISION_ACTION_DELETE", "TRIGGER_REVISION_ACTION_DEPLOY"]);
    expect(history[0].deleted_at).toBe(clock.now());
    const deleted = revisionToTriggerDetails(history[0]);
    expect(deleted.status?.deletedAt).toBeDefined();
    expect(deleted.spec?.active).toBe(false);
    expect(revisionToTriggerRevision(history[0]).createdAt).toEqual(deleted.status?.deletedAt);
    expect((await taskRow()).total_triggers).toBe(0);
    expect(await repo.delete([key("a")])).toBe(0);
    const back = await repo.save(draft("a"), 0);
    expect([back.latest_revision, back.deleted_at]).toEqual([3, null]);
    expect((await taskRow()).trigger_name).toBe("a");
  });

  it("reads one revision and finds a trigger without its task name", async () => {
    await repo.save(draft("a", { description: "one" }), 0);
    await repo.save(draft("a", { description: "two" }), 0);
    expect(revisionToTriggerDetails(await repo.getRevision(key("a"), 1)).id?.revision).toBe(1n);
    await expect(repo.getRevision(key("a"), 9)).rejects.toBeInstanceOf(NotFoundError);
    expect((await repo.get({ ...key("a"), taskName: "" })).task_name).toBe("t");
  });

  it("lists live triggers by scope, active first, and pages through them", async () => {
    for (let i = 0; i < 7; i++) {
      await repo.save(draft(`n${i}`, { active: i % 2 === 0, taskName: i < 5 ? "t" : "u" }), 0);
      clock.advance(1);
    }
    await repo.delete([key("n0")]);
    const scope = [makeFilter(TRIGGER_COLUMNS, "task_name", "eq", ["t"])];
    const all = await repo.list(parseListRequest(undefined, TRIGGER_COLUMNS), scope);
    expect(all.rows.map((r) => r.name)).toEqual(["n4", "n2", "n3", "n1"]);

    const sort = [{ key: "name", direction: Sort_Direction.ASCENDING }];
    const seen: string[] = [];
    let token = "";
    do {
      const page = await repo.list(parseListRequest(create(ListRequestSchema, { limit: 2, token, sortByFields: sort }), TRIGGER_COLUMNS), []);
      seen.push(...page.rows.map((r) => r.name));
      token = page.nextToken;
    } while (token !== "");
    expect(seen).toEqual(["n1", "n2", "n3", "n4", "n5", "n6"]);

    const active = await repo.list(
      parseListRequest(create(ListRequestSchema, { filters: [{ field: "active", function: 0, values: ["true"] }] }), TRIGGER_COLUMNS),
      [],
    );
    expect(active.rows.map((r) => r.name).sort()).toEqual(["n2", "n4", "n6"]);

    const first = await repo.list(parseListRequest(create(ListRequestSchema, { limit: 1 }), TRIGGER_COLUMNS), []);
    await expect(
      repo.listRevisions(key("n1"), parseListRequest(create(ListRequestSchema, { token: first.nextToken }), TRIGGER_REVISION_COLUMNS)),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("pages through revision history newest first", async () => {
    await repo.save(draft("a"), 0);
    for (let i = 0; i < 4; i++) await repo.setActive([key("a")], i % 2 === 1);
    const seen: number[] = [];
    let token = "";
    do {
      const page = await repo.listRevisions(key("a"), parseListRequest(create(ListRequestSchema, { limit: 2, token }), TRIGGER_REVISION_COLUMNS));
      seen.push(...page.rows.map((r) => r.revision));
      token = page.nextToken;
    } while (token !== "");
    expect(seen).toEqual([5, 4, 3, 2, 1]);
    expect((await revisions("unknown")).length).toBe(0);
  });
});
