import { create, equals, toBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { CatalogCacheStatus } from "#gen/flyteidl2/core/catalog_pb.js";
import {
  ActionMetadataSchema,
  ActionSpecSchema,
  ActionStatusSchema,
  ActionType,
  RunSource,
} from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { actionMetadataFromRow, actionRowToAction, runRowToRun } from "../../src/repository/transformers/action.js";
import { actionRow } from "./action-fixtures.js";

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const START = "2026-03-24T09:00:00.000000Z";
const END = "2026-03-24T09:01:00.000000Z";
const START_S = BigInt(Date.UTC(2026, 2, 24, 9) / 1000);

describe("runRowToRun", () => {
  it("uses the status of legacy JSON action_details when it has one", () => {
    // Go encoding/json of ActionDetails{Status: {SUCCEEDED, start, end, attempts 1, duration 60000}}.
    const details = json({
      status: { phase: 5, start_time: { seconds: Number(START_S) }, end_time: { seconds: Number(START_S) + 60 }, attempts: 1, duration_ms: 60000 },
    });
    const run = runRowToRun(
      actionRow({ run_name: "rname", phase: ActionPhase.SUCCEEDED, created_at: START, action_details: details, environment_name: "prod" }),
    );
    const action = run.action!;
    expect(action.id?.name).toBe("a0");
    expect(action.id?.run).toMatchObject({ org: "", project: "test-project", domain: "test-domain", name: "rname" });
    expect(equals(ActionMetadataSchema, action.metadata!, create(ActionMetadataSchema, { environmentName: "prod" }))).toBe(true);
    expect(
      equals(
        ActionStatusSchema,
        action.status!,
        create(ActionStatusSchema, {
          phase: ActionPhase.SUCCEEDED,
          startTime: { seconds: START_S },
          endTime: { seconds: START_S + 60n },
          attempts: 1,
          cacheStatus: CatalogCacheStatus.CACHE_DISABLED,
          durationMs: 60000n,
        }),
      ),
    ).toBe(true);
  });

  it("computes the duration from a legacy status without one, and ignores unusable JSON", () => {
    const details = json({ Status: { START_TIME: { seconds: Number(START_S) }, end_time: { seconds: Number(START_S) + 2, nanos: 500_000_000 } } });
    const status = runRowToRun(actionRow({ attempts: 4, action_details: details })).action!.status!;
    expect(status.durationMs).toBe(2500n);
    expect(status.attempts).toBe(0);

    for (const bad of ["{", "[]", '{"status": {"attempts": "one"}}', '{"status": null}', "{}"]) {
      const s = runRowToRun(actionRow({ attempts: 4, created_at: START, action_details: new TextEncoder().encode(bad) })).action!.status!;
      expect(s.attempts).toBe(4);
      expect(s.durationMs).toBeUndefined();
    }
  });

  it("uses the row's end time and duration when action_details has no status", () => {
    const status = runRowToRun(
      actionRow({ phase: ActionPhase.QUEUED, created_at: START, ended_at: END, duration_ms: 60000, environment_name: "staging" }),
    ).action!.status!;
    expect(
      equals(
        ActionStatusSchema,
        status,
        create(ActionStatusSchema, { phase: ActionPhase.QUEUED, startTime: { seconds: START_S }, endTime: { seconds: START_S + 60n }, durationMs: 60000n }),
      ),
    ).toBe(true);
  });

  it("describes a freshly created run: queued, started at created_at, one attempt, no end", () => {
    const run = runRowToRun(
      actionRow({ run_name: "rtest12345", created_at: "2026-03-24T09:00:00.123456Z", attempts: 1, action_details: json({}) }),
    );
    const status = run.action!.status!;
    expect(status.phase).toBe(ActionPhase.QUEUED);
    expect(status.startTime).toMatchObject({ seconds: START_S, nanos: 123_456_000 });
    expect(status.attempts).toBe(1);
    expect(status.cacheStatus).toBe(CatalogCacheStatus.CACHE_DISABLED);
    expect(status.endTime).toBeUndefined();
    expect(status.durationMs).toBeUndefined();
    expect(timestampDate(status.startTime!).toISOString()).toBe("2026-03-24T09:00:00.123Z");
  });

  it("keeps a zero duration but drops a negative one", () => {
    expect(runRowToRun(actionRow({ ended_at: START, created_at: START, duration_ms: 0 })).action!.status!.durationMs).toBe(0n);
    expect(runRowToRun(actionRow({ duration_ms: -5 })).action!.status!.durationMs).toBeUndefined();
  });
});

describe("actionMetadataFromRow", () => {
  it("fills task metadata, source, trigger, parent and group", () => {
    const metadata = actionMetadataFromRow(
      actionRow({
        action_type: ActionType.TASK,
        function_name: "my.module.fn",
        parent_action_name: "a0",
        action_group: "g",
        environment_name: "env",
        run_source: "RUN_SOURCE_SCHEDULE_TRIGGER",
        task_project: "tp",
        task_domain: "td",
        task_name: "my.module.fn",
        task_version: "v1",
        task_type: "python",
        task_short_name: "fn",
        trigger_name: "nightly",
        trigger_task_name: "my.module.fn",
        trigger_revision: 3,
      }),
    );
    expect(metadata.actionType).toBe(ActionType.TASK);
    expect(metadata.funtionName).toBe("my.module.fn");
    expect([metadata.parent, metadata.group, metadata.environmentName]).toEqual(["a0", "g", "env"]);
    expect(metadata.source).toBe(RunSource.SCHEDULE_TRIGGER);
    expect(metadata.triggerName).toBe("nightly");
    expect(metadata.triggerId?.revision).toBe(3n);
    expect(metadata.triggerId?.name).toMatchObject({ org: "", project: "test-project", domain: "test-domain", name: "nightly", taskName: "my.module.fn" });
    expect(metadata.spec.case).toBe("task");
    const task = metadata.spec.case === "task" ? metadata.spec.value : undefined;
    expect(task?.taskType).toBe("python");
    expect(task?.shortName).toBe("fn");
    expect(task?.id).toMatchObject({ org: "", project: "tp", domain: "td", name: "my.module.fn", version: "v1" });
  });

  it("leaves the task id out without a task name; traces carry the function name; unknown sources are UNSPECIFIED", () => {
    const task = actionMetadataFromRow(actionRow({ action_type: ActionType.TASK, task_type: "python", run_source: "RUN_SOURCE_NOPE" }));
    expect(task.spec.case === "task" && task.spec.value.id).toBeUndefined();
    expect(task.source).toBe(RunSource.UNSPECIFIED);
    expect(task.triggerId).toBeUndefined();

    const trace = actionMetadataFromRow(actionRow({ action_type: ActionType.TRACE, function_name: "tr", task_name: "tr" }));
    expect(trace.spec).toMatchObject({ case: "trace", value: { name: "tr" } });

    const other = actionMetadataFromRow(actionRow({ action_type: ActionType.UNSPECIFIED }));
    expect(other.spec.case).toBeUndefined();
  });

  it("conditions carry their name: the function-name column, else the name in the stored ConditionAction", () => {
    const named = actionMetadataFromRow(actionRow({ action_type: ActionType.CONDITION, function_name: "approve", task_name: "approve" }));
    expect(named.actionType).toBe(ActionType.CONDITION);
    expect(named.spec).toMatchObject({ case: "condition", value: { name: "approve" } });

    const spec = toBinary(ActionSpecSchema, create(ActionSpecSchema, { spec: { case: "condition", value: { name: "approve-item", prompt: "ok?" } } }));
    const fromSpec = actionMetadataFromRow(actionRow({ action_type: ActionType.CONDITION, function_name: "", action_spec: spec }));
    expect(fromSpec.spec).toMatchObject({ case: "condition", value: { name: "approve-item" } });

    const unreadable = actionMetadataFromRow(actionRow({ action_type: ActionType.CONDITION, function_name: "", action_spec: new Uint8Array([0xff]) }));
    expect(unreadable.spec).toMatchObject({ case: "condition", value: { name: "" } });
  });
});

describe("actionRowToAction", () => {
  it("carries only parent and group as metadata and a duration only when positive", () => {
    const row = actionRow({
      name: "n1",
      parent_action_name: "a0",
      action_group: "grp",
      action_type: ActionType.TASK,
      function_name: "fn",
      environment_name: "env",
      phase: ActionPhase.SUCCEEDED,
      attempts: 2,
      cache_status: CatalogCacheStatus.CACHE_HIT,
      created_at: START,
      ended_at: START,
      duration_ms: 0,
    });
    const action = actionRowToAction(row);
    expect(action.id?.name).toBe("n1");
    expect(action.id?.run?.org).toBe("");
    expect(equals(ActionMetadataSchema, action.metadata!, create(ActionMetadataSchema, { parent: "a0", group: "grp" }))).toBe(true);
    expect(action.status).toMatchObject({ phase: ActionPhase.SUCCEEDED, attempts: 2, cacheStatus: CatalogCacheStatus.CACHE_HIT });
    expect(action.status?.endTime).toBeDefined();
    expect(action.status?.durationMs).toBeUndefined();
    expect(actionRowToAction({ ...row, ended_at: END, duration_ms: 60000 }).status?.durationMs).toBe(60000n);
  });
});
