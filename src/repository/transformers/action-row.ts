import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import type { ActionRow } from "../schema/index.js";
import type { Timestamp } from "../timestamps.js";

/** `action_details` is always the JSON text "{}" (kept for the reference's schema). */
export const EMPTY_ACTION_DETAILS = new TextEncoder().encode("{}");

/** The columns every new action needs; everything else has a default. */
export interface ActionRowBase {
  project: string;
  domain: string;
  run_name: string;
  name: string;
  created_at: Timestamp;
}

/**
 * A complete actions row as CreateRun and RecordAction first write it:
 * QUEUED, attempt 1, no task, no abort, no end. Callers override what they know.
 */
export function newActionRow(base: ActionRowBase, overrides: Partial<ActionRow> = {}): ActionRow {
  return {
    parent_action_name: null,
    phase: ActionPhase.QUEUED,
    run_source: "",
    action_type: 0,
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
    action_details: EMPTY_ACTION_DETAILS,
    detailed_info: null,
    run_spec: null,
    abort_requested_at: null,
    abort_attempt_count: 0,
    abort_reason: null,
    updated_at: base.created_at,
    ended_at: null,
    duration_ms: null,
    attempts: 1,
    cache_status: 0,
    trigger_name: null,
    trigger_task_name: null,
    trigger_revision: null,
    created_by: null,
    created_by_subject: null,
    ...base,
    ...overrides,
  };
}
