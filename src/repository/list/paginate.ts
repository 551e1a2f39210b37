/**
 * Keyset (seek) pagination.
 *
 * Rows are ordered by the requested sort (or the list's default), then by the
 * table's unique key ascending, so the order is total (columns the query pins
 * to one value are left out). A page fetches
 * limit + 1 rows; when the extra row exists, the token records the last
 * returned row's order values and the next page starts strictly after them.
 * Rows inserted or deleted between requests therefore never cause another
 * row to be skipped or repeated.
 *
 * Ordering rule, identical on SQLite and PostgreSQL:
 * - text compares byte-wise (UTF-8 / code point order);
 * - NULLs come LAST in both directions (emitted explicitly as NULLS LAST on
 *   nullable columns, since the databases' defaults differ);
 * - false < true; timestamps chronologically (canonical text on SQLite).
 */
import { sql, type RawBuilder, type SelectQueryBuilder, type SqlBool } from "kysely";
import { InvalidArgumentError } from "../errors.js";
import { lookupColumn, type ColumnSet, type ColumnType, type SqlDialect } from "./columns.js";
import { decodePageToken, encodePageToken, hashScope, type TokenValue } from "./page-token.js";
import type { SortDirection, SortParam } from "./sorting.js";
import { columnRef, orderedExpr } from "./sql.js";
import { rowValueToText, toSqlParam, tokenValueToTyped, type TypedValue } from "./values.js";

export interface PageOptions {
  /** Requested order (ListInput.sort); empty ⇒ defaultSort. */
  readonly sort: readonly SortParam[];
  /** The list's order when the request has none. */
  readonly defaultSort: readonly SortParam[];
  /** Columns of a unique key, appended ascending to make the order total. Must be NOT NULL. */
  readonly tieBreak: readonly string[];
  /**
   * Columns the query pins to one value (an equality in its WHERE, e.g. the
   * project of ListRuns): they are left out of the order and the token, where
   * they change nothing, so an index on (pinned…, order…) serves the ORDER BY
   * as it is (a database does not know `x collate "C"` is constant when the
   * WHERE says `x = $1`).
   */
  readonly pinned?: readonly string[];
  /** Types of every sort and tie-break column (e.g. `{ ...TASK_COLUMNS, ...TASK_KEY_COLUMNS }`). */
  readonly columns: ColumnSet;
  /** Page size; undefined ⇒ everything after the token. */
  readonly limit: number | undefined;
  /** The request's token ("" ⇒ first page). */
  readonly token: string;
  /** Identifies the list and everything that narrows it (see listScope). */
  readonly scope: string;
  readonly dialect: SqlDialect;
  /** Qualifies column references (a table or subquery alias); rows are still read by bare column name. */
  readonly table?: string;
}

export interface Page<R> {
  readonly rows: R[];
  /** "" on the last page. */
  readonly nextToken: string;
}

export interface OrderKey {
  readonly column: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  readonly direction: SortDirection;
}

/** The effective total order: sort (or default) without repeated columns, then the tie-break key. */
export function resolveOrder(opts: Pick<PageOptions, "sort" | "defaultSort" | "tieBreak" | "columns" | "pinned">): OrderKey[] {
  const requested = opts.sort.length > 0 ? opts.sort : opts.defaultSort;
  const keys: OrderKey[] = [];
  const seen = new Set<string>(opts.pinned);
  const add = (column: string, direction: SortDirection, isTieBreak: boolean) => {
    if (seen.has(column)) return;
    const spec = lookupColumn(opts.columns, column);
    if (!spec) throw new Error(`list pagination: no column type for ${column}`);
    if (isTieBreak && spec.nullable) throw new Error(`list pagination: tie-break column ${column} must be NOT NULL`);
    seen.add(column);
    keys.push({ column, type: spec.type, nullable: spec.nullable === true, direction });
  };
  for (const s of requested) add(s.column, s.direction, false);
  if (opts.tieBreak.length === 0) throw new Error("list pagination: a tie-break key is required");
  for (const column of opts.tieBreak) add(column, "asc", true);
  if (!opts.tieBreak.some((c) => !opts.pinned?.includes(c))) throw new Error("list pagination: the tie-break key cannot be all pinned");
  return keys;
}

function orderHash(scope: string, keys: readonly OrderKey[]): string {
  return hashScope(JSON.stringify([scope, keys.map((k) => `${k.column} ${k.direction}`)]));
}

/** Decodes a token against the expected order; InvalidArgumentError when it does not belong here. */
function seekPosition(token: string, keys: readonly OrderKey[], hash: string): (TypedValue | null)[] {
  const content = decodePageToken(token);
  if (content.scopeHash !== hash) {
    throw new InvalidArgumentError(
      "invalid token: it was issued for another list, filter or sort order; request the first page again",
    );
  }
  if (content.values.length !== keys.length) throw new InvalidArgumentError("invalid token: malformed page token");
  return keys.map((k, i) => {
    const raw = content.values[i];
    if (raw === null) {
      if (!k.nullable) throw new InvalidArgumentError("invalid token: malformed page token");
      return null;
    }
    const typed = tokenValueToTyped(k.type, raw);
    if (typed === undefined) throw new InvalidArgumentError("invalid token: malformed page token");
    return typed;
  });
}

/** The condition a row's key meets when it equals `value` (IS NULL for a NULL position). */
function equalTo(k: OrderKey, value: TypedValue | null, dialect: SqlDialect, table: string | undefined): RawBuilder<SqlBool> {
  const expr = orderedExpr(columnRef(k.column, table), k.type, dialect);
  return value === null ? sql<SqlBool>`${expr} is null` : sql<SqlBool>`${expr} = ${toSqlParam(k.type, value, dialect)}`;
}

/** The condition a row's key meets when it sorts strictly after `value` (nothing is after a NULL). */
function beyond(k: OrderKey, value: TypedValue, dialect: SqlDialect, table: string | undefined): RawBuilder<SqlBool> {
  const expr = orderedExpr(columnRef(k.column, table), k.type, dialect);
  const param = toSqlParam(k.type, value, dialect);
  const cmp = sql.raw(k.direction === "asc" ? ">" : "<");
  return k.nullable ? sql<SqlBool>`(${expr} ${cmp} ${param} or ${expr} is null)` : sql<SqlBool>`${expr} ${cmp} ${param}`;
}

/**
 * The rows strictly after `position`, as disjoint ranges in page order. The
 * keys form groups: a run of adjacent non-nullable keys sorted the same way
 * is one group, a nullable key a group of its own. Range g holds the rows
 * equal to the position on the groups before g and beyond it on group g
 * (a row-value comparison for a group of several keys), deepest group first.
 * Each range is a conjunction — equalities, then one bound — so it is one
 * index range scan starting at the position whatever the mix of directions
 * (a single OR-nested condition can only be checked row by row from the start
 * of the list, which makes page n cost O(n)); grouping makes the usual page
 * one statement: after (phase, created_at, name) the first range is
 * `phase = ? and (created_at, name) < (?, ?)`, not `… and created_at = ? and
 * name < ?` (empty whenever no two actions share a created_at) and then a
 * second statement.
 */
function afterRanges(
  keys: readonly OrderKey[],
  position: readonly (TypedValue | null)[],
  dialect: SqlDialect,
  table: string | undefined,
): RawBuilder<SqlBool>[] {
  const groups: { start: number; end: number }[] = [];
  keys.forEach((k, i) => {
    const last = groups.at(-1);
    const prev = keys[i - 1];
    if (last && prev && !k.nullable && !prev.nullable && prev.direction === k.direction) last.end = i + 1;
    else groups.push({ start: i, end: i + 1 });
  });
  const ranges: RawBuilder<SqlBool>[] = [];
  for (let g = groups.length - 1; g >= 0; g--) {
    const { start, end } = groups[g]!;
    const parts = keys.slice(0, start).map((k, j) => equalTo(k, position[j], dialect, table));
    if (end - start === 1) {
      const value = position[start];
      if (value === null) continue;
      parts.push(beyond(keys[start]!, value, dialect, table));
    } else {
      parts.push(rowBeyond(keys.slice(start, end), position.slice(start, end) as TypedValue[], dialect, table));
    }
    ranges.push(sql.join(parts, sql` and `) as RawBuilder<SqlBool>);
  }
  return ranges;
}

/** Non-nullable keys sorted the same way, strictly after `values` as one row value: `(a, b) > (?, ?)`. */
function rowBeyond(keys: readonly OrderKey[], values: readonly TypedValue[], dialect: SqlDialect, table: string | undefined): RawBuilder<SqlBool> {
  const exprs = keys.map((k) => orderedExpr(columnRef(k.column, table), k.type, dialect));
  const params = keys.map((k, i) => toSqlParam(k.type, values[i]!, dialect));
  const cmp = sql.raw(keys[0]!.direction === "asc" ? ">" : "<");
  return sql<SqlBool>`(${sql.join(exprs)}) ${cmp} (${sql.join(params)})`;
}

function orderItem(k: OrderKey, dialect: SqlDialect, table: string | undefined): RawBuilder<unknown> {
  const expr = orderedExpr(columnRef(k.column, table), k.type, dialect);
  const dir = sql.raw(k.direction === "asc" ? "asc" : "desc");
  return k.nullable ? sql`${expr} ${dir} nulls last` : sql`${expr} ${dir}`;
}

export interface PageQuery<O> {
  /**
   * The queries of the page, in page order, each with its condition, ORDER BY
   * and LIMIT: the first page is one query; a page after a token is one query
   * per range after the token's position (see afterRanges), run one after the
   * other until the page is full.
   */
  readonly queries: readonly SelectQueryBuilder<any, any, O>[];
  /** Cuts the fetched rows (every query's, in order) to the page and computes the next token. */
  finish(rows: O[]): Page<O>;
}

/**
 * Adds the page's seek conditions, ORDER BY and LIMIT (limit + 1) to `qb`.
 * The query must not have an ORDER BY or LIMIT of its own and must select
 * every sort and tie-break column under its bare name.
 */
export function buildPageQuery<O>(qb: SelectQueryBuilder<any, any, O>, opts: PageOptions): PageQuery<O> {
  const { dialect, table, limit } = opts;
  if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) {
    throw new Error(`list pagination: limit must be a positive integer, got ${limit}`);
  }
  const keys = resolveOrder(opts);
  const hash = orderHash(opts.scope, keys);
  const ordered = (q: SelectQueryBuilder<any, any, O>) => {
    for (const k of keys) q = q.orderBy(orderItem(k, dialect, table));
    return limit !== undefined ? q.limit(limit + 1) : q;
  };
  const queries =
    opts.token === ""
      ? [ordered(qb)]
      : afterRanges(keys, seekPosition(opts.token, keys, hash), dialect, table).map((range) => ordered(qb.where(range)));

  return {
    queries,
    finish(rows: O[]): Page<O> {
      if (limit === undefined || rows.length <= limit) return { rows, nextToken: "" };
      const page = rows.slice(0, limit);
      const last = page[page.length - 1] as Record<string, unknown>;
      const values: TokenValue[] = keys.map((k) => {
        if (!Object.hasOwn(last, k.column)) {
          throw new Error(`list pagination: rows must include column ${k.column}`);
        }
        return rowValueToText(k.column, k.type, last[k.column]);
      });
      return { rows: page, nextToken: encodePageToken({ scopeHash: hash, values }) };
    },
  };
}

/**
 * Runs one page of `qb`: its queries in order until limit + 1 rows are in
 * hand. The ranges are disjoint, so a row shows up twice only if its order
 * values changed between two of the statements; such a repeat is dropped.
 */
export async function paginate<O>(qb: SelectQueryBuilder<any, any, O>, opts: PageOptions): Promise<Page<O>> {
  const { queries, finish } = buildPageQuery(qb, opts);
  if (queries.length === 1) return finish(await queries[0].execute());
  const want = opts.limit === undefined ? Infinity : opts.limit + 1;
  const rows: O[] = [];
  let seen: Set<string> | undefined;
  for (const q of queries) {
    const remaining = want - rows.length;
    if (remaining <= 0) break;
    const got = await (Number.isFinite(remaining) && remaining < want ? q.clearLimit().limit(remaining) : q).execute();
    if (got.length === 0) continue;
    if (rows.length > 0) {
      seen ??= new Set(rows.map((r) => rowKey(r, opts.tieBreak)));
      for (const r of got) {
        const key = rowKey(r, opts.tieBreak);
        if (!seen.has(key)) {
          seen.add(key);
          rows.push(r);
        }
      }
    } else {
      rows.push(...got);
    }
  }
  return finish(rows);
}

function rowKey(row: unknown, columns: readonly string[]): string {
  const r = row as Record<string, unknown>;
  return JSON.stringify(columns.map((c) => String(r[c])));
}

/**
 * A stable scope string from a list name and whatever narrows it (scope ids,
 * filters, …), for PageOptions.scope. Bigints and bytes are serialised.
 */
export function listScope(name: string, ...parts: unknown[]): string {
  return `${name}:${JSON.stringify(parts, (_key, value: unknown) => {
    if (typeof value === "bigint") return `${value}n`;
    if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
    return value;
  })}`;
}
