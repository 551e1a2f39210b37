/**
 * Go-style durations ("300ms", "1h30m", "-1.5h", "0"), as accepted by Go's
 * time.ParseDuration, converted to milliseconds.
 */

const NANOS_PER_UNIT: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "\u00b5s": 1e3, // micro sign
  "\u03bcs": 1e3, // Greek small letter mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.Duration is an int64 count of nanoseconds. */
const MAX_NANOS = 2 ** 63;

/** One number followed by one unit, e.g. "1.5" + "h". */
const COMPONENT = /^(\d*)(?:\.(\d*))?([^\d.]*)/;

/**
 * Parses a Go duration string into nanoseconds. Throws an Error with a short
 * description when the text is not a valid duration.
 */
export function parseGoDurationNanos(text: string): number {
  const invalid = (why: string) => new Error(`invalid duration ${JSON.stringify(text)}: ${why}`);
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest[0] === "-" ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw invalid("empty");

  let total = 0;
  while (rest !== "") {
    const m = COMPONENT.exec(rest);
    const whole = m?.[1] ?? "";
    const frac = m?.[2] ?? "";
    const unit = m?.[3] ?? "";
    if (!m || (whole === "" && frac === "")) throw invalid("expected a number");
    if (unit === "") throw invalid("missing unit (ns, us, ms, s, m or h)");
    const scale = NANOS_PER_UNIT[unit];
    if (scale === undefined) throw invalid(`unknown unit ${JSON.stringify(unit)}`);
    const value = Number(`${whole || "0"}.${frac || "0"}`);
    total += value * scale;
    if (total >= MAX_NANOS) throw invalid("out of range");
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

/** Parses a Go duration string into milliseconds (possibly fractional). */
export function parseDuration(text: string): number {
  return parseGoDurationNanos(text) / 1e6;
}

/**
 * Converts a configuration value to milliseconds. Strings are Go duration
 * strings; plain numbers are nanoseconds, as Go decodes a bare number into a
 * time.Duration.
 */
export function durationToMs(value: unknown): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || Math.abs(value) >= MAX_NANOS) {
      throw new Error(`invalid duration ${String(value)}: out of range`);
    }
    return Math.trunc(value) / 1e6;
  }
  if (typeof value === "string") return parseDuration(value.trim() === "" ? "0" : value);
  throw new Error(`expected a duration such as "30s" or "1h", got ${describe(value)}`);
}

/** Formats milliseconds the way Go prints a duration, e.g. 5400000 → "1h30m0s". */
export function formatDuration(ms: number): string {
  let nanos = Math.round(ms * 1e6);
  if (nanos === 0) return "0s";
  const sign = nanos < 0 ? "-" : "";
  nanos = Math.abs(nanos);
  if (nanos < 1e9) {
    if (nanos < 1e3) return `${sign}${nanos}ns`;
    if (nanos < 1e6) return `${sign}${nanos / 1e3}\u00b5s`;
    return `${sign}${nanos / 1e6}ms`;
  }
  const hours = Math.floor(nanos / 3600e9);
  nanos -= hours * 3600e9;
  const minutes = Math.floor(nanos / 60e9);
  nanos -= minutes * 60e9;
  const seconds = Number((nanos / 1e9).toFixed(9));
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return JSON.stringify(value);
}
