/** Small SQL building blocks shared by filters and pagination. */
import { sql, type RawBuilder } from "kysely";
import type { ColumnType, SqlDialect } from "./columns.js";

/** A column reference, optionally qualified by a table or subquery alias. */
export function columnRef(column: string, table?: string): RawBuilder<unknown> {
  return sql.ref(table ? `${table}.${column}` : column) as unknown as RawBuilder<unknown>;
}

/**
 * The expression a column is ordered and range-compared by. Text compares
 * byte-wise on both databases: PostgreSQL otherwise uses the database
 * collation (e.g. en_US, where "a" < "B"), SQLite uses BINARY unless a
 * column declares another collation.
 */
export function orderedExpr(col: RawBuilder<unknown>, type: ColumnType, dialect: SqlDialect): RawBuilder<unknown> {
  if (type !== "text") return col;
  return dialect === "postgres" ? sql`${col} collate "C"` : sql`${col} collate binary`;
}
