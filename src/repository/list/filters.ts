/**
 * List filters: validation of client filters against a column allow-list,
 * conversion of their string values to the column type, and rendering as
 * Kysely WHERE conditions that behave the same on SQLite and PostgreSQL.
 */
import { sql, type RawBuilder, type SelectQueryBuilder, type SqlBool } from "kysely";
import type { Filter } from "#gen/flyteidl2/common/list_pb.js";
import { Filter_Function } from "#gen/flyteidl2/common/list_pb.js";
import { InvalidArgumentError } from "../errors.js";
import { columnNames, lookupColumn, type ColumnSet, type ColumnType, type SqlDialect } from "./columns.js";
import { columnRef, orderedExpr } from "./sql.js";
import { convertText, toSqlParam, type TypedValue } from "./values.js";

export type FilterOp =
  | "eq"
  | "ne"
  | "gt"
  | "gte"
  | "lt"
  | "lte"
  | "in"
  | "contains"
  | "ends_with"
  | "not_ends_with"
  | "contains_ci";

/** One validated condition; a list's filters are ANDed. */
export interface FilterExpr {
  readonly column: string;
  readonly type: ColumnType;
  readonly op: FilterOp;
  /** Converted to the column type; exactly one value except for "in" (one or more). */
  readonly values: readonly TypedValue[];
}

/** Names used in error messages (the proto enum names). */
export const FILTER_OP_NAMES: Readonly<Record<FilterOp, string>> = {
  eq: "EQUAL",
  ne: "NOT_EQUAL",
  gt: "GREATER_THAN",
  gte: "GREATER_THAN_OR_EQUAL",
  lt: "LESS_THAN",
  lte: "LESS_THAN_OR_EQUAL",
  in: "VALUE_IN",
  contains: "CONTAINS",
  ends_with: "ENDS_WITH",
  not_ends_with: "NOT_ENDS_WITH",
  contains_ci: "CONTAINS_CASE_INSENSITIVE",
};

const PROTO_FUNCTIONS = new Map<Filter_Function, FilterOp>([
  [Filter_Function.EQUAL, "eq"],
  [Filter_Function.NOT_EQUAL, "ne"],
  [Filter_Function.GREATER_THAN, "gt"],
  [Filter_Function.GREATER_THAN_OR_EQUAL, "gte"],
  [Filter_Function.LESS_THAN, "lt"],
  [Filter_Function.LESS_THAN_OR_EQUAL, "lte"],
  [Filter_Function.VALUE_IN, "in"],
  [Filter_Function.CONTAINS, "contains"],
  [Filter_Function.ENDS_WITH, "ends_with"],
  [Filter_Function.NOT_ENDS_WITH, "not_ends_with"],
  [Filter_Function.CONTAINS_CASE_INSENSITIVE, "contains_ci"],
]);

const TEXT_ONLY_OPS: ReadonlySet<FilterOp> = new Set(["contains", "ends_with", "not_ends_with", "contains_ci"]);

/** Throws InvalidArgumentError unless `column` is in the allow-list. */
export function assertFilterField(columns: ColumnSet, column: string): void {
  if (!lookupColumn(columns, column)) {
    throw new InvalidArgumentError(
      `invalid filter field: ${column} (allowed: ${columnNames(columns).join(", ")})`,
    );
  }
}

/**
 * Validates one condition and converts its values. Every problem is an
 * InvalidArgumentError naming the field.
 */
export function makeFilter(
  columns: ColumnSet,
  column: string,
  op: FilterOp,
  rawValues: readonly string[],
): FilterExpr {
  assertFilterField(columns, column);
  const spec = lookupColumn(columns, column)!;
  const name = FILTER_OP_NAMES[op];
  if (spec.type === "bytes") {
    throw new InvalidArgumentError(`filter ${column}: binary columns cannot be filtered`);
  }
  if (TEXT_ONLY_OPS.has(op) && spec.type !== "text") {
    throw new InvalidArgumentError(`filter ${column}: ${name} applies only to text columns (${column} is ${spec.type})`);
  }
  if (rawValues.length === 0) throw new InvalidArgumentError(`filter ${column} has no values`);
  if (op !== "in" && rawValues.length > 1) {
    throw new InvalidArgumentError(
      `filter ${column}: ${name} takes exactly one value (got ${rawValues.length}); use VALUE_IN to match any of several`,
    );
  }
  const values = rawValues.map((raw) => {
    const converted = convertText(spec.type, raw);
    if (!converted.ok) {
      throw new InvalidArgumentError(`filter ${column}: ${JSON.stringify(raw)} ${converted.reason}`);
    }
    return converted.value;
  });
  return { column, type: spec.type, op, values };
}

/** Converts the proto filters of a ListRequest (ANDed); an empty list gives no filters. */
export function convertProtoFilters(filters: readonly Filter[] | undefined, columns: ColumnSet): FilterExpr[] {
  return (filters ?? []).map((f) => {
    assertFilterField(columns, f.field);
    const op = PROTO_FUNCTIONS.get(f.function);
    if (op === undefined) {
      const label = Filter_Function[f.function] ?? String(f.function);
      throw new InvalidArgumentError(`unsupported filter function: ${label}`);
    }
    return makeFilter(columns, f.field, op, f.values ?? []);
  });
}

/** Escapes the LIKE metacharacters `\`, `%` and `_` (the escape character is `\`). */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Lowercases ASCII letters only, as SQLite's lower() and PostgreSQL's lower() under the "C" collation do. */
export function asciiLower(value: string): string {
  return value.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** The LIKE pattern a text-matching filter uses (escaped; lowercased for contains_ci). */
export function likePattern(op: FilterOp, value: string): string {
  switch (op) {
    case "contains":
      return `%${escapeLike(value)}%`;
    case "contains_ci":
      return `%${escapeLike(asciiLower(value))}%`;
    case "ends_with":
    case "not_ends_with":
      return `%${escapeLike(value)}`;
    default:
      throw new Error(`likePattern: ${op} is not a pattern filter`);
  }
}

const COMPARISON: Partial<Record<FilterOp, string>> = {
  eq: "=",
  ne: "<>",
  gt: ">",
  gte: ">=",
  lt: "<",
  lte: "<=",
};

/**
 * Renders one filter as a boolean SQL expression.
 *
 * - Range comparisons on text use byte order on both databases
 *   (COLLATE "C" on PostgreSQL, BINARY on SQLite), like the list ordering.
 * - CONTAINS / ENDS_WITH / NOT_ENDS_WITH are case-sensitive: LIKE under the
 *   "C" collation on PostgreSQL; instr()/substr() on SQLite, whose LIKE
 *   ignores ASCII case.
 * - CONTAINS_CASE_INSENSITIVE is lower(col) LIKE lower(pattern) on both,
 *   folding ASCII letters only (what SQLite's lower() does).
 * - A NULL column value never matches any filter (as in SQL).
 */
export function filterCondition(f: FilterExpr, dialect: SqlDialect, table?: string): RawBuilder<SqlBool> {
  const col = columnRef(f.column, table);
  const param = (v: TypedValue) => toSqlParam(f.type, v, dialect);
  const first = f.values[0];
  if (first === undefined) throw new InvalidArgumentError(`filter ${f.column} has no values`);

  const op = COMPARISON[f.op];
  if (op !== undefined) {
    const lhs = f.op === "eq" || f.op === "ne" ? col : orderedExpr(col, f.type, dialect);
    return sql<SqlBool>`${lhs} ${sql.raw(op)} ${param(first)}`;
  }
  if (f.op === "in") {
    return sql<SqlBool>`${col} in (${sql.join(f.values.map(param))})`;
  }

  const text = String(first);
  if (f.op === "contains_ci") {
    const lowered = dialect === "postgres" ? sql`lower(${col} collate "C")` : sql`lower(${col})`;
    return sql<SqlBool>`${lowered} like ${likePattern("contains_ci", text)} escape '\\'`;
  }
  if (dialect === "postgres") {
    const negate = f.op === "not_ends_with" ? sql.raw("not ") : sql.raw("");
    return sql<SqlBool>`${col} collate "C" ${negate}like ${likePattern(f.op, text)} escape '\\'`;
  }
  switch (f.op) {
    case "contains":
      return sql<SqlBool>`instr(${col}, ${text}) > 0`;
    case "ends_with":
      return sql<SqlBool>`substr(${col}, length(${col}) - length(${text}) + 1) = ${text}`;
    case "not_ends_with":
      return sql<SqlBool>`substr(${col}, length(${col}) - length(${text}) + 1) <> ${text}`;
    default:
      throw new Error(`filterCondition: unhandled filter op ${String(f.op)}`);
  }
}

/** ANDs the filters into the WHERE clause of a select query. */
export function applyFilters<QB extends SelectQueryBuilder<any, any, any>>(
  qb: QB,
  filters: readonly FilterExpr[],
  dialect: SqlDialect,
  opts: { table?: string } = {},
): QB {
  let out = qb;
  for (const f of filters) out = out.where(filterCondition(f, dialect, opts.table)) as QB;
  return out;
}
