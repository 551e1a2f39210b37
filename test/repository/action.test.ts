import { describe, expect, it } from "vitest";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { CatalogCacheStatus } from "#gen/flyteidl2/core/catalog_pb.js";
import { ActionType } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import type { DatabaseHandle } from "../../src/repository/dialect/index.js";
import { NotFoundError } from "../../src/repository/errors.js";
import type { ActionRepo } from "../../src/repository/interfaces/action.js";
import { testDialects } from "../support/databases.js";
import type { ManualClock } from "../support/manual-clock.js";
import { actionEvent, keyOf, newActionRow, runEvent, type RecordingBus, useActionRepo } from "./action-fixtures.js";

const RUN = { project: "proj1", domain: "domain1", run: "run1" };
const A1 = { ...RUN, action: "action1" };

describe.each(await testDialects())("action repository on %s", (kind) => {
  let handle: DatabaseHandle;
  let clock: ManualClock;
  let bus: RecordingBus;
  let repo: ActionRepo;

  const pendingRows = () => handle.db.selectFrom("pending_enqueues").selectAll().orderBy("run_name").execute();

  useActionRepo(kind, ["pending_enqueues", "action_events", "actions", "triggers"], (f) => ({ handle, clock, bus, repo } = f));

  const createChild = (name: string, overrides = {}) =>
    repo.createAction(newActionRow(clock, { run_name: RUN.run, name, parent_action_name: "a0", ...overrides }));

  describe("createAction", () => {
    it("creates a run and returns the stored row; a duplicate returns the existing row unchanged", async () => {
      const first = await repo.createAction(newActionRow(clock, { run_name: "run1", name: "a0", function_name: "first" }));
      expect(first.inserted).toBe(true);
      expect(first.row).toMatchObject({ project: "proj1", domain: "domain1", run_name: "run1", name: "a0", phase: ActionPhase.QUEUED });
      expect(first.row.parent_action_name).toBeNull();
      expect(first.row.created_at).toBe("2026-01-01T00:00:00.000000Z");
      expect(Object.keys(first.row)).not.toContain("id");
      expect(Buffer.from(first.row.action_details!).toString()).toBe("{}");
      expect(bus.take()).toEqual([actionEvent("proj1", "domain1", "run1", "a0"), runEvent("proj1", "domain1", "run1")]);

      clock.advance(1000);
      const second = await repo.createAction(newActionRow(clock, { run_name: "run1", name: "a0", function_name: "second" }));
      expect(second.inserted).toBe(false);
      expect(second.row).toEqual(first.row);
      expect(bus.take()).toEqual([]);
      expect(await repo.getRun(RUN)).toEqual(first.row);
      expect(await repo.findRun(RUN)).toEqual(first.row);
    });

    it("a child action notifies action watchers only", async () => {
      const { row, inserted } = await createChild("action1", { action_group: "g1" });
      expect(inserted).toBe(true);
      expect(row.parent_action_name).toBe("a0");
      expect(row.action_group).toBe("g1");
      expect(bus.take()).toEqual([actionEvent("proj1", "domain1", "run1", "action1")]);
    });

    it("stores an end time given at insert (traces) with its duration, never before created_at", async () => {
      const trace = await createChild("t1", {
        action_type: ActionType.TRACE,
        phase: ActionPhase.SUCCEEDED,
        created_at: "2026-01-01T00:00:00.000000Z",
        ended_at: "2026-01-01T00:00:02.345600Z",
      });
      expect(trace.row.ended_at).toBe("2026-01-01T00:00:02.345600Z");
      expect(trace.row.duration_ms).toBe(2346);
      const inverted = await createChild("t2", {
        created_at: "2026-01-01T00:00:05.000000Z",
        ended_at: "2026-01-01T00:00:01.000000Z",
      });
      expect(inverted.row.ended_at).toBe("2026-01-01T00:00:05.000000Z");
      expect(inverted.row.duration_ms).toBe(0);
      const open = await createChild("t3", { duration_ms: 99 });
      expect(open.row.ended_at).toBeNull();
      expect(open.row.duration_ms).toBeNull();
    });

    it("marks the trigger as fired in the same transaction, only for a new row", async () => {
      await handle.db
        .insertInto("triggers")
        .values({
          project: "proj1",
          domain: "domain1",
          task_name: "my.task",
          name: "nightly",
          latest_revision: 1,
          spec: new Uint8Array([1]),
          automation_spec: null,
          task_version: "v1",
          active: handle.bool(true),
          automation_type: "TYPE_SCHEDULE",
          deployed_by: null,
          updated_by: null,
          deployed_at: "2025-12-31T00:00:00.000000Z",
          updated_at: "2025-12-31T00:00:00.000000Z",
          triggered_at: null,
          deleted_at: null,
          description: null,
        })
        .execute();
      const triggeredAt = async () =>
        (await handle.db.selectFrom("triggers").select("triggered_at").where("name", "=", "nightly").executeTakeFirstOrThrow()).triggered_at;
      const markTriggered = { project: "proj1", domain: "domain1", taskName: "my.task", name: "nightly" };
      const row = newActionRow(clock, {
        run_name: "sched1",
        name: "a0",
        run_source: "RUN_SOURCE_SCHEDULE_TRIGGER",
        trigger_name: "nightly",
        trigger_task_name: "my.task",
        trigger_revision: 1,
      });

      clock.advance(500);
      const pendingEnqueue = { request: new Uint8Array([7]), leaseUntil: "2026-01-01T00:01:00.000000Z" };
      await repo.createAction(row, { markTriggered, pendingEnqueue });
      expect(await triggeredAt()).toBe("2026-01-01T00:00:00.500000Z");
      expect((await pendingRows()).map((r) => [r.run_name, [...r.request]])).toEqual([["sched1", [7]]]);

      clock.advance(500);
      const again = await repo.createAction(row, { markTriggered });
      expect(again.inserted).toBe(false);
      expect(again.row.trigger_revision).toBe(1);
      expect(await triggeredAt()).toBe("2026-01-01T00:00:00.500000Z");
    });

    it("records the Enqueue request with a new action in the same statement, never for an existing one", async () => {
      const row = newActionRow(clock, { run_name: "run1", name: "a0" });
      const leaseUntil = "2026-01-01T00:01:00.000000Z";
      // A record left from an earlier attempt is replaced (new request, attempt 1, new lease).
      await handle.db
        .insertInto("pending_enqueues")
        .values({ project: "proj1", domain: "domain1", run_name: "run1", name: "a0", request: Buffer.from([9]), attempts: 5, next_attempt_at: "2025-12-31T00:00:00.000000Z", last_error: "old", created_at: "2025-12-31T00:00:00.000000Z", updated_at: "2025-12-31T00:00:00.000000Z" })
        .execute();
      clock.advance(250);
      const created = await repo.createAction(row, { pendingEnqueue: { request: new Uint8Array([1, 2, 3]), leaseUntil } });
      expect(created.inserted).toBe(true);
      const [record] = await pendingRows();
      expect({ ...record, request: [...record.request] }).toEqual({
        project: "proj1",
        domain: "domain1",
        run_name: "run1",
        name: "a0",
        request: [1, 2, 3],
        attempts: 1,
        next_attempt_at: leaseUntil,
        last_error: null,
        created_at: "2025-12-31T00:00:00.000000Z",
        updated_at: "2026-01-01T00:00:00.250000Z",
      });

      await handle.db.deleteFrom("pending_enqueues").execute();
      const again = await repo.createAction(row, { pendingEnqueue: { request: new Uint8Array([4]), leaseUntil } });
      expect(again.inserted).toBe(false);
      expect(await pendingRows()).toEqual([]);

      const other = await repo.createAction(newActionRow(clock, { run_name: "run2", name: "a0" }), { pendingEnqueue: { request: new Uint8Array([5]), leaseUntil } });
      expect(other.inserted).toBe(true);
      expect((await pendingRows()).map((r) => [r.run_name, [...r.request], r.attempts, r.created_at])).toEqual([["run2", [5], 1, "2026-01-01T00:00:00.250000Z"]]);
    });

    it("reports missing runs and actions as NotFoundError", async () => {
      await expect(repo.getRun(RUN)).rejects.toThrow(new NotFoundError("run not found: proj1/domain1/run1"));
      await expect(repo.getAction(A1)).rejects.toThrow(new NotFoundError("action not found: proj1/domain1/run1/action1"));
      await createChild("action1");
      await expect(repo.getRun(RUN)).rejects.toBeInstanceOf(NotFoundError);
      expect(await repo.findRun(RUN)).toBeUndefined(); // a child alone is not a run
      expect((await repo.getAction(A1)).name).toBe("action1");
    });
  });

  describe("updateActionPhase", () => {
    it("persists phase, attempts, cache status and the end time with its duration", async () => {
      await createChild("action1");
      clock.advance(1500.5);
      const end = clock.now();
      expect(await repo.updateActionPhase(A1, { phase: ActionPhase.SUCCEEDED, attempts: 3, cacheStatus: CatalogCacheStatus.CACHE_HIT, endTime: end })).toBe(true);
      const row = await repo.getAction(A1);
      expect(row.phase).toBe(ActionPhase.SUCCEEDED);
      expect(row.attempts).toBe(3);
      expect(row.cache_status).toBe(CatalogCacheStatus.CACHE_HIT);
      expect(row.ended_at).toBe(end);
      expect(row.duration_ms).toBe(1501);
      expect(row.updated_at).toBe(end);
    });

    it("allows a retry from FAILED back to QUEUED and keeps the first end time", async () => {
      await createChild("action1");
      clock.advance(1000);
      const firstEnd = clock.now();
      await repo.updateActionPhase(A1, { phase: ActionPhase.FAILED, attempts: 1, cacheStatus: 0, endTime: firstEnd });
      expect((await repo.getAction(A1)).phase).toBe(ActionPhase.FAILED);

      expect(await repo.updateActionPhase(A1, { phase: ActionPhase.QUEUED, attempts: 2, cacheStatus: 0 })).toBe(true);
      let row = await repo.getAction(A1);
      expect(row.phase).toBe(ActionPhase.QUEUED);
      expect(row.attempts).toBe(2);
      expect(row.ended_at).toBe(firstEnd);

      clock.advance(4000);
      await repo.updateActionPhase(A1, { phase: ActionPhase.SUCCEEDED, attempts: 2, cacheStatus: 0, endTime: clock.now() });
      row = await repo.getAction(A1);
      expect(row.phase).toBe(ActionPhase.SUCCEEDED);
      expect(row.ended_at).toBe(firstEnd);
      expect(row.duration_ms).toBe(1000);
    });

    it("allows a retry from TIMED_OUT", async () => {
      await createChild("action1");
      await repo.updateActionPhase(A1, { phase: ActionPhase.TIMED_OUT, attempts: 1, cacheStatus: 0, endTime: clock.now() });
      expect(await repo.updateActionPhase(A1, { phase: ActionPhase.RUNNING, attempts: 2, cacheStatus: 0 })).toBe(true);
      expect((await repo.getAction(A1)).phase).toBe(ActionPhase.RUNNING);
    });

    it("ignores a move from RUNNING back to QUEUED without error", async () => {
      await createChild("action1");
      await repo.updateActionPhase(A1, { phase: ActionPhase.RUNNING, attempts: 1, cacheStatus: 0 });
      expect(await repo.updateActionPhase(A1, { phase: ActionPhase.QUEUED, attempts: 1, cacheStatus: 0 })).toBe(false);
      expect((await repo.getAction(A1)).phase).toBe(ActionPhase.RUNNING);
    });

    it("ignores a move from SUCCEEDED back to QUEUED, but SUCCEEDED → FAILED is applied", async () => {
      await createChild("action1");
      await repo.updateActionPhase(A1, { phase: ActionPhase.SUCCEEDED, attempts: 1, cacheStatus: 0, endTime: clock.now() });
      expect(await repo.updateActionPhase(A1, { phase: ActionPhase.QUEUED, attempts: 2, cacheStatus: 0 })).toBe(false);
      let row = await repo.getAction(A1);
      expect(row.phase).toBe(ActionPhase.SUCCEEDED);
      expect(row.attempts).toBe(1);
      expect(await repo.updateActionPhase(A1, { phase: ActionPhase.FAILED, attempts: 1, cacheStatus: 0 })).toBe(true);
      row = await repo.getAction(A1);
      expect(row.phase).toBe(ActionPhase.FAILED);
    });

    it("moves an ABORTED action only to TIMED_OUT or PAUSED, and writes no event", async () => {
      await createChild("action1");
      await repo.updateActionPhase(A1, { phase: ActionPhase.ABORTED, attempts: 1, cacheStatus: 0, endTime: clock.now() });
      expect((await repo.getAction(A1)).phase).toBe(ActionPhase.ABORTED);
      expect(await repo.updateActionPhase(A1, { phase: ActionPhase.RUNNING, attempts: 1, cacheStatus: 0 })).toBe(false);
      expect(await repo.updateActionPhase(A1, { phase: ActionPhase.TIMED_OUT, attempts: 1, cacheStatus: 0 })).toBe(true);
      expect(await repo.listEvents(A1, 500)).toEqual([]);
    });

    it("publishes the action when a row changed and the run whenever the action is a0", async () => {
      await repo.createAction(newActionRow(clock, { run_name: "run1", name: "a0" }));
      await createChild("action1");
      bus.take();

      await repo.updateActionPhase(A1, { phase: ActionPhase.RUNNING, attempts: 1, cacheStatus: 0 });
      expect(bus.take()).toEqual([actionEvent("proj1", "domain1", "run1", "action1")]);
      await repo.updateActionPhase(A1, { phase: ActionPhase.QUEUED, attempts: 1, cacheStatus: 0 });
      expect(bus.take()).toEqual([]);

      const root = { ...RUN, action: "a0" };
      await repo.updateActionPhase(root, { phase: ActionPhase.RUNNING, attempts: 1, cacheStatus: 0 });
      expect(bus.take()).toEqual([actionEvent("proj1", "domain1", "run1", "a0"), runEvent("proj1", "domain1", "run1")]);
      await repo.updateActionPhase(root, { phase: ActionPhase.QUEUED, attempts: 1, cacheStatus: 0 });
      expect(bus.take()).toEqual([runEvent("proj1", "domain1", "run1")]);
    });

    it("changes nothing for an unknown action", async () => {
      expect(await repo.updateActionPhase(A1, { phase: ActionPhase.RUNNING, attempts: 1, cacheStatus: 0 })).toBe(false);
      expect(bus.take()).toEqual([]);
    });
  });

  describe("abort", () => {
    it("aborts a run's root: phase, reason, pending request, end time; publishes run and action", async () => {
      await repo.createAction(newActionRow(clock, { run_name: "run1", name: "a0" }));
      await createChild("action1");
      bus.take();
      clock.advance(2000);
      const { row, aborted } = await repo.abortRun(RUN, "User requested abort");
      expect(aborted).toBe(true);
      const now = clock.now();
      expect(row).toMatchObject({
        name: "a0",
        phase: ActionPhase.ABORTED,
        abort_reason: "User requested abort",
        abort_requested_at: now,
        abort_attempt_count: 0,
        updated_at: now,
        ended_at: now,
        duration_ms: 2000,
      });
      expect(await repo.getRun(RUN)).toEqual(row);
      expect((await repo.getAction(A1)).phase).toBe(ActionPhase.QUEUED);
      expect(bus.take()).toEqual([runEvent("proj1", "domain1", "run1"), actionEvent("proj1", "domain1", "run1", "a0")]);
    });

    it("keeps an end time set earlier and accepts an empty reason", async () => {
      await repo.createAction(newActionRow(clock, { run_name: "run1", name: "a0" }));
      clock.advance(100);
      const end = clock.now();
      // A failed attempt set ended_at; the retry moved it back to RUNNING.
      await repo.updateActionPhase({ ...RUN, action: "a0" }, { phase: ActionPhase.FAILED, attempts: 1, cacheStatus: 0, endTime: end });
      await repo.updateActionPhase({ ...RUN, action: "a0" }, { phase: ActionPhase.RUNNING, attempts: 2, cacheStatus: 0 });
      clock.advance(5000);
      const { row } = await repo.abortRun(RUN, "");
      expect(row.abort_reason).toBe("");
      expect(row.ended_at).toBe(end);
      expect(row.duration_ms).toBe(100);
    });

    it("leaves a finished run or action unchanged and says so (aborted: false)", async () => {
      await repo.createAction(newActionRow(clock, { run_name: "run1", name: "a0" }));
      await createChild("action1");
      await repo.updateActionPhase({ ...RUN, action: "a0" }, { phase: ActionPhase.SUCCEEDED, attempts: 1, cacheStatus: 0, endTime: clock.now() });
      await repo.updateActionPhase(A1, { phase: ActionPhase.FAILED, attempts: 1, cacheStatus: 0, endTime: clock.now() });
      const before = await repo.getRun(RUN);
      const childBefore = await repo.getAction(A1);
      bus.take();
      clock.advance(5000);

      expect(await repo.abortRun(RUN, "late")).toEqual({ row: before, aborted: false });
      expect(await repo.abortAction(A1, "late")).toEqual({ row: childBefore, aborted: false });

      expect(await repo.getRun(RUN)).toEqual(before);
      expect(await repo.getAction(A1)).toEqual(childBefore);
      expect(await repo.listPendingAborts()).toEqual([]);
      expect(bus.take()).toEqual([]);

      await createChild("action2");
      expect((await repo.abortAction({ ...RUN, action: "action2" }, "first")).aborted).toBe(true);
      expect((await repo.abortAction({ ...RUN, action: "action2" }, "second")).aborted).toBe(false);
      expect((await repo.getAction({ ...RUN, action: "action2" })).abort_reason).toBe("first");
    });

    it("aborts one action and publishes it; missing runs and actions are NotFoundError", async () => {
      await repo.createAction(newActionRow(clock, { run_name: "run1", name: "a0" }));
      await createChild("action1");
      bus.take();
      const { row } = await repo.abortAction(A1, "stop it");
      expect(row).toMatchObject({ name: "action1", phase: ActionPhase.ABORTED, abort_reason: "stop it", abort_attempt_count: 0 });
      expect((await repo.getRun(RUN)).phase).toBe(ActionPhase.QUEUED);
      expect(bus.take()).toEqual([actionEvent("proj1", "domain1", "run1", "action1")]);

      await expect(repo.abortRun({ ...RUN, run: "nope" }, "r")).rejects.toThrow(new NotFoundError("run not found: proj1/domain1/nope"));
      await expect(repo.abortAction({ ...RUN, action: "nope" }, "r")).rejects.toThrow(
        new NotFoundError("action not found: proj1/domain1/run1/nope"),
      );
      expect(bus.take()).toEqual([]);
    });

    it("aborting the root through abortAction also notifies run watchers", async () => {
      await repo.createAction(newActionRow(clock, { run_name: "run1", name: "a0" }));
      bus.take();
      await repo.abortAction({ ...RUN, action: "a0" }, "r");
      expect(bus.take()).toEqual([actionEvent("proj1", "domain1", "run1", "a0"), runEvent("proj1", "domain1", "run1")]);
    });

    it("tracks pending aborts for the reconciler until cleared", async () => {
      await repo.createAction(newActionRow(clock, { run_name: "run1", name: "a0" }));
      await repo.createAction(newActionRow(clock, { run_name: "run2", name: "a0" }));
      await createChild("action1");
      clock.advance(10);
      await repo.abortRun(RUN, "r1");
      clock.advance(10);
      await repo.abortAction(A1, "r2");
      bus.take();

      const pending = await repo.listPendingAborts();
      expect(pending.map((r) => [r.run_name, r.name, r.abort_reason])).toEqual([
        ["run1", "a0", "r1"],
        ["run1", "action1", "r2"],
      ]);

      clock.advance(10);
      expect(await repo.markAbortAttempt(A1)).toBe(1);
      expect(await repo.markAbortAttempt(A1)).toBe(2);
      const marked = await repo.getAction(A1);
      expect(marked.abort_attempt_count).toBe(2);
      expect(marked.updated_at).toBe(clock.now());
      await expect(repo.markAbortAttempt({ ...RUN, action: "gone" })).rejects.toBeInstanceOf(NotFoundError);

      await repo.clearAbortRequest(A1);
      const cleared = await repo.getAction(A1);
      expect(cleared.abort_requested_at).toBeNull();
      expect(cleared.abort_attempt_count).toBe(0);
      expect(cleared.phase).toBe(ActionPhase.ABORTED);
      expect((await repo.listPendingAborts()).map((r) => keyOf(r))).toEqual([{ ...RUN, action: "a0" }]);
      await repo.clearAbortRequest({ ...RUN, action: "gone" });
      expect(bus.take()).toEqual([]);
    });
  });
});
