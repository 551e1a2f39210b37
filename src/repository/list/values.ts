/**
 * Conversions between the three shapes a column value takes in list queries:
 * the wire text of a filter or token, the typed JS value kept in a filter or
 * seek position, and the value bound as a SQL parameter.
 */
import { parseTimestamp } from "../timestamps.js";
import type { ColumnType, SqlDialect } from "./columns.js";

/** A typed value: text and timestamps are strings, ints numbers (bigint beyond 2^53), bools booleans, bytes Uint8Array. */
export type TypedValue = string | number | bigint | boolean | Uint8Array;

const INT_RE = /^[+-]?\d+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Strict integer parse (digits with an optional sign, within int64); undefined otherwise. */
export function parseInteger(text: string): number | bigint | undefined {
  if (!INT_RE.test(text)) return undefined;
  const big = BigInt(text);
  if (big < INT64_MIN || big > INT64_MAX) return undefined;
  const small = Number(big);
  return Number.isSafeInteger(small) ? small : big;
}

const TRUE_WORDS = new Set(["true", "t", "1"]);
const FALSE_WORDS = new Set(["false", "f", "0"]);

/** true/false/t/f/1/0 (any case); undefined otherwise. */
export function parseBoolean(text: string): boolean | undefined {
  const word = text.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}

/**
 * Converts wire text to a typed value for a column type, or returns a short
 * reason why it cannot be (the caller builds the full message).
 */
export function convertText(
  type: ColumnType,
  text: string,
): { ok: true; value: TypedValue } | { ok: false; reason: string } {
  switch (type) {
    case "text":
      return { ok: true, value: text };
    case "int": {
      const v = parseInteger(text);
      return v === undefined ? { ok: false, reason: "is not an integer" } : { ok: true, value: v };
    }
    case "bool": {
      const v = parseBoolean(text);
      return v === undefined
        ? { ok: false, reason: "is not a boolean (use true/false, t/f or 1/0)" }
        : { ok: true, value: v };
    }
    case "timestamp": {
      const v = parseTimestamp(text);
      return v === undefined
        ? { ok: false, reason: "is not an RFC 3339 timestamp" }
        : { ok: true, value: v };
    }
    case "bytes": {
      if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) return { ok: false, reason: "is not base64" };
      return { ok: true, value: new Uint8Array(Buffer.from(text, "base64")) };
    }
  }
}

/** The value to bind as a SQL parameter (booleans are 1/0 on SQLite, which has no boolean type). */
export function toSqlParam(type: ColumnType, value: TypedValue, dialect: SqlDialect): unknown {
  if (type === "bool") {
    const b = value === true || value === 1;
    return dialect === "sqlite" ? (b ? 1 : 0) : b;
  }
  if (type === "bytes" && value instanceof Uint8Array && !Buffer.isBuffer(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return value;
}

/**
 * Normalises a value read from a database row into its token text form
 * (null for NULL). Throws a plain Error when the row does not look like the
 * declared column type: that is a programming error, not a client one.
 */
export function rowValueToText(column: string, type: ColumnType, value: unknown): string | boolean | null {
  if (value === null) return null;
  const fail = (): never => {
    throw new Error(`list pagination: row value of ${column} does not match column type ${type}: ${String(value)}`);
  };
  switch (type) {
    case "text":
      return typeof value === "string" ? value : fail();
    case "int":
      if (typeof value === "number") return Number.isInteger(value) ? String(value) : fail();
      if (typeof value === "bigint") return value.toString();
      if (typeof value === "string") {
        const parsed = parseInteger(value);
        return parsed === undefined ? fail() : String(parsed);
      }
      return fail();
    case "bool":
      if (typeof value === "boolean") return value;
      if (value === 0 || value === 1 || value === 0n || value === 1n) return value === 1 || value === 1n;
      return fail();
    case "timestamp": {
      if (value instanceof Date) return parseTimestamp(value.toISOString()) ?? fail();
      if (typeof value === "string") return parseTimestamp(value) ?? fail();
      return fail();
    }
    case "bytes":
      return value instanceof Uint8Array ? Buffer.from(value).toString("base64") : fail();
  }
}

/** Token text form ⇒ typed value; undefined when the token value does not fit the type. */
export function tokenValueToTyped(type: ColumnType, value: unknown): TypedValue | undefined {
  if (type === "bool") return typeof value === "boolean" ? value : undefined;
  if (typeof value !== "string") return undefined;
  const converted = convertText(type, value);
  return converted.ok ? converted.value : undefined;
}
