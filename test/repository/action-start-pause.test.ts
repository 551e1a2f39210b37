// v2.0.43 repository behaviours of actions: PAUSED settles into a terminal phase, the real start time
// (ActionStatus.start_time) moves created_at back and drives the duration, and detailed_info writes notify.
// Ported from the reference's impl/action_test.go (PausedSettlesIntoTerminal, PausedDoesNotResume,
// StartTimeCorrectsDuration, NilStartTimeUsesCreatedAt, UpdateActionDetailedInfo_NotifiesWatchers).
import { describe, expect, it } from "vitest";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import type { DatabaseHandle } from "../../src/repository/dialect/index.js";
import { NotFoundError } from "../../src/repository/errors.js";
import type { ActionKey, ActionRepo } from "../../src/repository/interfaces/action.js";
import { earlierStart, phaseUpdateAllowed } from "../../src/repository/kysely/action.js";
import { fromEpochMicros, toEpochMicros } from "../../src/repository/timestamps.js";
import { testDialects } from "../support/databases.js";
import type { ManualClock } from "../support/manual-clock.js";
import { actionEvent, newActionRow, runEvent, type RecordingBus, useActionRepo } from "./action-fixtures.js";

const RUN = { project: "proj1", domain: "domain1", run: "run1" };
const key = (action: string): ActionKey => ({ ...RUN, action });
const shift = (ts: string, ms: number) => fromEpochMicros(toEpochMicros(ts) + BigInt(ms * 1000));

describe("phase guard and start (pure)", () => {
  it("lets PAUSED settle into every terminal phase, never back into a running one", () => {
    for (const terminal of [ActionPhase.SUCCEEDED, ActionPhase.FAILED, ActionPhase.ABORTED, ActionPhase.TIMED_OUT]) {
      expect(phaseUpdateAllowed(ActionPhase.PAUSED, terminal)).toBe(true);
    }
    for (const live of [ActionPhase.QUEUED, ActionPhase.WAITING_FOR_RESOURCES, ActionPhase.INITIALIZING, ActionPhase.RUNNING]) {
      expect(phaseUpdateAllowed(ActionPhase.PAUSED, live)).toBe(false);
    }
    expect(phaseUpdateAllowed(ActionPhase.RUNNING, ActionPhase.PAUSED)).toBe(true);
    expect(phaseUpdateAllowed(ActionPhase.SUCCEEDED, ActionPhase.RUNNING)).toBe(false);
  });

  it("keeps the earlier of the stored and the reported start", () => {
    const t = "2026-01-01T00:00:10.000000Z";
    expect(earlierStart(t, undefined)).toBe(t);
    expect(earlierStart(t, "2026-01-01T00:00:09.999999Z")).toBe("2026-01-01T00:00:09.999999Z");
    expect(earlierStart(t, "2026-01-01T00:00:10.000001Z")).toBe(t);
  });
});

describe.each(await testDialects())("action start time and PAUSED on %s", (kind) => {
  let handle: DatabaseHandle;
  let clock: ManualClock;
  let bus: RecordingBus;
  let repo: ActionRepo;

  useActionRepo(kind, ["pending_enqueues", "actions"], (f) => ({ handle, clock, bus, repo } = f));

  const create = (name: string, parent: string | null = "a0") =>
    repo.createAction(newActionRow(clock, { run_name: RUN.run, name, parent_action_name: parent }));

  it("a PAUSED action settles into SUCCEEDED, TIMED_OUT or ABORTED with its end stamped", async () => {
    for (const terminal of [ActionPhase.SUCCEEDED, ActionPhase.TIMED_OUT, ActionPhase.ABORTED]) {
      const name = `cond-${terminal}`;
      await create(name);
      expect(await repo.updateActionPhase(key(name), { phase: ActionPhase.PAUSED, attempts: 1, cacheStatus: 0 })).toBe(true);
      expect((await repo.getAction(key(name))).phase).toBe(ActionPhase.PAUSED);
      clock.advance(5000);
      bus.take();
      expect(await repo.updateActionPhase(key(name), { phase: terminal, attempts: 1, cacheStatus: 0, endTime: clock.now() })).toBe(true);
      const row = await repo.getAction(key(name));
      expect([row.phase, row.ended_at, row.duration_ms]).toEqual([terminal, clock.now(), 5000]);
      // Watchers hear that the condition settled.
      expect(bus.take()).toEqual([actionEvent(RUN.project, RUN.domain, RUN.run, name)]);
    }
  });

  it("a PAUSED action does not resume on a stale RUNNING update", async () => {
    await create("paused");
    await repo.updateActionPhase(key("paused"), { phase: ActionPhase.PAUSED, attempts: 1, cacheStatus: 0 });
    expect(await repo.updateActionPhase(key("paused"), { phase: ActionPhase.RUNNING, attempts: 1, cacheStatus: 0 })).toBe(false);
    expect((await repo.getAction(key("paused"))).phase).toBe(ActionPhase.PAUSED);
  });

  it("a start time reported with the end moves created_at back and the duration counts from it", async () => {
    const recorded = clock.now(); // recorded late, as when coalesced events reach the service only at the end
    await create("held");
    const start = shift(recorded, -120_000);
    expect(
      await repo.updateActionPhase(key("held"), { phase: ActionPhase.SUCCEEDED, attempts: 1, cacheStatus: 0, endTime: recorded, startTime: start }),
    ).toBe(true);
    const row = await repo.getAction(key("held"));
    expect([row.created_at, row.ended_at, row.duration_ms]).toEqual([start, recorded, 120_000]);
  });

  it("without a start time the duration counts from created_at", async () => {
    await create("quick");
    clock.advance(1500);
    await repo.updateActionPhase(key("quick"), { phase: ActionPhase.SUCCEEDED, attempts: 1, cacheStatus: 0, endTime: clock.now() });
    const row = await repo.getAction(key("quick"));
    expect([row.created_at, row.duration_ms]).toEqual(["2026-01-01T00:00:00.000000Z", 1500]);
  });

  it("a later start never moves created_at forward; an earlier one on a running update is kept for the end", async () => {
    const created = clock.now();
    await create("x");
    await repo.updateActionPhase(key("x"), { phase: ActionPhase.RUNNING, attempts: 1, cacheStatus: 0, startTime: shift(created, 3000) });
    expect((await repo.getAction(key("x"))).created_at).toBe(created);
    await repo.updateActionPhase(key("x"), { phase: ActionPhase.RUNNING, attempts: 1, cacheStatus: 0, startTime: shift(created, -2000) });
    expect((await repo.getAction(key("x"))).created_at).toBe(shift(created, -2000));
    clock.advance(1000);
    await repo.updateActionPhase(key("x"), { phase: ActionPhase.SUCCEEDED, attempts: 1, cacheStatus: 0, endTime: clock.now() });
    expect((await repo.getAction(key("x"))).duration_ms).toBe(3000);
  });

  it("a start reported after the end was stored recomputes the duration from the stored end", async () => {
    await create("late");
    clock.advance(1000);
    await repo.updateActionPhase(key("late"), { phase: ActionPhase.FAILED, attempts: 1, cacheStatus: 0, endTime: clock.now() });
    await repo.updateActionPhase(key("late"), { phase: ActionPhase.FAILED, attempts: 1, cacheStatus: 0, startTime: "2025-12-31T23:59:50.000000Z" });
    const row = await repo.getAction(key("late"));
    expect([row.ended_at, row.duration_ms]).toEqual(["2026-01-01T00:00:01.000000Z", 11_000]);
  });

  it("a refused transition leaves the start alone", async () => {
    const created = clock.now();
    await create("done");
    await repo.updateActionPhase(key("done"), { phase: ActionPhase.SUCCEEDED, attempts: 1, cacheStatus: 0, endTime: created });
    expect(await repo.updateActionPhase(key("done"), { phase: ActionPhase.RUNNING, attempts: 1, cacheStatus: 0, startTime: shift(created, -9000) })).toBe(false);
    expect((await repo.getAction(key("done"))).created_at).toBe(created);
  });

  it("the root's start moves the run's start and notifies run watchers", async () => {
    await create("a0", null);
    bus.take();
    await repo.updateActionPhase(key("a0"), { phase: ActionPhase.RUNNING, attempts: 1, cacheStatus: 0, startTime: "2025-12-31T23:00:00.000000Z" });
    expect((await repo.getRun(RUN)).created_at).toBe("2025-12-31T23:00:00.000000Z");
    expect(bus.take()).toEqual([actionEvent(RUN.project, RUN.domain, RUN.run, "a0"), runEvent(RUN.project, RUN.domain, RUN.run)]);
  });

  describe("keyset pages when created_at moves", () => {
    /** c1..c5 one second apart. */
    async function fiveActions(): Promise<string[]> {
      const times: string[] = [];
      for (let i = 1; i <= 5; i++) {
        times.push(clock.now());
        await create(`c${i}`);
        clock.advance(1000);
      }
      return times;
    }

    async function walk(direction: "asc" | "desc", limit: number, token = ""): Promise<string[]> {
      const names: string[] = [];
      do {
        const page = await repo.listActions(RUN, { limit, token, filters: [], sort: [{ column: "created_at", direction }] });
        names.push(...page.rows.map((r) => r.name));
        token = page.nextToken;
      } while (token !== "");
      return names;
    }

    it("a moved start is stored in the canonical form, so a tie with another action pages exactly once each way", async () => {
      const times = await fiveActions();
      // c5 really started exactly when c2 was created.
      await repo.updateActionPhase(key("c5"), { phase: ActionPhase.RUNNING, attempts: 1, cacheStatus: 0, startTime: times[1] });
      expect((await repo.getAction(key("c5"))).created_at).toBe(times[1]);
      expect(await walk("asc", 1)).toEqual(["c1", "c2", "c5", "c3", "c4"]);
      expect(await walk("desc", 1)).toEqual(["c4", "c3", "c2", "c5", "c1"]);
      expect(await walk("asc", 2)).toEqual(["c1", "c2", "c5", "c3", "c4"]);
    });

    it("a token issued before a move stays valid and every action that did not move is listed exactly once", async () => {
      await fiveActions();
      const first = await repo.listActions(RUN, { limit: 2, token: "", filters: [], sort: [{ column: "created_at", direction: "asc" }] });
      expect(first.rows.map((r) => r.name)).toEqual(["c1", "c2"]);
      // c4 moves behind the cursor, c3 stays ahead of it.
      await repo.updateActionPhase(key("c4"), { phase: ActionPhase.RUNNING, attempts: 1, cacheStatus: 0, startTime: "2025-12-31T00:00:00.000000Z" });
      const rest = await walk("asc", 2, first.nextToken);
      expect(rest).toEqual(["c3", "c5"]);
      // A new walk shows the moved action at its real start.
      expect(await walk("asc", 2)).toEqual(["c4", "c1", "c2", "c3", "c5"]);
    });
  });

  it("the default order breaks created_at ties by run and action name descending, on every page", async () => {
    for (const name of ["b", "a", "c"]) await create(name); // same microsecond, same phase
    const page = async (token: string) => repo.listActions(RUN, { limit: 1, token, filters: [], sort: [] });
    const names: string[] = [];
    let token = "";
    do {
      const p = await page(token);
      names.push(...p.rows.map((r) => r.name));
      token = p.nextToken;
    } while (token !== "");
    expect(names).toEqual(["c", "b", "a"]);
  });

  describe("updateActionDetailedInfo", () => {
    it("replaces detailed_info and notifies watchers of the action (and of the run for the root)", async () => {
      await create("a0", null);
      await create("cond");
      bus.take();
      clock.advance(1000);
      await repo.updateActionDetailedInfo(key("cond"), new Uint8Array([1, 2, 3]));
      const row = await repo.getAction(key("cond"));
      expect([Buffer.from(row.detailed_info!).toString("hex"), row.updated_at]).toEqual(["010203", clock.now()]);
      expect(bus.take()).toEqual([actionEvent(RUN.project, RUN.domain, RUN.run, "cond")]);
      await repo.updateActionDetailedInfo(key("a0"), new Uint8Array([4]));
      expect(bus.take()).toEqual([actionEvent(RUN.project, RUN.domain, RUN.run, "a0"), runEvent(RUN.project, RUN.domain, RUN.run)]);
    });

    it("is NotFound for a missing action and publishes nothing", async () => {
      await expect(repo.updateActionDetailedInfo(key("nope"), new Uint8Array([1]))).rejects.toBeInstanceOf(NotFoundError);
      expect(bus.take()).toEqual([]);
    });
  });
});
