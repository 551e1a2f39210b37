/**
 * Cron schedules with the grammar of the reference's scheduler
 * (robfig/cron v3 "standard" parser):
 *
 *   [CRON_TZ=<zone> | TZ=<zone>] <minute> <hour> <day-of-month> <month> <day-of-week>
 *   [CRON_TZ=<zone> | TZ=<zone>] @yearly | @annually | @monthly | @weekly | @daily | @midnight | @hourly
 *   [CRON_TZ=<zone> | TZ=<zone>] @every <Go duration>
 *
 * Fields accept `*`, `?`, numbers, ranges `a-b`, steps `/n` (`a/n` means
 * `a-max/n`), comma lists, month names (jan–dec) and weekday names
 * (sun–sat), case-insensitively; day-of-week is 0–6. Exactly five fields:
 * seconds fields, `L`, `W`, `#` and 7 for Sunday are rejected.
 * Day-of-month and day-of-week combine with OR when both are restricted and
 * with AND when either is `*`/`?` (Vixie cron).
 *
 * Parsing and validation are done here, so the accepted grammar is exactly
 * the reference's. Next fire times of field schedules are computed by croner
 * from an equivalent canonical pattern (explicit value lists), which also
 * handles time zones and daylight-saving transitions.
 */
import { Cron } from "croner";

export class CronSyntaxError extends Error {
  override name = "CronSyntaxError";
}

export interface CronSchedule {
  /** "fields" for minute/hour/… patterns and descriptors like @daily, "every" for @every. */
  readonly kind: "fields" | "every";
  /** IANA zone the fields are read in ("UTC" unless the spec names one). */
  readonly timezone: string;
  /** The first fire time strictly after `after`, on a whole second; undefined when there is none. */
  next(after: Date): Date | undefined;
}

interface Bounds {
  readonly min: number;
  readonly max: number;
  readonly names?: Readonly<Record<string, number>>;
}

const MINUTES: Bounds = { min: 0, max: 59 };
const HOURS: Bounds = { min: 0, max: 23 };
const DAYS_OF_MONTH: Bounds = { min: 1, max: 31 };
const MONTHS: Bounds = {
  min: 1,
  max: 12,
  names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 },
};
const DAYS_OF_WEEK: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };

/** The values one field selects; `star` when it was written as `*`/`?` (with no step > 1). */
interface FieldSet {
  readonly values: ReadonlySet<number>;
  readonly star: boolean;
}

function parseNumber(text: string): number {
  // Go's strconv.Atoi: optional sign, decimal digits only.
  if (!/^[+-]?\d+$/.test(text)) throw new CronSyntaxError(`failed to parse int from ${text}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new CronSyntaxError(`failed to parse int from ${text}: value out of range`);
  if (n < 0) throw new CronSyntaxError(`negative number (${n}) not allowed: ${text}`);
  return n;
}

function parseValue(text: string, bounds: Bounds): number {
  const named = bounds.names?.[text.toLowerCase()];
  return named ?? parseNumber(text);
}

function parseRange(expr: string, bounds: Bounds): FieldSet {
  const rangeAndStep = expr.split("/");
  const lowAndHigh = rangeAndStep[0].split("-");
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === "*" || lowAndHigh[0] === "?") {
    start = bounds.min;
    end = bounds.max;
    star = true;
  } else {
    start = parseValue(lowAndHigh[0], bounds);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseValue(lowAndHigh[1], bounds);
    else throw new CronSyntaxError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = parseNumber(rangeAndStep[1]);
    if (lowAndHigh.length === 1) end = bounds.max; // "N/step" means "N-max/step"
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) {
    throw new CronSyntaxError(`too many slashes: ${expr}`);
  }
  if (start < bounds.min) throw new CronSyntaxError(`beginning of range (${start}) below minimum (${bounds.min}): ${expr}`);
  if (end > bounds.max) throw new CronSyntaxError(`end of range (${end}) above maximum (${bounds.max}): ${expr}`);
  if (start > end) throw new CronSyntaxError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronSyntaxError(`step of range should be a positive number: ${expr}`);
  const values = new Set<number>();
  for (let v = start; v <= end; v += step) values.add(v);
  return { values, star };
}

function parseField(field: string, bounds: Bounds): FieldSet {
  const values = new Set<number>();
  let star = false;
  for (const part of field.split(",").filter((p) => p !== "")) {
    const r = parseRange(part, bounds);
    for (const v of r.values) values.add(v);
    star ||= r.star;
  }
  return { values, star };
}

function all(bounds: Bounds): FieldSet {
  return parseRange("*", bounds);
}

function only(value: number): FieldSet {
  return { values: new Set([value]), star: false };
}

const DESCRIPTORS: Readonly<Record<string, readonly FieldSet[]>> = {
  // minute, hour, day-of-month, month, day-of-week
  "@yearly": [only(0), only(0), only(1), only(1), all(DAYS_OF_WEEK)],
  "@annually": [only(0), only(0), only(1), only(1), all(DAYS_OF_WEEK)],
  "@monthly": [only(0), only(0), only(1), all(MONTHS), all(DAYS_OF_WEEK)],
  "@weekly": [only(0), only(0), all(DAYS_OF_MONTH), all(MONTHS), only(0)],
  "@daily": [only(0), only(0), all(DAYS_OF_MONTH), all(MONTHS), all(DAYS_OF_WEEK)],
  "@midnight": [only(0), only(0), all(DAYS_OF_MONTH), all(MONTHS), all(DAYS_OF_WEEK)],
  "@hourly": [only(0), all(HOURS), all(DAYS_OF_MONTH), all(MONTHS), all(DAYS_OF_WEEK)],
};

// ---------------------------------------------------------------------------
// Go durations (time.ParseDuration) for @every

const NS_PER_UNIT: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  "\u00b5s": 1_000n,
  "\u03bcs": 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_DURATION_NS = 2n ** 63n - 1n;

/** Go's time.ParseDuration, in nanoseconds ("1h30m", "1.5s", "-2m", "0"). */
export function parseGoDuration(text: string): bigint {
  const invalid = () => new CronSyntaxError(`time: invalid duration ${JSON.stringify(text)}`);
  let rest = text;
  let negative = false;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    negative = rest.startsWith("-");
    rest = rest.slice(1);
  }
  if (rest === "0") return 0n;
  if (rest === "") throw invalid();
  let total = 0n;
  const component = /^(\d*)(?:\.(\d*))?([^\d.]+)/;
  while (rest !== "") {
    const m = component.exec(rest);
    if (!m || (m[1] === "" && (m[2] ?? "") === "")) throw invalid();
    const unitText = /^[^\d.]+/.exec(m[3])![0];
    const unit = NS_PER_UNIT[unitText];
    if (unit === undefined) throw new CronSyntaxError(`time: unknown unit ${JSON.stringify(unitText)} in duration ${JSON.stringify(text)}`);
    const whole = BigInt(m[1] === "" ? "0" : m[1]);
    const fraction = m[2] ?? "";
    let value = whole * unit;
    if (fraction !== "") value += (BigInt(fraction) * unit) / 10n ** BigInt(fraction.length);
    total += value;
    if (total > MAX_DURATION_NS) throw invalid();
    rest = rest.slice(m[0].length);
  }
  return negative ? -total : total;
}

// ---------------------------------------------------------------------------
// Time zones

let zoneNames: Map<string, string> | undefined;

/** Resolves a Go time.LoadLocation name to an IANA zone Intl accepts; throws when unknown. */
export function resolveTimezone(name: string): string {
  if (name === "" || name === "UTC") return "UTC";
  if (name === "Local") return Intl.DateTimeFormat().resolvedOptions().timeZone;
  // Offsets ("+01:00") and relative paths are not zone names for Go either.
  if (/^[+-]/.test(name) || name.includes("..") || /[\s:]/.test(name)) {
    throw new CronSyntaxError(`provided bad location ${name}: unknown time zone ${name}`);
  }
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
  } catch {
    throw new CronSyntaxError(`provided bad location ${name}: unknown time zone ${name}`);
  }
  // Intl ignores case, Go's zone database does not.
  zoneNames ??= new Map(Intl.supportedValuesOf("timeZone").map((z) => [z.toLowerCase(), z]));
  const canonical = zoneNames.get(name.toLowerCase());
  if (canonical !== undefined && canonical !== name) {
    throw new CronSyntaxError(`provided bad location ${name}: unknown time zone ${name}`);
  }
  return name;
}

// ---------------------------------------------------------------------------
// Schedules

class EverySchedule implements CronSchedule {
  readonly kind = "every";
  readonly timezone = "UTC";
  constructor(readonly delayMs: number) {}

  next(after: Date): Date {
    // Adds the delay to the time cut to its whole second.
    const t = after.getTime();
    return new Date(t - (((t % 1000) + 1000) % 1000) + this.delayMs);
  }
}

function render(set: FieldSet): string {
  if (set.star) return "*";
  return [...set.values].sort((a, b) => a - b).join(",");
}

class FieldSchedule implements CronSchedule {
  readonly kind = "fields";
  private readonly cron: Cron | undefined;

  constructor(fields: readonly FieldSet[], readonly timezone: string) {
    // A field whose list is empty (",") never matches.
    if (fields.some((f) => f.values.size === 0)) return;
    const pattern = ["0", ...fields.map(render)].join(" ");
    this.cron = new Cron(pattern, { timezone, mode: "6-part", domAndDow: false, paused: true });
  }

  next(after: Date): Date | undefined {
    const next = this.cron?.nextRun(after);
    return next ?? undefined;
  }
}

/**
 * Parses a schedule spec (see the file comment). Throws CronSyntaxError with a
 * message close to the reference's when the spec is not valid.
 */
export function parseCron(spec: string): CronSchedule {
  if (spec.length === 0) throw new CronSyntaxError("empty spec string");
  let text = spec;
  let timezone = "UTC";
  if (text.startsWith("TZ=") || text.startsWith("CRON_TZ=")) {
    const space = text.indexOf(" ");
    if (space < 0) throw new CronSyntaxError(`missing schedule after time zone: ${spec}`);
    const zone = text.slice(text.indexOf("=") + 1, space);
    timezone = resolveTimezone(zone);
    text = text.slice(space).trim();
  }
  if (text.startsWith("@")) {
    const fields = DESCRIPTORS[text];
    if (fields) return new FieldSchedule(fields, timezone);
    if (text.startsWith("@every ")) {
      let ns: bigint;
      try {
        ns = parseGoDuration(text.slice("@every ".length));
      } catch (error) {
        throw new CronSyntaxError(`failed to parse duration ${text}: ${(error as Error).message}`);
      }
      // Less than a second runs every second; fractions of a second are dropped.
      let seconds = ns / 1_000_000_000n;
      if (seconds < 1n) seconds = 1n;
      return new EverySchedule(Number(seconds) * 1000);
    }
    throw new CronSyntaxError(`unrecognized descriptor: ${text}`);
  }
  const parts = text.split(/\s+/).filter((p) => p !== "");
  if (parts.length !== 5) {
    throw new CronSyntaxError(`expected exactly 5 fields, found ${parts.length}: [${parts.join(" ")}]`);
  }
  const fields = [
    parseField(parts[0], MINUTES),
    parseField(parts[1], HOURS),
    parseField(parts[2], DAYS_OF_MONTH),
    parseField(parts[3], MONTHS),
    parseField(parts[4], DAYS_OF_WEEK),
  ];
  return new FieldSchedule(fields, timezone);
}

/** The spec the reference builds from a structured cron: `CRON_TZ=<tz> <expr>` when a zone is given. */
export function cronSpec(expression: string, timezone: string): string {
  return timezone !== "" ? `CRON_TZ=${timezone} ${expression}` : expression;
}
