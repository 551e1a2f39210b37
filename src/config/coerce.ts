/**
 * Conversion of raw configuration values (from YAML, environment variables
 * or flags) into the typed values of the Config. Lenient in the same ways as
 * the reference's loader: numeric strings count as numbers, "true"/"false"
 * strings as booleans, a comma-separated string as a list.
 *
 * Every function throws a plain Error whose message describes the problem
 * without naming the key; the caller adds the key.
 */
import { parse as parseYaml } from "yaml";
import { durationToMs } from "./duration.js";
import type { DomainConfig } from "./types.js";

export type FieldKind =
  | "string"
  | "int"
  | "float"
  | "bool"
  | "duration"
  | "stringList"
  | "stringMap"
  | "domains";

export interface KindValue {
  string: string;
  int: number;
  float: number;
  bool: boolean;
  duration: number;
  stringList: string[];
  stringMap: Record<string, string>;
  domains: DomainConfig[];
}

/** Describes a value for an error message: JSON for scalars, a word for collections. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return JSON.stringify(value);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function toStringValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (value === null || value === undefined) return "";
  throw new Error(`expected a string, got ${describeValue(value)}`);
}

const DECIMAL_INT = /^[+-]?\d+$/;
const DECIMAL_FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function toInt(value: unknown): number {
  let n: number;
  if (typeof value === "number") {
    n = value;
  } else if (typeof value === "bigint") {
    n = Number(value);
  } else if (typeof value === "string") {
    const text = value.trim();
    // An empty string decodes to zero, as in the reference's weak decoding.
    if (text === "") return 0;
    if (!DECIMAL_INT.test(text)) throw new Error(`expected an integer, got ${describeValue(value)}`);
    n = Number(text);
  } else {
    throw new Error(`expected an integer, got ${describeValue(value)}`);
  }
  if (!Number.isInteger(n)) throw new Error(`expected an integer, got ${describeValue(value)}`);
  if (!Number.isSafeInteger(n)) throw new Error(`integer ${describeValue(value)} is out of range`);
  return n;
}

export function toFloat(value: unknown): number {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string") {
    const text = value.trim();
    if (text === "") return 0;
    if (DECIMAL_FLOAT.test(text)) return Number(text);
  }
  throw new Error(`expected a number, got ${describeValue(value)}`);
}

/** The spellings Go's strconv.ParseBool accepts. */
const TRUE_WORDS = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE_WORDS = new Set(["0", "f", "F", "FALSE", "false", "False", ""]);

export function toBool(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "number" && (value === 0 || value === 1)) return value === 1;
  if (typeof value === "string") {
    const text = value.trim();
    if (TRUE_WORDS.has(text)) return true;
    if (FALSE_WORDS.has(text)) return false;
  }
  throw new Error(`expected true or false, got ${describeValue(value)}`);
}

/**
 * A list of strings. A single string is split on commas, as the reference
 * does for list-typed keys set through env vars or flags; "" is the empty list.
 */
export function toStringList(value: unknown): string[] {
  if (typeof value === "string") return value === "" ? [] : value.split(",");
  if (Array.isArray(value)) {
    return value.map((item, i) => {
      try {
        return toStringValue(item);
      } catch {
        throw new Error(`item ${i}: expected a string, got ${describeValue(item)}`);
      }
    });
  }
  throw new Error(`expected a list of strings, got ${describeValue(value)}`);
}

/**
 * A string-to-string map. Keys are lower-cased (the reference's loader
 * lower-cases every key it reads). A string is read as "k1=v1,k2=v2".
 */
export function toStringMap(value: unknown): Record<string, string> {
  if (typeof value === "string") return parseKeyValueList(value);
  if (!isMapping(value)) throw new Error(`expected a mapping, got ${describeValue(value)}`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    try {
      out[k.toLowerCase()] = toStringValue(v);
    } catch {
      throw new Error(`key ${JSON.stringify(k)}: expected a string, got ${describeValue(v)}`);
    }
  }
  return out;
}

/** Parses "k1=v1,k2=v2" (the flag syntax for maps). */
export function parseKeyValueList(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === "") return out;
  for (const pair of text.split(",")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new Error(`expected key=value pairs, got ${JSON.stringify(pair)}`);
    out[pair.slice(0, eq).toLowerCase()] = pair.slice(eq + 1);
  }
  return out;
}

/**
 * The domain list: a list of mappings with `id` and `name` (keys matched
 * case-insensitively). A string (from an env var) is parsed as YAML, so
 * `[{id: dev, name: Dev}]` works there.
 */
export function toDomains(value: unknown): DomainConfig[] {
  let list = value;
  if (typeof value === "string") {
    try {
      list = parseYaml(value);
    } catch {
      throw new Error(`expected a list of {id, name} mappings, got ${describeValue(value)}`);
    }
  }
  if (!Array.isArray(list)) {
    throw new Error(`expected a list of {id, name} mappings, got ${describeValue(value)}`);
  }
  return list.map((item, i) => {
    if (!isMapping(item)) throw new Error(`item ${i}: expected a mapping, got ${describeValue(item)}`);
    const domain: DomainConfig = { id: "", name: "" };
    for (const [k, v] of Object.entries(item)) {
      const key = k.toLowerCase();
      if (key !== "id" && key !== "name") continue;
      try {
        domain[key] = toStringValue(v);
      } catch {
        throw new Error(`item ${i}: ${key}: expected a string, got ${describeValue(v)}`);
      }
    }
    if (domain.id === "") throw new Error(`item ${i}: id must not be empty`);
    return domain;
  });
}

/** Converts a raw value to the given kind, throwing an Error describing any mismatch. */
export function coerce<K extends FieldKind>(kind: K, value: unknown): KindValue[K];
export function coerce(kind: FieldKind, value: unknown): KindValue[FieldKind] {
  switch (kind) {
    case "string":
      return toStringValue(value);
    case "int":
      return toInt(value);
    case "float":
      return toFloat(value);
    case "bool":
      return toBool(value);
    case "duration":
      return durationToMs(value);
    case "stringList":
      return toStringList(value);
    case "stringMap":
      return toStringMap(value);
    case "domains":
      return toDomains(value);
  }
}
