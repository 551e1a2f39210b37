/**
 * Column allow-lists for list RPCs, with the SQL type of each column.
 *
 * A list request may only filter and sort on the columns of its allow-list.
 * The type decides how a filter value (always a string on the wire) is
 * converted before it is bound, and how a page token stores a row's position.
 * Types follow runs/migrations/sql/20260408110000_init_schema.sql:
 *   TEXT / VARCHAR ⇒ "text", INTEGER / BIGINT ⇒ "int", BOOLEAN ⇒ "bool",
 *   TIMESTAMPTZ ⇒ "timestamp", BYTEA ⇒ "bytes".
 */

export type ColumnType = "text" | "int" | "bool" | "timestamp" | "bytes";

export interface ColumnSpec {
  readonly type: ColumnType;
  /** The column may hold NULL (matters for ordering and page tokens). */
  readonly nullable?: boolean;
}

export type ColumnSet = Readonly<Record<string, ColumnSpec>>;

/** Which SQL dialect a fragment is built for. */
export type SqlDialect = "sqlite" | "postgres";

const TEXT: ColumnSpec = Object.freeze({ type: "text" });
const TEXT_NULL: ColumnSpec = Object.freeze({ type: "text", nullable: true });
const INT: ColumnSpec = Object.freeze({ type: "int" });
const INT_NULL: ColumnSpec = Object.freeze({ type: "int", nullable: true });
const BOOL: ColumnSpec = Object.freeze({ type: "bool" });
const TS: ColumnSpec = Object.freeze({ type: "timestamp" });
const TS_NULL: ColumnSpec = Object.freeze({ type: "timestamp", nullable: true });
const BYTES_NULL: ColumnSpec = Object.freeze({ type: "bytes", nullable: true });

function columnSet(spec: Record<string, ColumnSpec>): ColumnSet {
  return Object.freeze({ ...spec });
}

/** Looks a column up without ever matching inherited properties ("constructor", "__proto__" …). */
export function lookupColumn(columns: ColumnSet, name: string): ColumnSpec | undefined {
  return Object.hasOwn(columns, name) ? columns[name] : undefined;
}

export function columnNames(columns: ColumnSet): string[] {
  return Object.keys(columns);
}

/**
 * ListRuns / ListActions (`actions`). The reference also allow-lists
 * `trigger_type`, which is not a column of the table (filtering on it was a
 * database error); it is left out, so it is rejected as an invalid field.
 */
export const ACTION_COLUMNS: ColumnSet = columnSet({
  project: TEXT,
  domain: TEXT,
  run_name: TEXT,
  phase: INT,
  action_type: INT,
  run_source: TEXT,
  created_by_subject: TEXT_NULL,
  trigger_task_name: TEXT_NULL,
  trigger_name: TEXT_NULL,
  trigger_revision: INT_NULL,
  task_project: TEXT_NULL,
  task_domain: TEXT_NULL,
  task_name: TEXT_NULL,
  task_version: TEXT_NULL,
  function_name: TEXT,
  created_at: TS,
  updated_at: TS,
  ended_at: TS_NULL,
  duration_ms: INT_NULL,
});

/** ListTasks (`tasks`). */
export const TASK_COLUMNS: ColumnSet = columnSet({
  project: TEXT,
  domain: TEXT,
  name: TEXT,
  version: TEXT,
  environment: TEXT,
  function_name: TEXT,
  deployed_by: TEXT,
  created_at: TS,
  updated_at: TS,
  trigger_name: TEXT_NULL,
  total_triggers: INT,
  active_triggers: INT,
  env_description: TEXT_NULL,
  short_description: TEXT_NULL,
});

/** ListVersions (`tasks`, one task). */
export const TASK_VERSION_COLUMNS: ColumnSet = columnSet({
  version: TEXT,
  created_at: TS,
});

/** ListTriggers (`triggers`). */
export const TRIGGER_COLUMNS: ColumnSet = columnSet({
  project: TEXT,
  domain: TEXT,
  task_name: TEXT,
  name: TEXT,
  active: BOOL,
  deployed_at: TS,
  updated_at: TS,
  task_version: TEXT,
  automation_type: TEXT,
});

/** GetTriggerRevisionHistory (`trigger_revisions`). */
export const TRIGGER_REVISION_COLUMNS: ColumnSet = columnSet({
  revision: INT,
  deployed_at: TS,
  updated_at: TS,
  action: TEXT,
});

/**
 * ListProjects (`projects`). `state` has a default but no NOT NULL, `labels`
 * is a nullable BYTEA: it can be sorted on (byte order) but not filtered.
 */
export const PROJECT_COLUMNS: ColumnSet = columnSet({
  identifier: TEXT,
  name: TEXT,
  description: TEXT,
  labels: BYTES_NULL,
  state: INT_NULL,
  created_at: TS,
  updated_at: TS,
});

// Unique keys, used as pagination tie-breaks (appended ascending after the
// requested sort). Each is the table's primary key or a unique index.

export const ACTION_KEY_COLUMNS: ColumnSet = columnSet({
  project: TEXT,
  domain: TEXT,
  run_name: TEXT,
  name: TEXT,
});

export const TASK_KEY_COLUMNS: ColumnSet = columnSet({
  project: TEXT,
  domain: TEXT,
  name: TEXT,
  version: TEXT,
});

export const TRIGGER_KEY_COLUMNS: ColumnSet = columnSet({
  project: TEXT,
  domain: TEXT,
  task_name: TEXT,
  name: TEXT,
});

export const TRIGGER_REVISION_KEY_COLUMNS: ColumnSet = columnSet({
  project: TEXT,
  domain: TEXT,
  task_name: TEXT,
  name: TEXT,
  revision: INT,
});

export const PROJECT_KEY_COLUMNS: ColumnSet = columnSet({
  identifier: TEXT,
});
