/**
 * WatchActions filters: which fields and functions are accepted, and whether
 * an action matches. Only two filters exist (see the IDL of
 * WatchActionsRequest.filter):
 * - PHASE with VALUE_IN: values are phase numbers as decimal text;
 * - NAME with CONTAINS_CASE_INSENSITIVE: the first value, matched against
 *   the action's display name (see displayName).
 */
import { fromBinary } from "@bufbuild/protobuf";
import { Filter_Function, type Filter } from "#gen/flyteidl2/common/list_pb.js";
import { ActionSpecSchema, ActionType } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { InvalidArgumentError } from "../../util/errors.js";
import type { TreeRow } from "./types.js";

export interface ActionFilters {
  /** Phases an action must be in; empty ⇒ any phase. */
  readonly phases: ReadonlySet<number>;
  /** Lower-cased text the display name must contain; "" ⇒ any name. */
  readonly name: string;
}

export const NO_FILTERS: ActionFilters = Object.freeze({ phases: new Set<number>(), name: "" });

const SUPPORTED: Readonly<Record<string, Filter_Function>> = {
  PHASE: Filter_Function.VALUE_IN,
  NAME: Filter_Function.CONTAINS_CASE_INSENSITIVE,
};

/** Decimal integer text, optionally signed, within int64 (what a Go strconv.Atoi accepts). */
const INTEGER_RE = /^[+-]?\d+$/;

function functionLabel(fn: Filter_Function): string {
  return Filter_Function[fn] ?? String(fn);
}

/**
 * Validates the request's filters. Every problem is an InvalidArgumentError:
 * a field other than PHASE/NAME or the wrong function for the field
 * ("function F is not supported for filter X"), or a phase value that is not
 * an integer ("invalid phase value: V"). Several PHASE filters add up; the
 * last NAME filter with a value wins.
 */
export function parseActionFilters(filters: readonly (Filter | undefined)[] | undefined): ActionFilters {
  if (!filters || filters.length === 0) return NO_FILTERS;
  const phases = new Set<number>();
  let name = "";
  for (const filter of filters) {
    if (!filter) continue;
    const expected = Object.hasOwn(SUPPORTED, filter.field) ? SUPPORTED[filter.field] : undefined;
    if (expected === undefined || filter.function !== expected) {
      throw new InvalidArgumentError(`function ${functionLabel(filter.function)} is not supported for filter ${filter.field}`);
    }
    if (filter.field === "PHASE") {
      for (const value of filter.values) {
        const big = INTEGER_RE.test(value) ? BigInt(value) : undefined;
        if (big === undefined || big < -(2n ** 63n) || big >= 2n ** 63n) {
          throw new InvalidArgumentError(`invalid phase value: ${value}`);
        }
        phases.add(Number(big));
      }
    } else if (filter.values.length > 0) {
      name = filter.values[0].toLowerCase();
    }
  }
  return { phases, name };
}

/** The task name an action was recorded with: TaskAction.id.name, else its spec's short_name, else "". */
export function taskNameOfSpec(actionSpec: Uint8Array | null): string {
  if (!actionSpec || actionSpec.length === 0) return "";
  let spec;
  try {
    spec = fromBinary(ActionSpecSchema, actionSpec);
  } catch {
    return "";
  }
  if (spec.spec.case !== "task") return "";
  const task = spec.spec.value;
  if (task.id && task.id.name !== "") return task.id.name;
  return task.spec?.shortName ?? "";
}

/** The part of a dotted name after its last ".". */
export function lastSegment(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? name : name.slice(dot + 1);
}

/**
 * The task name from the row's columns, for rows read without action_spec:
 * RecordAction and CreateRun store TaskAction.id.name in task_name and the
 * spec's short_name (else that name) in task_short_name, so for a TASK action
 * this is taskNameOfSpec without decoding the spec.
 */
export function taskNameOfColumns(row: { action_type: number; task_name: string | null; task_short_name: string | null }): string {
  if (row.action_type !== ActionType.TASK) return "";
  return row.task_name ?? row.task_short_name ?? "";
}

/** The row shape displayName reads: action_spec when the row carries it, else the task columns. */
export type DisplayNameRow = Pick<TreeRow, "name" | "action_spec" | "action_type" | "task_name" | "task_short_name">;

/** What the NAME filter looks at: the last segment of the task name, else the action's own name. */
export function displayName(row: DisplayNameRow): string {
  const taskName =
    row.action_spec !== undefined
      ? taskNameOfSpec(row.action_spec)
      : taskNameOfColumns({ action_type: row.action_type ?? 0, task_name: row.task_name ?? null, task_short_name: row.task_short_name ?? null });
  const task = lastSegment(taskName);
  return task !== "" ? task : row.name;
}

export function hasFilters(filters: ActionFilters): boolean {
  return filters.phases.size > 0 || filters.name !== "";
}

/** Whether an action with this phase and display name passes the filters (everything passes none). */
export function matchesFilters(filters: ActionFilters, phase: number, name: string): boolean {
  if (!hasFilters(filters)) return true;
  if (filters.phases.size > 0 && !filters.phases.has(phase)) return false;
  return filters.name === "" || name.toLowerCase().includes(filters.name);
}
