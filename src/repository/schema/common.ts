import type { Timestamp } from "../timestamps.js";

/** Timestamp columns: canonical strings in and out (see ../timestamps.ts). */
export type TimestampColumn = Timestamp;
/** Binary protobuf payloads (BYTEA / BLOB). */
export type Bytes = Uint8Array;
/** BOOLEAN on PostgreSQL, INTEGER 0/1 on SQLite; read it with `sqlBool`. */
export type SqlBool = boolean | number;

export function sqlBool(value: SqlBool | null | undefined): boolean {
  return value === true || value === 1;
}
