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

/**
 * PostgreSQL's text for a UTC timestamp (the service's sessions run with
 * TimeZone=UTC): "2026-01-02 03:04:05.123456+00", fraction optional.
 */
const PG_UTC_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.(\d{1,6}))?\+00$/;

/** Parses an RFC 3339 / PostgreSQL timestamp text into the canonical form; undefined when it is not one. */
export function parseTimestamp(text: string): Timestamp | undefined {
  // Every row read from PostgreSQL comes this way: rearranged, no date arithmetic.
  const utc = PG_UTC_RE.exec(text);
  if (utc) return `${text.slice(0, 10)}T${text.slice(11, 19)}.${((utc[1] ?? "") + "000000").slice(0, 6)}Z`;
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
  // Floor division: before 1970 the remainder must still count forward.
  let ms = micros / 1000n;
  let rem = Number(micros % 1000n);
  if (rem < 0) {
    ms -= 1n;
    rem += 1000;
  }
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
  // Whole seconds fit a double exactly; only the result becomes a bigint.
  const ms = Date.parse(`${ts.slice(0, 19)}Z`);
  const micros6 = ts.slice(20, 26);
  if (!Number.isNaN(ms) && ts.length === 27 && ts[19] === "." && /^\d{6}$/.test(micros6)) {
    return { seconds: BigInt(Math.floor(ms / 1000)), nanos: Number(micros6) * 1000 };
  }
  const micros = toEpochMicros(ts);
  let seconds = micros / 1_000_000n;
  let rest = micros % 1_000_000n;
  if (rest < 0n) {
    seconds -= 1n;
    rest += 1_000_000n;
  }
  return { seconds, nanos: Number(rest) * 1000 };
}
