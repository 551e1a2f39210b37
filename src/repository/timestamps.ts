/**
 * Timestamps travel through the repository as ISO-8601 UTC strings with
 * exactly six fractional digits ("2026-01-02T03:04:05.123456Z").
 *
 * Why strings: PostgreSQL keeps microseconds and list cursors compare on them;
 * a JS Date keeps only milliseconds and would skip or repeat rows. The fixed
 * width also makes the text sort chronologically, which is how SQLite (TEXT
 * columns) orders and compares them.
 */
export type Timestamp = string;

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Parses an RFC 3339 / PostgreSQL timestamp text into the canonical form; undefined when it is not one. */
export function parseTimestamp(text: string): Timestamp | undefined {
  const m = ISO_RE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = "", zone = "Z"] = m;
  const micros = (frac + "000000").slice(0, 6);
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || "0"));
  }
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) - offsetMinutes * 60_000;
  if (Number.isNaN(ms)) return undefined;
  return fromEpochMicros(BigInt(ms) * 1000n + BigInt(micros));
}

/** Microseconds since the Unix epoch → canonical text. */
export function fromEpochMicros(micros: bigint): Timestamp {
  const ms = micros / 1000n;
  const rem = Number(micros % 1000n);
  const date = new Date(Number(ms));
  const base = date.toISOString(); // yyyy-mm-ddThh:mm:ss.mmmZ
  return `${base.slice(0, 23)}${String(rem).padStart(3, "0")}Z`;
}

/** Canonical text → microseconds since the Unix epoch. */
export function toEpochMicros(ts: Timestamp): bigint {
  const ms = BigInt(Date.parse(ts.slice(0, 23) + "Z"));
  return ms * 1000n + BigInt(Number(ts.slice(23, 26)));
}

/** A protobuf Timestamp's parts → canonical text. */
export function fromSecondsNanos(seconds: bigint, nanos: number): Timestamp {
  return fromEpochMicros(seconds * 1_000_000n + BigInt(Math.floor(nanos / 1000)));
}

/** Canonical text → protobuf Timestamp parts. */
export function toSecondsNanos(ts: Timestamp): { seconds: bigint; nanos: number } {
  const micros = toEpochMicros(ts);
  let seconds = micros / 1_000_000n;
  let rest = micros % 1_000_000n;
  if (rest < 0n) {
    seconds -= 1n;
    rest += 1_000_000n;
  }
  return { seconds, nanos: Number(rest) * 1000 };
}
