// CreateRun's inserts (an action with its pending Enqueue record) are group-committed by createAction, on
// both databases: concurrent calls are all stored with their records and notified, a repeated key stores
// one row and answers the others with it, and an item the database refuses fails only its own caller.
import { describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../../src/repository/dialect/index.js";
import type { ActionRepo } from "../../src/repository/interfaces/action.js";
import type { NewActionRow } from "../../src/repository/schema/index.js";
import { testDialects } from "../support/databases.js";
import type { ManualClock } from "../support/manual-clock.js";
import { newActionRow, runEvent, type RecordingBus, useActionRepo } from "./action-fixtures.js";

describe.each(await testDialects())("createAction group commit on %s", (kind) => {
  let handle: DatabaseHandle;
  let clock: ManualClock;
  let bus: RecordingBus;
  let repo: ActionRepo;

  useActionRepo(kind, ["pending_enqueues", "actions"], (f) => ({ handle, clock, bus, repo } = f));

  const leaseUntil = "2026-01-01T00:01:00.000000Z";
  const create = (run: string, byte: number, overrides: Partial<NewActionRow> = {}) =>
    repo.createAction(newActionRow(clock, { run_name: run, name: "a0", ...overrides }), { pendingEnqueue: { request: new Uint8Array([byte]), leaseUntil } });
  const records = async () =>
    (await handle.db.selectFrom("pending_enqueues").select(["run_name", "request", "attempts"]).orderBy("run_name").execute()).map((r) => [
      r.run_name,
      [...r.request],
      r.attempts,
    ]);

  it("stores every concurrent run with its record, notifies each, and answers each with its own row", async () => {
    const names = Array.from({ length: 40 }, (_, i) => `r${String(i).padStart(2, "0")}`);
    const results = await Promise.all(names.map((n, i) => create(n, i)));
    expect(results.map((r) => [r.row.run_name, r.inserted])).toEqual(names.map((n) => [n, true]));
    expect(await records()).toEqual(names.map((n, i) => [n, [i], 1]));
    const stored = await handle.db.selectFrom("actions").select("run_name").orderBy("run_name").execute();
    expect(stored.map((r) => r.run_name)).toEqual(names);
    const events = bus.take().filter((e) => e.kind === "run");
    expect(events).toHaveLength(names.length);
    for (const n of names) expect(events).toContainEqual(runEvent("proj1", "domain1", n));
  });

  it("a repeated key in one group stores one run and one record; the others get the stored row", async () => {
    const existing = await create("old", 9, { function_name: "first" });
    bus.take();
    const results = await Promise.all([create("dup", 1, { function_name: "one" }), create("dup", 2, { function_name: "two" }), create("old", 3), create("new", 4)]);
    expect(results.map((r) => r.inserted)).toEqual([true, false, false, true]);
    expect(results[1]!.row).toEqual(results[0]!.row);
    expect(results[1]!.row.function_name).toBe("one");
    expect(results[2]!.row).toEqual(existing.row);
    expect(await records()).toEqual([
      ["dup", [1], 1],
      ["new", [4], 1],
      ["old", [9], 1],
    ]);
    expect(bus.take().filter((e) => e.kind === "run")).toEqual([runEvent("proj1", "domain1", "dup"), runEvent("proj1", "domain1", "new")]);
  });

  it("a row the database refuses fails only its own call; the rest of its group is stored", async () => {
    const bad = { phase: null as unknown as number };
    const results = await Promise.allSettled([create("ok1", 1), create("bad", 2, bad), create("ok2", 3)]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(await records()).toEqual([
      ["ok1", [1], 1],
      ["ok2", [3], 1],
    ]);
    const stored = await handle.db.selectFrom("actions").select("run_name").orderBy("run_name").execute();
    expect(stored.map((r) => r.run_name)).toEqual(["ok1", "ok2"]);
  });
});
