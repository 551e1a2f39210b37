/** Rows, a recording bus and the suite hooks for the action repository and transformer tests. */
import { afterAll, beforeAll, beforeEach } from "vitest";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { ActionType } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { createInProcessBus, type ChangeEvent, type EventBus } from "../../src/events/bus.js";
import type { ActionRow, Database, NewActionRow } from "../../src/repository/schema/index.js";
import type { DatabaseHandle } from "../../src/repository/dialect/index.js";
import type { ActionKey, ActionRepo } from "../../src/repository/interfaces/action.js";
import { createActionRepo } from "../../src/repository/kysely/action.js";
import { openMigratedDatabase, type DialectName } from "../support/databases.js";
import { manualClock, type ManualClock } from "../support/manual-clock.js";
import type { Clock } from "../../src/util/clock.js";

export const T0 = "2026-03-24T09:00:00.000000Z";

/** A complete stored row (for pure transformer tests). */
export function actionRow(overrides: Partial<ActionRow> = {}): ActionRow {
  return {
    project: "test-project",
    domain: "test-domain",
    run_name: "rtest12345",
    name: "a0",
    parent_action_name: null,
    phase: ActionPhase.QUEUED,
    run_source: "",
    action_type: ActionType.UNSPECIFIED,
    action_group: null,
    task_project: null,
    task_domain: null,
    task_name: null,
    task_version: null,
    task_type: "",
    task_short_name: null,
    function_name: "",
    environment_name: null,
    action_spec: null,
    action_details: null,
    detailed_info: null,
    run_spec: null,
    abort_requested_at: null,
    abort_attempt_count: 0,
    abort_reason: null,
    created_at: T0,
    updated_at: T0,
    ended_at: null,
    duration_ms: null,
    attempts: 0,
    cache_status: 0,
    trigger_name: null,
    trigger_task_name: null,
    trigger_revision: null,
    created_by: null,
    created_by_subject: null,
    ...overrides,
  };
}

/** A row to insert: a queued TASK action of run `run_name` created now. */
export function newActionRow(
  clock: Clock,
  overrides: Partial<NewActionRow> & Pick<NewActionRow, "run_name" | "name">,
): NewActionRow {
  const now = clock.now();
  return {
    project: "proj1",
    domain: "domain1",
    parent_action_name: null,
    phase: ActionPhase.QUEUED,
    run_source: "",
    action_type: ActionType.TASK,
    task_type: "",
    function_name: "",
    abort_attempt_count: 0,
    attempts: 1,
    cache_status: 0,
    action_details: new TextEncoder().encode("{}"),
    created_at: now,
    updated_at: now,
    ...overrides,
  };
}

export function keyOf(row: { project: string; domain: string; run_name: string; name: string }): ActionKey {
  return { project: row.project, domain: row.domain, run: row.run_name, action: row.name };
}

export interface RecordingBus extends EventBus {
  /** Everything published since the last take(), in order. */
  take(): ChangeEvent[];
}

/** An in-process bus with one listener that records every event. */
export function recordingBus(): RecordingBus {
  const bus = createInProcessBus();
  let seen: ChangeEvent[] = [];
  bus.subscribe((e) => seen.push(e));
  return {
    ...bus,
    take() {
      const out = seen;
      seen = [];
      return out;
    },
  };
}

export const runEvent = (project: string, domain: string, run: string): ChangeEvent => ({ kind: "run", project, domain, run });
export const actionEvent = (project: string, domain: string, run: string, action: string): ChangeEvent => ({
  kind: "action",
  project,
  domain,
  run,
  action,
});

/** What an action-repository suite works with, fresh before each test (see useActionRepo). */
export interface ActionRepoFixture {
  handle: DatabaseHandle;
  clock: ManualClock;
  bus: RecordingBus;
  repo: ActionRepo;
}

/**
 * Registers the hooks of an action-repository suite on `kind`: one migrated
 * database for the suite; before each test, the `clear` tables emptied and a
 * new clock (2026-01-01), recording bus and repository handed to `use`.
 */
export function useActionRepo(kind: DialectName, clear: readonly (keyof Database)[], use: (fixture: ActionRepoFixture) => void): void {
  let handle: DatabaseHandle;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ handle, drop } = await openMigratedDatabase(kind));
  });
  afterAll(async () => drop?.());
  beforeEach(async () => {
    for (const table of clear) await handle.db.deleteFrom(table).execute();
    const clock = manualClock("2026-01-01T00:00:00.000000Z");
    const bus = recordingBus();
    use({ handle, clock, bus, repo: createActionRepo(handle, clock, bus) });
  });
}
