import { create, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { ActionEventSchema, ErrorInfo_Kind, type ActionEvent } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import type { ActionEventRow } from "../../src/repository/schema/index.js";
import {
  actionEventToRow,
  attemptsFromEvents,
  mergeEvents,
  rowToActionEvent,
} from "../../src/repository/transformers/action-events.js";
import { isTerminalPhase, phaseLabel } from "../../src/repository/transformers/phase.js";

const NOW = Date.UTC(2026, 0, 1, 12);
const at = (offsetMs: number): Timestamp => timestampFromMs(NOW + offsetMs);
const ev = (init: Omit<MessageInitShape<typeof ActionEventSchema>, "$typeName">): ActionEvent => create(ActionEventSchema, init);

describe("isTerminalPhase", () => {
  it("is true for SUCCEEDED, FAILED, ABORTED and TIMED_OUT only", () => {
    for (const p of [ActionPhase.FAILED, ActionPhase.SUCCEEDED, ActionPhase.TIMED_OUT, ActionPhase.ABORTED]) expect(isTerminalPhase(p)).toBe(true);
    for (const p of [ActionPhase.UNSPECIFIED, ActionPhase.QUEUED, ActionPhase.RUNNING, ActionPhase.WAITING_FOR_RESOURCES, ActionPhase.INITIALIZING, 9, 42]) {
      expect(isTerminalPhase(p)).toBe(false);
    }
    expect(phaseLabel(ActionPhase.TIMED_OUT)).toBe("TIMED_OUT");
    expect(phaseLabel(42)).toBe("42");
  });
});

describe("mergeEvents", () => {
  it("gives only the attempt number for no events", () => {
    const result = mergeEvents(0, []);
    expect(result.attempt).toBe(0);
    expect(result.phase).toBe(ActionPhase.UNSPECIFIED);
    expect(result.startTime).toBeUndefined();
  });

  it("reports a single running event without an end time", () => {
    const result = mergeEvents(0, [ev({ phase: ActionPhase.RUNNING, updatedTime: at(0) })]);
    expect(result.phase).toBe(ActionPhase.RUNNING);
    expect(result.startTime).toEqual(at(0));
    expect(result.endTime).toBeUndefined();
    expect(result.phaseTransitions.map((t) => [t.phase, t.startTime, t.endTime])).toEqual([[ActionPhase.RUNNING, at(0), undefined]]);
  });

  it("builds phase transitions up to the terminal phase and sets the end time", () => {
    const result = mergeEvents(1, [
      ev({ phase: ActionPhase.QUEUED, updatedTime: at(0) }),
      ev({ phase: ActionPhase.RUNNING, updatedTime: at(1000) }),
      ev({ phase: ActionPhase.RUNNING, version: 1, updatedTime: at(1500) }),
      ev({ phase: ActionPhase.SUCCEEDED, updatedTime: at(2000) }),
    ]);
    expect(result.attempt).toBe(1);
    expect(result.phase).toBe(ActionPhase.SUCCEEDED);
    expect(result.endTime).toEqual(at(2000));
    expect(result.phaseTransitions.map((t) => [t.phase, t.startTime, t.endTime])).toEqual([
      [ActionPhase.QUEUED, at(0), at(1000)],
      [ActionPhase.RUNNING, at(1000), at(2000)],
      [ActionPhase.SUCCEEDED, at(2000), at(2000)],
    ]);
  });

  it("orders events by reported time when both have one, else by updated time, without changing the input", () => {
    const input = [
      ev({ phase: ActionPhase.SUCCEEDED, updatedTime: at(0), reportedTime: at(2000) }),
      ev({ phase: ActionPhase.QUEUED, updatedTime: at(2000), reportedTime: at(0) }),
      ev({ phase: ActionPhase.RUNNING, updatedTime: at(1000), reportedTime: at(1000) }),
    ];
    const result = mergeEvents(1, input);
    expect(result.phase).toBe(ActionPhase.SUCCEEDED);
    expect(result.phaseTransitions.map((t) => t.phase)).toEqual([ActionPhase.QUEUED, ActionPhase.RUNNING, ActionPhase.SUCCEEDED]);
    // Transition times are the events' updated times, in reported order.
    expect(result.phaseTransitions[0].startTime).toEqual(at(2000));
    expect(result.phaseTransitions[1].startTime).toEqual(at(1000));
    expect(input.map((e) => e.phase)).toEqual([ActionPhase.SUCCEEDED, ActionPhase.QUEUED, ActionPhase.RUNNING]);
  });

  it("sorts by reported time in the reference scenario", () => {
    const result = mergeEvents(1, [
      ev({ phase: ActionPhase.QUEUED, updatedTime: at(0), reportedTime: at(0) }),
      ev({ phase: ActionPhase.RUNNING, updatedTime: at(1000), reportedTime: at(1000) }),
      ev({ phase: ActionPhase.SUCCEEDED, updatedTime: at(2000), reportedTime: at(2000) }),
    ]);
    expect(result.phaseTransitions.map((t) => [t.phase, t.startTime])).toEqual([
      [ActionPhase.QUEUED, at(0)],
      [ActionPhase.RUNNING, at(1000)],
      [ActionPhase.SUCCEEDED, at(2000)],
    ]);
  });

  it("takes the earliest terminal event even when later events follow", () => {
    const result = mergeEvents(0, [
      ev({ phase: ActionPhase.RUNNING, updatedTime: at(0), cluster: "c0" }),
      ev({ phase: ActionPhase.FAILED, updatedTime: at(1000), cluster: "c1", errorInfo: { message: "first" } }),
      ev({ phase: ActionPhase.ABORTED, updatedTime: at(2000), cluster: "c2" }),
      ev({ phase: ActionPhase.RUNNING, version: 1, updatedTime: at(3000), cluster: "c3" }),
    ]);
    expect(result.phase).toBe(ActionPhase.FAILED);
    expect(result.cluster).toBe("c1");
    expect(result.errorInfo?.message).toBe("first");
    expect(result.endTime).toEqual(at(1000));
    expect(result.phaseTransitions.map((t) => t.phase)).toEqual([ActionPhase.RUNNING, ActionPhase.FAILED]);
  });

  it("merges logs by name, newest first wins, sorted by name", () => {
    const result = mergeEvents(0, [
      ev({ phase: ActionPhase.RUNNING, updatedTime: at(0), logInfo: [{ name: "log-b", uri: "old-b" }, { name: "log-c", uri: "c" }] }),
      ev({ phase: ActionPhase.RUNNING, version: 1, updatedTime: at(1000), logInfo: [{ name: "log-b", uri: "new-b" }, { name: "log-a", uri: "a" }] }),
    ]);
    expect(result.logInfo.map((l) => [l.name, l.uri])).toEqual([
      ["log-a", "a"],
      ["log-b", "new-b"],
      ["log-c", "c"],
    ]);
  });

  it("sets the error of a failed attempt", () => {
    const result = mergeEvents(0, [
      ev({ phase: ActionPhase.RUNNING, updatedTime: at(0) }),
      ev({ phase: ActionPhase.FAILED, updatedTime: at(1000), errorInfo: { message: "out of memory", kind: ErrorInfo_Kind.SYSTEM } }),
    ]);
    expect(result.phase).toBe(ActionPhase.FAILED);
    expect(result.errorInfo?.message).toBe("out of memory");
  });

  it("concatenates cluster events in event order", () => {
    const result = mergeEvents(0, [
      ev({ phase: ActionPhase.RUNNING, version: 1, updatedTime: at(1000), clusterEvents: [{ message: "Pulling image" }] }),
      ev({ phase: ActionPhase.RUNNING, updatedTime: at(0), clusterEvents: [{ message: "Scheduled" }] }),
    ]);
    expect(result.clusterEvents.map((c) => c.message)).toEqual(["Scheduled", "Pulling image"]);
  });

  it("takes the newest log context and marks logs available", () => {
    const without = mergeEvents(0, [ev({ phase: ActionPhase.RUNNING, updatedTime: at(0) })]);
    expect(without.logsAvailable).toBe(false);
    const result = mergeEvents(0, [
      ev({ phase: ActionPhase.RUNNING, updatedTime: at(0), logContext: { primaryPodName: "old-pod" } }),
      ev({ phase: ActionPhase.RUNNING, version: 1, updatedTime: at(1000), logContext: { primaryPodName: "my-pod" } }),
      ev({ phase: ActionPhase.RUNNING, version: 2, updatedTime: at(2000) }),
    ]);
    expect(result.logsAvailable).toBe(true);
    expect(result.logContext?.primaryPodName).toBe("my-pod");
  });

  it("surfaces the newest report URI on the attempt outputs without modifying the events", () => {
    const running = ev({ phase: ActionPhase.RUNNING, updatedTime: at(0), outputs: { reportUri: "s3://reports/report.html" } });
    const done = ev({ phase: ActionPhase.SUCCEEDED, updatedTime: at(1000), outputs: { outputUri: "s3://out" } });
    const result = mergeEvents(0, [running, done]);
    expect(result.outputs?.reportUri).toBe("s3://reports/report.html");
    expect(result.outputs?.outputUri).toBe("s3://out");
    expect(done.outputs?.reportUri).toBe("");

    const noOutputs = mergeEvents(0, [ev({ phase: ActionPhase.SUCCEEDED, updatedTime: at(0) }), ev({ phase: ActionPhase.RUNNING, updatedTime: at(-1), outputs: { reportUri: "r" } })]);
    expect(noOutputs.outputs?.reportUri).toBe("r");
  });

  it("never ends before it starts", () => {
    const late = timestampFromMs(Date.UTC(2026, 0, 1, 0, 0, 10));
    const early = timestampFromMs(Date.UTC(2026, 0, 1));
    const result = mergeEvents(0, [
      ev({ phase: ActionPhase.RUNNING, updatedTime: late, reportedTime: early }),
      ev({ phase: ActionPhase.SUCCEEDED, updatedTime: early, reportedTime: late }),
    ]);
    expect(result.startTime).toEqual(late);
    expect(result.endTime).toEqual(late);
  });
});

describe("event rows", () => {
  const id = { run: { org: "o", project: "p", domain: "d", name: "r" }, name: "n1" };

  it("stores the key, the message and the error kind name", () => {
    const event = ev({ id, attempt: 2, phase: ActionPhase.FAILED, version: 3, errorInfo: { message: "boom", kind: ErrorInfo_Kind.USER } });
    const row = actionEventToRow(event, "2026-01-01T00:00:00.000001Z");
    expect(row).toMatchObject({
      project: "p",
      domain: "d",
      run_name: "r",
      name: "n1",
      attempt: 2,
      phase: ActionPhase.FAILED,
      version: 3,
      error_kind: "KIND_USER",
      created_at: "2026-01-01T00:00:00.000001Z",
      updated_at: "2026-01-01T00:00:00.000001Z",
    });
    expect(fromBinary(ActionEventSchema, row.info!).errorInfo?.message).toBe("boom");
    expect(actionEventToRow(ev({ id, errorInfo: {} }), "2026-01-01T00:00:00.000000Z").error_kind).toBe("KIND_UNSPECIFIED");
    expect(actionEventToRow(ev({ id }), "2026-01-01T00:00:00.000000Z").error_kind).toBeNull();
  });

  const stored = (event: ActionEvent): ActionEventRow =>
    actionEventToRow(event, "2026-01-01T00:00:00.000000Z") as ActionEventRow;

  it("groups stored events into attempts in ascending order", () => {
    const attempts = attemptsFromEvents([
      stored(ev({ id, attempt: 1, phase: ActionPhase.SUCCEEDED, version: 1, updatedTime: at(4000) })),
      stored(ev({ id, attempt: 0, phase: ActionPhase.RUNNING, updatedTime: at(0) })),
      stored(ev({ id, attempt: 1, phase: ActionPhase.RUNNING, updatedTime: at(3000) })),
      stored(ev({ id, attempt: 0, phase: ActionPhase.FAILED, version: 1, updatedTime: at(1000), errorInfo: { message: "timeout" } })),
    ]);
    expect(attempts.map((a) => [a.attempt, a.phase])).toEqual([
      [0, ActionPhase.FAILED],
      [1, ActionPhase.SUCCEEDED],
    ]);
    expect(attempts[0].errorInfo?.message).toBe("timeout");
    expect(attemptsFromEvents([])).toEqual([]);
  });

  it("rejects stored bytes that are not an ActionEvent with a clear error", () => {
    const row = { ...stored(ev({ id, attempt: 1, phase: 4 })), info: new Uint8Array([0xff, 0xff, 0xff]) };
    expect(() => rowToActionEvent(row)).toThrow(/action event p\/d\/r\/n1 attempt 1 phase 4 version 0: stored info does not decode/);
    expect(() => attemptsFromEvents([row])).toThrow(/does not decode/);
    expect(rowToActionEvent({ ...row, info: null }).phase).toBe(ActionPhase.UNSPECIFIED);
  });
});
