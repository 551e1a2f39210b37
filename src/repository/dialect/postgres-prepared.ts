/**
 * Named prepared statements for the few statements the service runs on every
 * request with the same text (CreateRun's insert): PostgreSQL parses and plans
 * a named statement once per connection instead of on every call, which on a
 * two-table insert is about as much time as the insert itself. The Go service
 * (pgx) prepares its statements the same way.
 *
 * Each distinct text gets a name on first use, up to `maxNames` texts; later
 * texts run unnamed, so a caller passing many shapes (e.g. multi-row inserts)
 * cannot make every connection keep an unbounded set. Only for statements
 * whose result columns never change (no `SELECT *`): a prepared statement
 * whose table gains a column fails while its result shape would change.
 */
import type pg from "pg";
import type { CompiledQuery, QueryResult } from "kysely";

export function createPreparedRunner(pool: pg.Pool, maxNames = 32): <R>(query: CompiledQuery<R>) => Promise<QueryResult<R>> {
  const names = new Map<string, string>();

  function nameOf(text: string): string | undefined {
    let name = names.get(text);
    if (name === undefined && names.size < maxNames) {
      name = `runs_ts_${names.size + 1}`;
      names.set(text, name);
    }
    return name;
  }

  return async <R>(query: CompiledQuery<R>): Promise<QueryResult<R>> => {
    const result = await pool.query({ name: nameOf(query.sql), text: query.sql, values: query.parameters as unknown[] });
    const changed = result.command === "INSERT" || result.command === "UPDATE" || result.command === "DELETE" || result.command === "MERGE";
    return {
      rows: result.rows as R[],
      ...(changed && result.rowCount !== null ? { numAffectedRows: BigInt(result.rowCount) } : {}),
    };
  };
}
