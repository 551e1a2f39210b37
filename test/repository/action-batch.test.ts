// The executor streams' batch writes and WatchActions' slim reads, on both databases: same effects and
// results as the single-item methods applied in order, one round of notifications after the commit.
import { describe, expect, it } from "vitest";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import type { DatabaseHandle } from "../../src/repository/dialect/index.js";
import type { ActionRepo } from "../../src/repository/interfaces/action.js";
import { testDialects } from "../support/databases.js";
import type { ManualClock } from "../support/manual-clock.js";
import { actionEvent, newActionRow, runEvent, type RecordingBus, useActionRepo } from "./action-fixtures.js";

const RUN = { project: "proj1", domain: "domain1", run: "run1" };
const key = (action: string, run = RUN.run) => ({ ...RUN, run, action });
const phase = (p: number, endTime?: string) => ({ phase: p, attempts: 1, cacheStatus: 0, endTime });

describe.each(await testDialects())("action batch writes on %s", (kind) => {
  let handle: DatabaseHandle;
  let clock: ManualClock;
  let bus: RecordingBus;
  let repo: ActionRepo;

  useActionRepo(kind, ["actions"], (f) => ({ handle, clock, bus, repo } = f));

  const row = (name: string, parent: string | null = "a0", run = RUN.run) => newActionRow(clock, { run_name: run, name, parent_action_name: parent });

  it("createActions inserts new rows, keeps existing ones and the first of a repeated key, then notifies", async () => {
    await repo.createAction(row("a0", null));
    await repo.createAction(row("b0"));
    bus.take();
    const many = Array.from({ length: 250 }, (_, i) => row(`c${i}`));
    const result = await repo.createActions([row("a0", null, "run2"), row("b0"), ...many, row("c0")]);
    expect(result).toEqual([true, false, ...many.map(() => true), false]);
    expect(await handle.db.selectFrom("actions").select("name").where("run_name", "=", "run1").execute()).toHaveLength(252);
    const events = bus.take();
    expect(events).toHaveLength(1 + 1 + 250);
    expect(events.slice(0, 2)).toEqual([actionEvent("proj1", "domain1", "run2", "a0"), runEvent("proj1", "domain1", "run2")]);
    expect(events.at(-1)).toEqual(actionEvent("proj1", "domain1", "run1", "c249"));
  });

  it("updateActionPhases moves a start back as updateActionPhase does, and measures the duration from it", async () => {
    await repo.createActions([row("a0", null), row("s1"), row("s2")]);
    await repo.updateActionPhase(key("s2"), phase(ActionPhase.SUCCEEDED, "2026-01-01T00:00:10.000000Z"));
    const result = await repo.updateActionPhases([
      { key: key("s1"), update: { ...phase(ActionPhase.RUNNING), startTime: "2025-12-31T23:59:00.000000Z" } },
      // a later "start" never moves it forward
      { key: key("s1"), update: { ...phase(ActionPhase.SUCCEEDED, "2026-01-01T00:00:30.000000Z"), startTime: "2026-01-01T00:00:20.000000Z" } },
      // an earlier start reported after the end corrects the stored duration
      { key: key("s2"), update: { ...phase(ActionPhase.SUCCEEDED), startTime: "2025-12-31T23:59:50.000000Z" } },
    ]);
    expect(result).toEqual([true, true, true]);
    const rows = await handle.db
      .selectFrom("actions")
      .select(["name", "created_at", "ended_at", "duration_ms"])
      .where("name", "in", ["s1", "s2"])
      .orderBy("name")
      .execute();
    const single = await repo.getAction(key("s1"));
    expect(rows.map((r) => [r.name, r.duration_ms])).toEqual([
      ["s1", 90_000],
      ["s2", 20_000],
    ]);
    expect(single.created_at).toBe("2025-12-31T23:59:00.000000Z");
  });

  it("updateActionPhases applies the phase guard item after item, keeps the first end time, notifies each change once", async () => {
    await repo.createActions([row("a0", null), row("c1"), row("c2"), row("c3")]);
    await repo.updateActionPhase(key("c3"), phase(ActionPhase.SUCCEEDED));
    bus.take();
    clock.advance(1000);
    const result = await repo.updateActionPhases([
      { key: key("c1"), update: phase(ActionPhase.RUNNING) },
      { key: key("c1"), update: phase(ActionPhase.FAILED, "2026-01-01T00:00:05.000000Z") },
      { key: key("c1"), update: phase(ActionPhase.RUNNING) }, // a retry: FAILED may go back
      { key: key("c1"), update: phase(ActionPhase.SUCCEEDED, "2026-01-01T00:00:09.000000Z") },
      { key: key("c2"), update: phase(ActionPhase.RUNNING) },
      { key: key("c2"), update: phase(ActionPhase.QUEUED) }, // refused: lower than RUNNING
      { key: key("c3"), update: phase(ActionPhase.RUNNING) }, // refused: lower than SUCCEEDED
      { key: key("missing"), update: phase(ActionPhase.RUNNING) },
      { key: key("a0"), update: phase(ActionPhase.RUNNING) },
    ]);
    expect(result).toEqual([true, true, true, true, true, false, false, false, true]);
    const c1 = await repo.getAction(key("c1"));
    expect([c1.phase, c1.ended_at, c1.duration_ms]).toEqual([ActionPhase.SUCCEEDED, "2026-01-01T00:00:05.000000Z", 5000]);
    expect((await repo.getAction(key("c2"))).phase).toBe(ActionPhase.RUNNING);
    expect((await repo.getAction(key("c3"))).phase).toBe(ActionPhase.SUCCEEDED);
    expect(bus.take()).toEqual([
      actionEvent("proj1", "domain1", "run1", "c1"),
      actionEvent("proj1", "domain1", "run1", "c2"),
      actionEvent("proj1", "domain1", "run1", "a0"),
      runEvent("proj1", "domain1", "run1"),
    ]);
  });

  it("listActionStates pages slim rows by (created_at, name); getActionStates reads many names at once", async () => {
    const rows = [row("a0", null)];
    for (let i = 0; i < 7; i++) {
      clock.advance(i % 2); // pairs of actions share a created_at
      rows.push(row(`c${i}`));
    }
    await repo.createActions(rows);
    const seen: string[] = [];
    let after;
    for (;;) {
      const page = await repo.listActionStates(RUN, after, 3);
      seen.push(...page.map((r) => r.name));
      expect(page.every((r) => !("action_spec" in r) && !("detailed_info" in r))).toBe(true);
      if (page.length < 3) break;
      after = { createdAt: page[2].created_at, name: page[2].name };
    }
    expect(seen).toEqual(["a0", "c0", "c1", "c2", "c3", "c4", "c5", "c6"]);
    const names = [...Array.from({ length: 600 }, (_, i) => `x${i}`), "c6", "c2", "c2"];
    const found = await repo.getActionStates(RUN, names);
    expect(found.map((r) => r.name).sort()).toEqual(["c2", "c6"]);
  });
});
