/**
 * The bigrun group's rows (targets of issue 17): the port's bidi streams
 * against B4 / B4-pg measured in the same pair, and the port's own figures
 * (rates per tenth, CPU growth, RSS, watcher lag, snapshot and list walk)
 * against absolute targets.
 */
import type { BigrunResult, StreamResult } from "./bigrun.js";
import { median, round } from "./stats.js";

export type BigrunDb = "sqlite" | "postgres";

export interface BigrunRun {
  pair: number;
  db: BigrunDb;
  children: number;
  /** cmp: the build named by BENCH_COMPARE_ENTRY (before/after figures). */
  server: "port" | "baseline" | "cmp";
  result: Partial<BigrunResult> & Pick<BigrunResult, "record" | "update" | "events" | "cpuUsPerItem" | "peakRssMb" | "children">;
}

export interface BigrunRow {
  id: string;
  label: string;
  baseline: string;
  target: string;
  baseMedian: number;
  portMedian: number;
  ratios: number[];
  ratio: number;
  errors: number;
  status: "PASS" | "FAIL" | "SKIP" | "INFO";
  note?: string;
}

const STREAMS = [
  ["record", "RecordActionStream"],
  ["update", "UpdateActionStatusStream"],
  ["events", "RecordActionEventStream"],
] as const;

function errorsOf(r: BigrunRun["result"]): number {
  return r.record.errors + r.update.errors + r.events.errors;
}

function empty(id: string, label: string, baseline: string, target: string, note?: string): BigrunRow {
  return { id, label, baseline, target, baseMedian: NaN, portMedian: NaN, ratios: [], ratio: NaN, errors: 0, status: "SKIP", note };
}

/** Rows of one database at `big` children (`small` for the CPU growth row). */
export function bigrunRows(runs: BigrunRun[], db: BigrunDb, small: number, big: number, skipped: string | undefined): BigrunRow[] {
  const b4 = db === "sqlite" ? "B4" : "B4-pg";
  const tag = db === "sqlite" ? "SQLite" : "PostgreSQL";
  const n = big.toLocaleString("en-US");
  const mine = runs.filter((r) => r.db === db);
  const pairs = [...new Set(mine.map((r) => r.pair))].sort((a, b) => a - b);
  const at = (pair: number, children: number, server: BigrunRun["server"]) =>
    mine.find((r) => r.pair === pair && r.children === children && r.server === server)?.result;
  const rows: BigrunRow[] = [];

  // Port ÷ baseline per pair.
  const versus = (id: string, label: string, target: string, op: ">=" | "<=" | "info", pick: (r: BigrunRun["result"]) => number) => {
    const row = empty(id, label, b4, op === "info" ? "-" : target, skipped);
    if (skipped) return rows.push(row);
    const bv: number[] = [];
    const pv: number[] = [];
    for (const pair of pairs) {
      const p = at(pair, big, "port");
      const b = at(pair, big, "baseline");
      if (!p || !b) continue;
      row.errors += errorsOf(p) + errorsOf(b);
      bv.push(pick(b));
      pv.push(pick(p));
      row.ratios.push(round(pick(p) / pick(b), 3));
    }
    if (row.ratios.length === 0) return rows.push({ ...row, note: "no measurements" });
    const ratio = median(row.ratios);
    const limit = Number(target.replace(/[^0-9.]/g, ""));
    const met = op === ">=" ? ratio >= limit : ratio <= limit;
    rows.push({
      ...row,
      note: undefined,
      baseMedian: round(median(bv), 2),
      portMedian: round(median(pv), 2),
      ratio: round(ratio, 3),
      status: op === "info" ? "INFO" : met && row.errors === 0 ? "PASS" : "FAIL",
    });
  };
  // The port alone, per pair, against an absolute target.
  const alone = (id: string, label: string, target: string, op: ">=" | "<=" | "info", pick: (pair: number) => number | undefined, baseline = "absolute") => {
    const row = empty(id, label, baseline, op === "info" ? "-" : target, skipped);
    if (skipped) return rows.push(row);
    for (const pair of pairs) {
      const v = pick(pair);
      if (v !== undefined) row.ratios.push(round(v, 3));
    }
    if (row.ratios.length === 0) return rows.push({ ...row, note: "no measurements" });
    const value = median(row.ratios);
    const limit = Number(target.replace(/[^0-9.]/g, ""));
    const met = op === ">=" ? value >= limit : value <= limit;
    rows.push({ ...row, note: undefined, portMedian: round(value, 2), ratio: round(value, 3), status: op === "info" ? "INFO" : met ? "PASS" : "FAIL" });
  };

  for (const [key, name] of STREAMS) {
    versus(`bigrun-${db}-${key}-ips`, `bigrun ${tag}, ${n} children, 20 watchers: ${name} items/s`, ">= 0.5", ">=", (r) => (r[key] as StreamResult).itemsPerSec);
  }
  for (const [key, name] of STREAMS) {
    versus(`bigrun-${db}-${key}-ack-p99`, `context: ${name} acknowledgement p99`, "-", "info", (r) => (r[key] as StreamResult).ackP99Ms);
  }
  const port = (pair: number, children = big) => at(pair, children, "port");
  const lastOverFirst = (s: StreamResult) => s.tenths[9] / s.tenths[0];
  alone(`bigrun-${db}-tenths`, `same: rate in the last tenth vs the first (min over the streams)`, ">= 0.8", ">=", (pair) => {
    const p = port(pair);
    return p && Math.min(lastOverFirst(p.record), lastOverFirst(p.update), lastOverFirst(p.events));
  }, "first tenth");
  alone(`bigrun-${db}-cpu-growth`, `same: server CPU per item, ${n} vs ${small.toLocaleString("en-US")} children`, "<= 1.2", "<=", (pair) => {
    const p = port(pair);
    const s = port(pair, small);
    return p && s ? p.cpuUsPerItem / s.cpuUsPerItem : undefined;
  }, `${small.toLocaleString("en-US")} children`);
  alone(`bigrun-${db}-rss`, `same: server peak RSS (MiB)`, "<= 250", "<=", (pair) => port(pair)?.peakRssMb);
  alone(`bigrun-${db}-rss-b4`, `context: ${b4} peak RSS (MiB)`, "-", "info", (pair) => at(pair, big, "baseline")?.peakRssMb);
  alone(`bigrun-${db}-lag-p99`, `same: watcher lag p99 (ms, SUCCEEDED shown − acknowledged)`, "<= 1000", "<=", (pair) => port(pair)?.lagP99Ms);
  alone(`bigrun-${db}-lag-p50`, `context: watcher lag p50 (ms)`, "-", "info", (pair) => port(pair)?.lagP50Ms);
  alone(`bigrun-${db}-converge`, `context: convergence after the last update (ms)`, "-", "info", (pair) => port(pair)?.convergeMs);
  alone(`bigrun-${db}-exact`, `same: WatchActions streams holding the exact final state (%)`, ">= 100", ">=", (pair) => {
    const e = port(pair)?.watchersExact;
    if (!e) return undefined;
    const [a, b] = e.split("/").map(Number);
    return (100 * a) / b;
  });
  alone(`bigrun-${db}-snapshot`, `same: fresh WatchActions snapshot of the run (ms)`, "<= 300", "<=", (pair) => port(pair)?.snapshotMs);
  alone(`bigrun-${db}-listwalk`, `same: full ListActions walk, pages of 200 (ms)`, "<= 500", "<=", (pair) => port(pair)?.listWalkMs);
  alone(`bigrun-${db}-cpu`, `context: server CPU per item (µs), ${n} children`, "-", "info", (pair) => port(pair)?.cpuUsPerItem);
  return rows;
}
