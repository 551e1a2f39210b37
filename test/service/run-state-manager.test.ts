// The WatchActions tree (runs/service/run_state_manager_test.go, by behaviour, plus the cases of PORT_MAP 8.3).
import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Filter_Function, FilterSchema, type Filter } from "#gen/flyteidl2/common/list_pb.js";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { ActionType, ActionSpecSchema } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { InvalidArgumentError } from "../../src/repository/errors.js";
import type { ActionRow } from "../../src/repository/schema/index.js";
import {
  displayName,
  MissingParentError,
  parseActionFilters,
  RunStateManager,
  type NodeUpdate,
} from "../../src/service/run-state/index.js";
import { actionRow } from "../repository/action-fixtures.js";

function at(sec: number): string {
  return new Date(Date.UTC(2026, 0, 1, 0, 0, sec)).toISOString().replace("Z", "000Z");
}

function action(name: string, parent: string | null, phase: number, createdSec: number, taskName = ""): ActionRow {
  const spec = taskName
    ? toBinary(ActionSpecSchema, create(ActionSpecSchema, { spec: { case: "task", value: { id: { name: taskName } } } }))
    : null;
  return actionRow({ name, parent_action_name: parent, phase, created_at: at(createdSec), action_spec: spec });
}

function filter(field: string, fn: Filter_Function, values: string[]): Filter {
  return create(FilterSchema, { field, function: fn, values });
}

function manager(filters: Filter[] = []): RunStateManager {
  return new RunStateManager(parseActionFilters(filters));
}

function shown(updates: NodeUpdate[]): Record<string, boolean> {
  return Object.fromEntries(updates.map((u) => [u.node.name, u.meetsFilter]));
}

function counts(m: RunStateManager, name: string): Record<number, number> {
  return Object.fromEntries(m.get(name)!.childPhaseCounts);
}

const RUNNING_ONLY = [filter("PHASE", Filter_Function.VALUE_IN, [String(ActionPhase.RUNNING)])];

describe("RunStateManager (reference cases)", () => {
  it("tracks child phase counts", () => {
    const m = manager();
    const updates = m.upsertActions([
      action("parent", null, ActionPhase.RUNNING, 1),
      action("child", "parent", ActionPhase.QUEUED, 2),
    ]);
    expect(updates).toHaveLength(2);
    expect(counts(m, "parent")).toEqual({ [ActionPhase.QUEUED]: 1 });

    m.upsertActions([action("child", "parent", ActionPhase.SUCCEEDED, 2)]);
    expect(counts(m, "parent")).toEqual({ [ActionPhase.QUEUED]: 0, [ActionPhase.SUCCEEDED]: 1 });
  });

  it("shows matches and their ancestors, hides both when the match goes away", () => {
    const m = manager(RUNNING_ONLY);
    const first = m.upsertActions([
      action("parent", null, ActionPhase.QUEUED, 1),
      action("child", "parent", ActionPhase.RUNNING, 2),
    ]);
    expect(shown(first)).toEqual({ parent: true, child: true });

    const second = m.upsertActions([action("child", "parent", ActionPhase.SUCCEEDED, 2)]);
    expect(shown(second)).toEqual({ parent: false, child: false });
  });

  it("filters by name, case-insensitively, on the task name's last segment", () => {
    const m = manager([filter("NAME", Filter_Function.CONTAINS_CASE_INSENSITIVE, ["important"])]);
    const updates = m.upsertActions([
      action("a", null, ActionPhase.QUEUED, 1, "pkg.important_task"),
      action("b", null, ActionPhase.QUEUED, 2, "pkg.other_task"),
    ]);
    expect(shown(updates)).toEqual({ a: true });
  });

  it("refuses a child whose parent is unknown and does not keep it", () => {
    const m = manager();
    expect(() => m.upsertActions([action("child", "parent", ActionPhase.QUEUED, 1)])).toThrow(/parent node \[parent\] not found/);
    expect(() => m.upsertActions([action("child", "parent", ActionPhase.QUEUED, 1)])).toThrow(MissingParentError);
    expect(m.get("child")).toBeUndefined();
    expect(m.size).toBe(0);
  });
});

describe("RunStateManager (tree semantics)", () => {
  it("counts phases over all descendants, never below zero, phase 0 not at all", () => {
    const m = manager();
    m.upsertActions([
      action("a0", null, ActionPhase.RUNNING, 1),
      action("b", "a0", ActionPhase.RUNNING, 2),
      action("c", "b", ActionPhase.QUEUED, 3),
      action("d", "b", ActionPhase.UNSPECIFIED, 4),
    ]);
    expect(counts(m, "a0")).toEqual({ [ActionPhase.RUNNING]: 1, [ActionPhase.QUEUED]: 1 });
    expect(counts(m, "b")).toEqual({ [ActionPhase.QUEUED]: 1 });
    expect(counts(m, "c")).toEqual({});

    m.upsertActions([action("c", "b", ActionPhase.FAILED, 3), action("d", "b", ActionPhase.QUEUED, 4)]);
    expect(counts(m, "a0")).toEqual({ [ActionPhase.RUNNING]: 1, [ActionPhase.QUEUED]: 1, [ActionPhase.FAILED]: 1 });
    expect(counts(m, "b")).toEqual({ [ActionPhase.QUEUED]: 1, [ActionPhase.FAILED]: 1 });
    // A retry moves the count back; the emptied FAILED entry stays with 0.
    m.upsertActions([action("c", "b", ActionPhase.QUEUED, 3)]);
    expect(counts(m, "b")).toEqual({ [ActionPhase.QUEUED]: 2, [ActionPhase.FAILED]: 0 });
  });

  it("without filters emits every changed node and its ancestors as shown, oldest first", () => {
    const m = manager();
    m.upsertActions([action("a0", null, 1, 1), action("b", "a0", 1, 2), action("c", "b", 1, 3), action("x", "a0", 1, 4)]);
    const updates = m.upsertActions([action("c", "b", ActionPhase.RUNNING, 3)]);
    expect(updates.map((u) => [u.node.name, u.meetsFilter])).toEqual([
      ["a0", true],
      ["b", true],
      ["c", true],
    ]);
  });

  it("an unchanged phase still reports the node and its ancestors", () => {
    const m = manager();
    m.upsertActions([action("a0", null, 1, 1), action("b", "a0", 1, 2)]);
    expect(shown(m.upsertActions([action("b", "a0", 1, 2)]))).toEqual({ a0: true, b: true });
  });

  it("prunes a three-level path when the deepest match goes away, and keeps ancestors another match needs", () => {
    const m = manager(RUNNING_ONLY);
    expect(
      shown(
        m.upsertActions([
          action("a0", null, ActionPhase.QUEUED, 1),
          action("b", "a0", ActionPhase.QUEUED, 2),
          action("c", "b", ActionPhase.RUNNING, 3),
          action("d", "a0", ActionPhase.RUNNING, 4),
        ]),
      ),
    ).toEqual({ a0: true, b: true, c: true, d: true });
    expect(m.get("a0")!.matchingDescendantCount).toBe(2);

    // c stops matching: c and b go, a0 stays for d.
    expect(shown(m.upsertActions([action("c", "b", ActionPhase.SUCCEEDED, 3)]))).toEqual({ c: false, b: false, a0: true });
    expect(m.isVisible("a0")).toBe(true);
    expect(m.isVisible("b")).toBe(false);

    // d stops matching: everything goes.
    expect(shown(m.upsertActions([action("d", "a0", ActionPhase.SUCCEEDED, 4)]))).toEqual({ d: false, a0: false });
    expect(m.isVisible("a0")).toBe(false);

    // Nodes that neither match nor were shown are not reported.
    expect(shown(m.upsertActions([action("b", "a0", ActionPhase.SUCCEEDED, 2)]))).toEqual({});

    // A new match deep down brings its whole path back.
    expect(shown(m.upsertActions([action("e", "c", ActionPhase.RUNNING, 5)]))).toEqual({ a0: true, b: true, c: true, e: true });
  });

  it("keeps a node shown that stops matching while a descendant still matches", () => {
    const m = manager(RUNNING_ONLY);
    m.upsertActions([action("a0", null, ActionPhase.RUNNING, 1), action("b", "a0", ActionPhase.RUNNING, 2)]);
    const updates = m.upsertActions([action("a0", null, ActionPhase.SUCCEEDED, 1)]);
    expect(shown(updates)).toEqual({ a0: true });
    expect(m.isDirectMatch("a0")).toBe(false);
    expect(m.isVisible("a0")).toBe(true);
  });

  it("combines phase and name filters (both must match)", () => {
    const m = manager([
      filter("PHASE", Filter_Function.VALUE_IN, ["4", "5"]),
      filter("NAME", Filter_Function.CONTAINS_CASE_INSENSITIVE, ["TRAIN"]),
    ]);
    const updates = m.upsertActions([
      action("a0", null, ActionPhase.RUNNING, 1, "wf.main"),
      action("t1", "a0", ActionPhase.RUNNING, 2, "wf.Train_model"),
      action("t2", "a0", ActionPhase.QUEUED, 3, "wf.train_more"),
      action("train-action", "a0", ActionPhase.SUCCEEDED, 4),
    ]);
    expect(shown(updates)).toEqual({ a0: true, t1: true, "train-action": true });
  });
});

describe("filters", () => {
  it("accepts PHASE/VALUE_IN and NAME/CONTAINS_CASE_INSENSITIVE", () => {
    const f = parseActionFilters([
      filter("PHASE", Filter_Function.VALUE_IN, ["1", "4"]),
      filter("NAME", Filter_Function.CONTAINS_CASE_INSENSITIVE, ["Foo", "ignored"]),
      filter("NAME", Filter_Function.CONTAINS_CASE_INSENSITIVE, []),
    ]);
    expect([...f.phases]).toEqual([1, 4]);
    expect(f.name).toBe("foo");
    expect(parseActionFilters([]).phases.size).toBe(0);
  });

  it("rejects other functions, other fields and non-integer phases (InvalidArgument)", () => {
    const bad = (f: Filter) => () => parseActionFilters([f]);
    expect(bad(filter("PHASE", Filter_Function.EQUAL, ["1"]))).toThrow(new InvalidArgumentError("function EQUAL is not supported for filter PHASE"));
    expect(bad(filter("NAME", Filter_Function.CONTAINS, ["x"]))).toThrow("function CONTAINS is not supported for filter NAME");
    expect(bad(filter("phase", Filter_Function.VALUE_IN, ["1"]))).toThrow("function VALUE_IN is not supported for filter phase");
    expect(bad(filter("PHASE", Filter_Function.VALUE_IN, ["1", "x"]))).toThrow("invalid phase value: x");
    expect(bad(filter("PHASE", Filter_Function.VALUE_IN, [" 1"]))).toThrow(InvalidArgumentError);
  });

  it("display name: last segment of the task id name, else of the spec's short name, else the action name", () => {
    const spec = (value: object) => toBinary(ActionSpecSchema, create(ActionSpecSchema, { spec: { case: "task", value } }));
    expect(displayName({ name: "a1", action_spec: spec({ id: { name: "pkg.mod.fn" } }) })).toBe("fn");
    expect(displayName({ name: "a1", action_spec: spec({ spec: { shortName: "short.name" } }) })).toBe("name");
    expect(displayName({ name: "a1", action_spec: null })).toBe("a1");
    expect(displayName({ name: "a1", action_spec: new Uint8Array([0xff, 0xff]) })).toBe("a1");
  });

  it("display name of a slim row (no action_spec): the same from the task columns", () => {
    // RecordAction / CreateRun store TaskAction.id.name in task_name, the spec's short name (else that name) in task_short_name.
    expect(displayName({ name: "a1", action_type: ActionType.TASK, task_name: "pkg.mod.fn", task_short_name: "fn" })).toBe("fn");
    expect(displayName({ name: "a1", action_type: ActionType.TASK, task_name: null, task_short_name: "short.name" })).toBe("name");
    expect(displayName({ name: "a1", action_type: ActionType.TASK, task_name: null, task_short_name: null })).toBe("a1");
    // A trace's task_name is its trace name, which the spec-based name never looked at.
    expect(displayName({ name: "t1", action_type: ActionType.TRACE, task_name: "pkg.trace", task_short_name: null })).toBe("t1");
  });
});
