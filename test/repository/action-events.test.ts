import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { ActionEventSchema, ErrorInfo_Kind } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import type { DatabaseHandle } from "../../src/repository/dialect/index.js";
import type { ActionKey, ActionRepo } from "../../src/repository/interfaces/action.js";
import { actionEventToRow, rowToActionEvent } from "../../src/repository/transformers/action-events.js";
import { testDialects } from "../support/databases.js";
import type { ManualClock } from "../support/manual-clock.js";
import { actionEvent, type RecordingBus, useActionRepo } from "./action-fixtures.js";

const A1: ActionKey = { project: "proj1", domain: "domain1", run: "run1", action: "action1" };
const A2: ActionKey = { ...A1, action: "action2" };

type EventInit = Omit<MessageInitShape<typeof ActionEventSchema>, "$typeName">;

describe.each(await testDialects())("action events on %s", (kind) => {
  let handle: DatabaseHandle;
  let clock: ManualClock;
  let bus: RecordingBus;
  let repo: ActionRepo;

  useActionRepo(kind, ["action_events"], (f) => ({ handle, clock, bus, repo } = f));

  const event = (key: ActionKey, attempt: number, version: number, phase: ActionPhase, extra: EventInit = {}) =>
    actionEventToRow(
      create(ActionEventSchema, {
        id: { run: { org: "org1", project: key.project, domain: key.domain, name: key.run }, name: key.action },
        attempt,
        version,
        phase,
        updatedTime: timestampFromMs(Date.UTC(2026, 0, 1)),
        ...extra,
      }),
      "2000-01-01T00:00:00.000000Z",
    );

  it("returns the latest event of an attempt by phase, then version", async () => {
    await repo.insertEvents([event(A1, 0, 0, ActionPhase.RUNNING), event(A1, 0, 1, ActionPhase.SUCCEEDED)]);
    const latest = await repo.getLatestEventByAttempt(A1, 0);
    expect(latest?.version).toBe(1);
    expect(latest?.phase).toBe(ActionPhase.SUCCEEDED);
  });

  it("prefers a higher phase over a higher version", async () => {
    await repo.insertEvents([event(A1, 0, 5, ActionPhase.RUNNING), event(A1, 0, 0, ActionPhase.SUCCEEDED)]);
    expect((await repo.getLatestEventByAttempt(A1, 0))?.phase).toBe(ActionPhase.SUCCEEDED);
  });

  it("returns undefined for an attempt without events", async () => {
    expect(await repo.getLatestEventByAttempt(A1, 99)).toBeUndefined();
  });

  it("keeps the latest event per attempt", async () => {
    await repo.insertEvents([
      event(A1, 0, 0, ActionPhase.RUNNING),
      event(A1, 1, 0, ActionPhase.RUNNING),
      event(A1, 1, 1, ActionPhase.SUCCEEDED),
    ]);
    const first = await repo.getLatestEventByAttempt(A1, 0);
    expect([first?.attempt, first?.version]).toEqual([0, 0]);
    const second = await repo.getLatestEventByAttempt(A1, 1);
    expect([second?.attempt, second?.version]).toEqual([1, 1]);
  });

  it("stores one batch for several actions and publishes each action once, after the insert", async () => {
    await repo.insertEvents([event(A1, 0, 0, ActionPhase.QUEUED), event(A2, 0, 0, ActionPhase.RUNNING), event(A1, 0, 1, ActionPhase.RUNNING)]);
    expect((await repo.getLatestEventByAttempt(A1, 0))?.name).toBe("action1");
    expect((await repo.getLatestEventByAttempt(A2, 0))?.name).toBe("action2");
    expect(bus.take()).toEqual([actionEvent("proj1", "domain1", "run1", "action1"), actionEvent("proj1", "domain1", "run1", "action2")]);
  });

  it("treats an empty batch as a no-op", async () => {
    await repo.insertEvents([]);
    expect(await repo.listEvents(A1, 500)).toEqual([]);
    expect(bus.take()).toEqual([]);
  });

  it("ignores an event whose key exists (first write wins), also within one batch", async () => {
    await repo.insertEvents([event(A1, 0, 0, ActionPhase.RUNNING, { cluster: "first" })]);
    await repo.insertEvents([
      event(A1, 0, 0, ActionPhase.RUNNING, { cluster: "second" }),
      event(A1, 0, 1, ActionPhase.RUNNING, { cluster: "third" }),
      event(A1, 0, 1, ActionPhase.RUNNING, { cluster: "fourth" }),
    ]);
    const rows = await repo.listEvents(A1, 500);
    expect(rows.map((r) => rowToActionEvent(r).cluster)).toEqual(["first", "third"]);
  });

  it("sets both timestamps to the insert time and keeps the error kind", async () => {
    clock.advance(250);
    await repo.insertEvents([
      event(A1, 0, 0, ActionPhase.FAILED, { errorInfo: { message: "oom", kind: ErrorInfo_Kind.SYSTEM } }),
      event(A1, 0, 1, ActionPhase.RUNNING),
    ]);
    const rows = await repo.listEvents(A1, 500);
    expect(rows.map((r) => [r.phase, r.error_kind])).toEqual([
      [ActionPhase.RUNNING, null],
      [ActionPhase.FAILED, "KIND_SYSTEM"],
    ]);
    expect(rows.every((r) => r.created_at === r.updated_at && r.created_at.startsWith("2026-01-01T00:00:00.25"))).toBe(true);
  });

  it("round-trips an event with its log context", async () => {
    await repo.insertEvents([
      event(A1, 0, 1, ActionPhase.RUNNING, {
        logContext: { primaryPodName: "my-pod", pods: [{ podName: "my-pod", namespace: "default" }] },
      }),
    ]);
    const stored = await repo.getLatestEventByAttempt(A1, 0);
    const decoded = rowToActionEvent(stored!);
    expect(decoded.logContext?.primaryPodName).toBe("my-pod");
    expect(decoded.logContext?.pods[0]?.namespace).toBe("default");
    expect(decoded.id?.run?.org).toBe("org1");
  });

  it("lists events by attempt, phase and version up to the limit", async () => {
    await repo.insertEvents([
      event(A1, 1, 0, ActionPhase.QUEUED),
      event(A1, 0, 2, ActionPhase.FAILED),
      event(A1, 0, 0, ActionPhase.RUNNING),
      event(A1, 0, 1, ActionPhase.RUNNING),
      event(A2, 0, 0, ActionPhase.RUNNING),
    ]);
    const order = (await repo.listEvents(A1, 500)).map((r) => [r.attempt, r.phase, r.version]);
    expect(order).toEqual([
      [0, ActionPhase.RUNNING, 0],
      [0, ActionPhase.RUNNING, 1],
      [0, ActionPhase.FAILED, 2],
      [1, ActionPhase.QUEUED, 0],
    ]);
    expect(await repo.listEvents(A1, 2)).toHaveLength(2);
  });

  it("reads new events of one attempt after a cursor without skipping any", async () => {
    const batch = [];
    for (let v = 0; v < 7; v++) batch.push(event(A1, 1, v, ActionPhase.RUNNING));
    batch.push(event(A1, 2, 0, ActionPhase.RUNNING));
    await repo.insertEvents(batch);
    // Two more events stored in the same microsecond as each other.
    await handle.db
      .updateTable("action_events")
      .set({ updated_at: "2026-01-01T00:00:09.000000Z" })
      .where("version", ">=", 5)
      .execute();

    const seen: number[] = [];
    let cursor;
    for (;;) {
      const page = await repo.listEventsAfter(A1, 1, cursor, 2);
      if (page.length === 0) break;
      seen.push(...page.map((r) => r.version));
      const last = page[page.length - 1];
      cursor = { updatedAt: last.updated_at, phase: last.phase, version: last.version };
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);

    clock.advance(10_000);
    await repo.insertEvents([event(A1, 1, 0, ActionPhase.SUCCEEDED)]);
    const fresh = await repo.listEventsAfter(A1, 1, cursor, 10);
    expect(fresh.map((r) => [r.phase, r.version])).toEqual([[ActionPhase.SUCCEEDED, 0]]);
  });
});
