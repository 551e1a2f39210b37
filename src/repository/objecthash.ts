/**
 * objecthash over "Common JSON" values, as implemented by the Go package
 * github.com/benlaurie/objecthash (the version the reference's pbhash uses):
 * SHA-256 over a one-letter type tag and the value's bytes; lists hash the
 * concatenation of their items' hashes, objects the concatenation of
 * (key hash, value hash) pairs sorted by key hash; every number is a float
 * normalised to sign, binary exponent and mantissa bits.
 */
import { createHash } from "node:crypto";

/** The value tree Go's encoding/json builds from JSON text (numbers are float64). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export class ObjectHashError extends Error {
  override name = "ObjectHashError";
}

function sha256(tag: string, ...parts: Uint8Array[]): Buffer {
  const h = createHash("sha256");
  h.update(tag, "latin1");
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * The normalised text objecthash hashes for a float: sign, binary exponent,
 * then the mantissa bits, e.g. 1.5 ⇒ "+1:011". Halving and doubling are exact
 * in binary floating point, so this reproduces the Go loop bit for bit.
 */
export function normalizeFloat(value: number): string {
  if (value === 0) return "+0:";
  let f = value;
  let s = "+";
  if (f < 0) {
    s = "-";
    f = -f;
  }
  let e = 0;
  while (f > 1) {
    f /= 2;
    e++;
  }
  while (f <= 0.5) {
    f *= 2;
    e--;
  }
  s += `${e}:`;
  if (f > 1 || f <= 0.5) throw new ObjectHashError(`cannot normalise float ${value}`);
  while (f !== 0) {
    if (f >= 1) {
      s += "1";
      f--;
    } else {
      s += "0";
    }
    if (f >= 1 || s.length >= 1000) throw new ObjectHashError(`cannot normalise float ${value}`);
    f *= 2;
  }
  return s;
}

/** objecthash of a Common JSON value (32 bytes). */
export function objectHash(value: JsonValue): Buffer {
  if (value === null) return sha256("n");
  switch (typeof value) {
    case "boolean":
      return sha256("b", Buffer.from(value ? "1" : "0", "latin1"));
    case "number": {
      if (Number.isNaN(value)) return sha256("f", Buffer.from("NaN", "latin1"));
      if (value === Infinity) return sha256("f", Buffer.from("Infinity", "latin1"));
      if (value === -Infinity) return sha256("f", Buffer.from("-Infinity", "latin1"));
      return sha256("f", Buffer.from(normalizeFloat(value), "latin1"));
    }
    case "string":
      return sha256("u", Buffer.from(value, "utf8"));
    default:
      break;
  }
  if (Array.isArray(value)) return sha256("l", ...value.map(objectHash));
  const entries = Object.keys(value).map((key) => ({ k: objectHash(key), v: objectHash(value[key]) }));
  entries.sort((a, b) => Buffer.compare(a.k, b.k));
  return sha256("d", ...entries.flatMap((e) => [e.k, e.v]));
}

/** objecthash of JSON text, read as Go reads it (numbers become float64). */
export function commonJsonHash(json: string): Buffer {
  return objectHash(JSON.parse(json) as JsonValue);
}
