import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it, vi } from "vitest";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { CatalogCacheStatus } from "#gen/flyteidl2/core/catalog_pb.js";
import { TaskSpecSchema, TraceSpecSchema } from "#gen/flyteidl2/task/task_definition_pb.js";
import { ActionEventSchema, ActionSpecSchema, ActionType, ErrorInfo_Kind } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { RunInfoSchema } from "#gen/flyteidl2/workflow/run_info_pb.js";
import type { ActionEventRow, ActionRow } from "../../src/repository/schema/index.js";
import { actionEventToRow } from "../../src/repository/transformers/action-events.js";
import { buildActionDetails, type SpecLoader } from "../../src/repository/transformers/action-details.js";
import { actionRow } from "./action-fixtures.js";

const runInfo = (digest: string) => toBinary(RunInfoSchema, create(RunInfoSchema, { taskSpecDigest: digest, inputsUri: "s3://bucket/inputs.pb" }));
const taskSpec = (type: string) => toBinary(TaskSpecSchema, create(TaskSpecSchema, { taskTemplate: { type } }));
const noSpecs: SpecLoader = async () => undefined;
const base = (overrides: Partial<ActionRow> = {}) => actionRow({ name: "action-1", parent_action_name: "a0", ...overrides });

const now = Date.UTC(2026, 0, 1, 12);
const stored = (attempt: number, phase: ActionPhase, version: number, offsetMs: number, message?: string): ActionEventRow =>
  actionEventToRow(
    create(ActionEventSchema, {
      id: { run: { project: "test-project", domain: "test-domain", name: "rtest12345" }, name: "action-1" },
      attempt,
      phase,
      version,
      updatedTime: timestampFromMs(now + offsetMs),
      errorInfo: message ? { message, kind: ErrorInfo_Kind.SYSTEM } : undefined,
    }),
    "2026-01-01T12:00:00.000000Z",
  ) as ActionEventRow;

describe("buildActionDetails", () => {
  it("describes an action without detailed info: status, metadata, no spec", async () => {
    const details = await buildActionDetails(base({ phase: ActionPhase.RUNNING, attempts: 1 }), [], noSpecs);
    expect(details.status?.phase).toBe(ActionPhase.RUNNING);
    expect(details.id).toMatchObject({ name: "action-1", run: { org: "", project: "test-project", name: "rtest12345" } });
    expect(details.metadata?.parent).toBe("a0");
    expect(details.spec.case).toBeUndefined();
    expect(details.result.case).toBeUndefined();
    expect(details.attempts).toEqual([]);
  });

  it("loads the task spec stored under the RunInfo digest", async () => {
    const loadSpec = vi.fn<SpecLoader>(async (digest) => (digest === "abc123" ? taskSpec("python") : undefined));
    const details = await buildActionDetails(
      base({ phase: ActionPhase.SUCCEEDED, action_type: ActionType.TASK, detailed_info: runInfo("abc123") }),
      [],
      loadSpec,
    );
    expect(loadSpec).toHaveBeenCalledWith("abc123");
    expect(details.spec.case).toBe("task");
    expect(details.spec.case === "task" && details.spec.value.taskTemplate?.type).toBe("python");
  });

  it("loads a trace spec for a TRACE action", async () => {
    const trace = toBinary(TraceSpecSchema, create(TraceSpecSchema, { interface: {} }));
    const details = await buildActionDetails(
      base({ phase: ActionPhase.SUCCEEDED, action_type: ActionType.TRACE, detailed_info: runInfo("trace-digest") }),
      [],
      async () => trace,
    );
    expect(details.spec.case).toBe("trace");
    expect(details.spec.case === "trace" && details.spec.value.interface).toBeDefined();
  });

  it("fails when the spec lookup fails", async () => {
    const row = base({ action_type: ActionType.TASK, detailed_info: runInfo("bad-digest") });
    await expect(buildActionDetails(row, [], async () => Promise.reject(new Error("not found")))).rejects.toThrow("not found");
  });

  it("falls back to the spec inside action_spec when none is stored (or the type is unspecified)", async () => {
    const actionSpec = toBinary(
      ActionSpecSchema,
      create(ActionSpecSchema, { spec: { case: "task", value: { spec: { taskTemplate: { type: "embedded" } } } } }),
    );
    for (const row of [
      base({ action_type: ActionType.TASK, action_spec: actionSpec }),
      base({ action_type: ActionType.TASK, action_spec: actionSpec, detailed_info: runInfo("missing") }),
      base({ action_type: ActionType.UNSPECIFIED, action_spec: actionSpec, detailed_info: runInfo("abc") }),
    ]) {
      const details = await buildActionDetails(row, [], async (d) => (d === "abc" ? taskSpec("stored") : undefined));
      expect(details.spec.case === "task" && details.spec.value.taskTemplate?.type).toBe("embedded");
    }
  });

  it("rejects unknown action types that have a digest; a condition has no spec to show", async () => {
    await expect(buildActionDetails(base({ action_type: 4, detailed_info: runInfo("x") }), [], noSpecs)).rejects.toThrow("unknown action type 4");
    const condition = await buildActionDetails(base({ action_type: ActionType.CONDITION, function_name: "approve", detailed_info: runInfo("x") }), [], noSpecs);
    expect([condition.spec.case, condition.metadata?.spec.case]).toEqual([undefined, "condition"]);
  });

  it("reports undecodable stored bytes with the action and column", async () => {
    const garbage = new Uint8Array([0xff, 0xff, 0xff]);
    await expect(buildActionDetails(base({ detailed_info: garbage }), [], noSpecs)).rejects.toThrow(
      "action test-project/test-domain/rtest12345/action-1: stored detailed_info does not decode",
    );
    await expect(buildActionDetails(base({ action_spec: garbage }), [], noSpecs)).rejects.toThrow("stored action_spec does not decode");
    await expect(
      buildActionDetails(base({ action_type: ActionType.TASK, detailed_info: runInfo("d") }), [], async () => garbage),
    ).rejects.toThrow("stored task spec d does not decode");
  });

  it("sets error_info for a FAILED action when the last attempt is the row's attempt", async () => {
    const failed = base({ phase: ActionPhase.FAILED, attempts: 1 });
    const details = await buildActionDetails(failed, [stored(1, ActionPhase.FAILED, 1, 0, "task failed with OOM")], noSpecs);
    expect(details.status?.phase).toBe(ActionPhase.FAILED);
    expect(details.result.case).toBe("errorInfo");
    expect(details.result.case === "errorInfo" && details.result.value.message).toBe("task failed with OOM");

    // Events lag behind the row: the stored attempts know only attempt 0.
    const lagging = await buildActionDetails(failed, [stored(0, ActionPhase.FAILED, 1, 0, "older")], noSpecs);
    expect(lagging.result.case).toBeUndefined();
  });

  it("sets abort_info for an ABORTED action", async () => {
    const withReason = await buildActionDetails(base({ phase: ActionPhase.ABORTED, abort_reason: "User requested abort" }), [], noSpecs);
    expect(withReason.result).toMatchObject({ case: "abortInfo", value: { reason: "User requested abort" } });
    const without = await buildActionDetails(base({ phase: ActionPhase.ABORTED }), [], noSpecs);
    expect(without.result).toMatchObject({ case: "abortInfo", value: { reason: "" } });
  });

  it("lists attempts in ascending order with their phases", async () => {
    const details = await buildActionDetails(
      base({ phase: ActionPhase.SUCCEEDED, attempts: 1 }),
      [
        stored(1, ActionPhase.SUCCEEDED, 1, 0),
        stored(0, ActionPhase.RUNNING, 0, -180_000),
        stored(1, ActionPhase.RUNNING, 0, -60_000),
        stored(0, ActionPhase.FAILED, 1, -120_000, "timeout"),
      ],
      noSpecs,
    );
    expect(details.attempts.map((a) => [a.attempt, a.phase])).toEqual([
      [0, ActionPhase.FAILED],
      [1, ActionPhase.SUCCEEDED],
    ]);
  });

  it("takes status from the row: cache status, end time, duration whenever set (0 included)", async () => {
    const details = await buildActionDetails(
      base({
        phase: ActionPhase.SUCCEEDED,
        cache_status: CatalogCacheStatus.CACHE_HIT,
        created_at: "2026-03-24T09:00:00.000000Z",
        ended_at: "2026-03-24T09:00:00.000000Z",
        duration_ms: 0,
      }),
      [],
      noSpecs,
    );
    expect(details.status?.cacheStatus).toBe(CatalogCacheStatus.CACHE_HIT);
    expect(details.status?.endTime).toEqual(details.status?.startTime);
    expect(details.status?.durationMs).toBe(0n);
    const open = await buildActionDetails(base(), [], noSpecs);
    expect(open.status?.endTime).toBeUndefined();
    expect(open.status?.durationMs).toBeUndefined();
  });
});
