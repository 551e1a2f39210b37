/**
 * `make bench`: the port against baselines measured in the same run on the
 * same machine (see bench/README.md). Prints a table and writes it, with every
 * raw measurement, to bench/results/<timestamp>.json.
 *
 * Environment:
 *   BENCH_SECONDS   measured seconds per load phase (default 2.5)
 *   BENCH_WARMUP    warm-up seconds before each phase (default 0.5)
 *   BENCH_FIRST_WARMUP  warm-up before a server's first phase (default 1.5)
 *   BENCH_PAIRS     baseline/port pairs per row (default 5)
 *   BENCH_QUICK=1   smoke run: 1 pair, 1 s phases, 10,000 runs for growth
 *   BENCH_ONLY      comma list of groups to run: sqlite, pg, growth, watch, bigrun (default sqlite,pg,growth)
 *   BENCH_BIGRUN_SIZES / BENCH_BIGRUN_DBS / BENCH_BIGRUN_PAIRS / BENCH_BIGRUN_INFLIGHT  bigrun: children per
 *                   run (default 1000,10000), databases (sqlite,postgres), pairs (3), items in flight (256)
 *   BENCH_WATCH_STREAMS / BENCH_WATCH_SECONDS / BENCH_WATCH_INTERVAL_MS  watch rows: stream
 *                   counts (default 100,1000), CreateRun window (5 s) and interval (10 ms);
 *   BENCH_WATCH_DRAIN_SECONDS  longest wait after the window for every stream to catch up (30)
 *   BENCH_GROWTH_RUNS / BENCH_GROWTH_ACTIONS / BENCH_GROWTH_EVENTS  growth sizes
 *   BENCH_GROWTH_DBS  sqlite,postgres (default sqlite)
 *   BENCH_SERVERS   development aid: only these servers (B0,B1,B2,B3,B3-pg,port-sqlite,port-pg)
 *   BENCH_PHASES    development aid: only these phases (proto-c16,proto-c1,json-c16,proto-c64)
 *   BENCH_COMPARE_ENTRY  a second build of the port run in the same pairs (cmp-*), e.g. the
 *                   code before a change: its rows are printed against the same baselines
 *   BENCH_PORT_ENTRY  another build of the port to run instead of dist/main.js (experiments)
 *   BENCH_BASELINE_NODE_ARGS  the same for the baselines
 *   BENCH_PORT_RUNTIME=none  start the port with Node's defaults, not scripts/service-runtime.env
 *   BENCH_PORT_NODE_ARGS  extra node flags for the port (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
 *   BENCH_STRICT=1  exit 1 when a target fails (default: report only)
 *   BENCH_RESULTS_DIR  where the JSON goes (default bench/results)
 *   BENCH_KEEP=1    keep the temp directory (databases, logs)
 *   BENCH_PG_HOST / BENCH_PG_PORT / BENCH_PG_USER  PostgreSQL (default 127.0.0.1:5432, postgres)
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startActionsStub, type ActionsStub } from "./lib/actions-stub.js";
import { runBigrun } from "./lib/bigrun.js";
import { bigrunRows, type BigrunDb, type BigrunRun } from "./lib/bigrun-rows.js";
import { growthRows, runGrowth, type GrowthResult } from "./lib/growth.js";
import { runLoad, type LoadResult } from "./lib/load.js";
import { rssKb } from "./lib/proc.js";
import { runNamer } from "./lib/request.js";
import { runWatch, type WatchResult } from "./lib/watch.js";
import {
  createPgDatabase,
  dropPgDatabase,
  freePort,
  mkdirp,
  pgTarget,
  pgUnavailable,
  portConfigYaml,
  sleep,
  startServer,
  type ServerProcess,
} from "./lib/servers.js";
import { median, round } from "./lib/stats.js";
import { serviceRuntime } from "./lib/runtime.js";

// bench/.build/driver.js → repository root
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const PORT_ENTRY = process.env.BENCH_PORT_ENTRY ? resolve(process.env.BENCH_PORT_ENTRY) : join(ROOT, "dist/main.js");
const BASELINE_ENTRY = join(ROOT, "bench/.build/baseline.js");
const MIGRATIONS = join(ROOT, "migrations");

const env = process.env;
const quick = env.BENCH_QUICK === "1";
const num = (name: string, fallback: number) => (env[name] !== undefined && env[name] !== "" ? Number(env[name]) : fallback);
const list = (name: string, fallback: string) => (env[name] || fallback).split(",").map((s) => s.trim()).filter(Boolean);
const settings = {
  seconds: num("BENCH_SECONDS", quick ? 1 : 2.5),
  warmupSeconds: num("BENCH_WARMUP", quick ? 0.3 : 0.5),
  /** The first phase after a start also warms the JIT up. */
  firstWarmupSeconds: num("BENCH_FIRST_WARMUP", quick ? 0.5 : 1.5),
  pairs: num("BENCH_PAIRS", quick ? 1 : 5),
  // The watch group (issue 6) runs on its own: `make bench-watch` (it alone takes several minutes).
  only: list("BENCH_ONLY", "sqlite,pg,growth"),
  growth: {
    runs: num("BENCH_GROWTH_RUNS", quick ? 10_000 : 100_000),
    actions: list("BENCH_GROWTH_ACTIONS", quick ? "100,1000" : "100,1000,10000").map(Number),
    events: list("BENCH_GROWTH_EVENTS", quick ? "5,500" : "5,50,500").map(Number),
    repeats: num("BENCH_GROWTH_REPEATS", quick ? 5 : 15),
    dbs: list("BENCH_GROWTH_DBS", "sqlite"),
  },
  watch: {
    streams: list("BENCH_WATCH_STREAMS", "100,1000").map(Number),
    seconds: num("BENCH_WATCH_SECONDS", 5),
    intervalMs: num("BENCH_WATCH_INTERVAL_MS", 10),
    openSeconds: 30,
    drainSeconds: num("BENCH_WATCH_DRAIN_SECONDS", 30),
  },
  bigrun: {
    sizes: list("BENCH_BIGRUN_SIZES", quick ? "200,1000" : "1000,10000").map(Number),
    dbs: list("BENCH_BIGRUN_DBS", "sqlite,postgres") as BigrunDb[],
    pairs: num("BENCH_BIGRUN_PAIRS", quick ? 1 : 3),
    inFlight: num("BENCH_BIGRUN_INFLIGHT", 256),
    /** Diagnosis: BENCH_BIGRUN_WATCHERS=0 runs the port without watchers (its watcher rows are then empty). */
    watchActions: num("BENCH_BIGRUN_WATCHERS", 10),
    watchDetails: num("BENCH_BIGRUN_WATCHERS", 10),
  },
  portNodeArgs: (env.BENCH_PORT_NODE_ARGS ?? "").split(/\s+/).filter(Boolean),
  baselineNodeArgs: (env.BENCH_BASELINE_NODE_ARGS ?? "").split(/\s+/).filter(Boolean),
  /** The service's runtime settings (scripts/service-runtime.env), or Node's defaults with BENCH_PORT_RUNTIME=none. */
  portRuntime: serviceRuntime(ROOT, env.BENCH_PORT_RUNTIME),
  idleSettleMs: 1000,
};

const log = (line: string) => process.stdout.write(`${line}\n`);

// --- servers ------------------------------------------------------------------------

/** cmp-*: the build named by BENCH_COMPARE_ENTRY, run in the same pairs (before/after figures). */
type ServerKind = "B0" | "B1" | "B2" | "B3" | "B3-pg" | "B4" | "B4-pg" | "fanout" | "port-sqlite" | "port-pg" | "cmp-sqlite" | "cmp-pg";
const COMPARE_ENTRY = process.env.BENCH_COMPARE_ENTRY ? resolve(process.env.BENCH_COMPARE_ENTRY) : undefined;
const isPort = (kind: ServerKind) => kind.startsWith("port") || kind.startsWith("cmp");

interface ServerRun {
  pair: number;
  server: ServerKind;
  startupMs: number;
  /** VmRSS once started (migrations done) and idle for a second, MiB. */
  idleRssMb: number;
  phases: Record<string, LoadResult>;
}

let tmpRoot = "";
let stub: ActionsStub;
const pg = pgTarget();
let serial = 0;

interface Started {
  server: ServerProcess;
  dir: string;
  pgDb?: string;
  cleanup: () => Promise<void>;
}

async function startKind(kind: ServerKind): Promise<Started> {
  const dir = mkdirp(join(tmpRoot, `${String(++serial).padStart(3, "0")}-${kind}`));
  const port = await freePort();
  const logFile = join(dir, "server.log");
  const dataDir = mkdirp(join(dir, "data"));
  let pgDb: string | undefined;
  if (kind === "B2" || kind.endsWith("-pg")) {
    pgDb = `flyte_bench_${process.pid}_${serial}`;
    await createPgDatabase(pg, pgDb);
  }
  let args: string[];
  let nodeArgs: string[] = [];
  let serverEnv: Record<string, string> = {};
  if (isPort(kind)) {
    const config = join(dir, "config.yaml");
    writeFileSync(
      config,
      portConfigYaml({
        port,
        dataDir,
        actionsServiceUrl: stub.url,
        sqliteFile: kind.endsWith("-sqlite") ? join(dir, "runs.db") : undefined,
        pgDatabase: pgDb,
        pg,
      }),
    );
    args = [kind.startsWith("cmp") ? COMPARE_ENTRY! : PORT_ENTRY, "--config", config];
    nodeArgs = [...settings.portRuntime.nodeFlags, ...settings.portNodeArgs];
    serverEnv = settings.portRuntime.env;
  } else {
    args = [BASELINE_ENTRY, "--kind", kind.toLowerCase().replace("-", ""), "--port", String(port), "--migrations", MIGRATIONS, "--storage-prefix", `file://${dataDir}`];
    if (kind === "B1" || kind === "B3" || kind === "B4") args.push("--sqlite", join(dir, "runs.db"));
    if (kind === "B3" || kind === "B3-pg") args.push("--actions-url", stub.url);
    if (kind === "B2" || kind === "B3-pg" || kind === "B4-pg") args.push("--pg-db", pgDb!, "--pg-host", pg.host, "--pg-port", String(pg.port), "--pg-user", pg.user);
    nodeArgs = settings.baselineNodeArgs;
  }
  const server = await startServer({ label: kind, args, nodeArgs, env: serverEnv, port, logFile, cwd: dir });
  return {
    server,
    dir,
    pgDb,
    cleanup: async () => {
      await server.stop();
      if (pgDb) await dropPgDatabase(pg, pgDb);
    },
  };
}

interface PhaseSpec {
  name: string;
  json: boolean;
  concurrency: number;
}

const SQLITE_PHASES: PhaseSpec[] = [
  { name: "proto-c16", json: false, concurrency: 16 },
  { name: "proto-c1", json: false, concurrency: 1 },
  { name: "json-c16", json: true, concurrency: 16 },
  // Last, so that its peak RSS is the one at 64 in flight.
  { name: "proto-c64", json: false, concurrency: 64 },
];
// B3 (B1 + inputs.pb + Enqueue): the floor of the c16, c1 and c64 target rows (issue 18).
const B3_PHASES: PhaseSpec[] = [
  { name: "proto-c16", json: false, concurrency: 16 },
  { name: "proto-c1", json: false, concurrency: 1 },
  { name: "proto-c64", json: false, concurrency: 64 },
];
const PG_PHASES: PhaseSpec[] = [
  { name: "proto-c16", json: false, concurrency: 16 },
  { name: "proto-c1", json: false, concurrency: 1 },
];
// c1: a bare RPC round trip at 1 in flight, the floor under any CreateRun that makes one more call (Enqueue).
const B0_PHASES: PhaseSpec[] = [
  { name: "proto-c16", json: false, concurrency: 16 },
  { name: "proto-c1", json: false, concurrency: 1 },
];

/** BENCH_SERVERS narrows the servers run (development aid; rows then lack their pairs). */
function wanted(kind: ServerKind): boolean {
  const only = list("BENCH_SERVERS", "");
  return only.length === 0 || only.includes(kind);
}

/** BENCH_PHASES narrows the load phases run (development aid). */
function phasesWanted(phases: PhaseSpec[]): PhaseSpec[] {
  const only = list("BENCH_PHASES", "");
  return only.length === 0 ? phases : phases.filter((p) => only.includes(p.name));
}

async function measureServer(pair: number, kind: ServerKind, phases: PhaseSpec[]): Promise<ServerRun> {
  const { server, cleanup } = await startKind(kind);
  try {
    await sleep(settings.idleSettleMs);
    const idleRssMb = rssKb(server.pid) / 1024;
    const run: ServerRun = { pair, server: kind, startupMs: round(server.startupMs, 0), idleRssMb: round(idleRssMb, 1), phases: {} };
    const nextRunName = runNamer(`${serial.toString(36)}x`);
    for (const [i, p] of phasesWanted(phases).entries()) {
      const enq0 = stub.enqueued();
      const r = await runLoad({
        baseUrl: server.baseUrl,
        pid: server.pid,
        json: p.json,
        concurrency: p.concurrency,
        seconds: settings.seconds,
        warmupSeconds: i === 0 ? settings.firstWarmupSeconds : settings.warmupSeconds,
        nextRunName,
      });
      run.phases[p.name] = r;
      const enq = isPort(kind) || kind.startsWith("B3") ? ` enqueued ${stub.enqueued() - enq0}` : "";
      log(
        `  pair ${pair + 1} ${kind.padEnd(11)} ${p.name.padEnd(9)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  ` +
          `cpu ${r.serverCpuPct.toFixed(0)}% (main ${r.serverMainThreadCpuPct.toFixed(0)}%) ${r.serverCpuUsPerReq.toFixed(0)} µs/req  driver ${r.driverCpuUsPerReq.toFixed(0)} µs/req  postgres ${r.postgresCpuUsPerReq.toFixed(0)} µs/req  machine ${r.machineCpuUsPerReq.toFixed(0)} µs/req  peak ${r.serverPeakRssMb.toFixed(0)} MiB  errors ${r.errors}${enq}` +
          (r.firstError ? `  (${r.firstError})` : ""),
      );
    }
    log(`  pair ${pair + 1} ${kind.padEnd(11)} idle RSS ${run.idleRssMb} MiB, ready after ${run.startupMs} ms`);
    return run;
  } finally {
    await cleanup();
  }
}

/** One watch measurement: a fresh server, `streams` WatchRuns streams, CreateRun every interval. */
interface WatchRun extends WatchResult {
  pair: number;
  server: ServerKind;
}

async function measureWatch(pair: number, kind: ServerKind, streams: number): Promise<WatchRun> {
  const { server, cleanup } = await startKind(kind);
  try {
    await sleep(settings.idleSettleMs);
    const r = await runWatch({
      baseUrl: server.baseUrl,
      pid: server.pid,
      streams,
      seconds: settings.watch.seconds,
      intervalMs: settings.watch.intervalMs,
      openSeconds: settings.watch.openSeconds,
      drainSeconds: settings.watch.drainSeconds,
      nextRunName: runNamer(`${serial.toString(36)}w`),
    });
    log(
      `  pair ${pair + 1} ${kind.padEnd(11)} watch×${String(streams).padEnd(4)} delivered min ${(r.minDeliveredShare * 100).toFixed(1)}% of ${r.created} runs  ` +
        `${r.msgsPerSec.toFixed(0)} msg/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms (from the response: p50 ${r.fromResponseP50Ms.toFixed(2)} p99 ${r.fromResponseP99Ms.toFixed(2)})  ` +
        `cpu ${r.serverCpuUsPerRunItem.toFixed(0)} µs/run item (main thread ${r.serverMainThreadCpuPct.toFixed(0)}%), driver cpu ${r.driverCpuPct.toFixed(0)}%  RSS ${r.rssBeforeMb.toFixed(0)} → ${r.serverPeakRssMb.toFixed(0)} MiB  ` +
        `open ${r.streamsOpen}/${streams} in ${r.openMs.toFixed(0)} ms  errors ${r.createErrors}+${r.streamErrors}` + (r.firstError ? `  (${r.firstError})` : ""),
    );
    return { pair, server: kind, ...r };
  } finally {
    await cleanup();
  }
}

/** One bigrun measurement: a fresh server, one run of `children` children (see bench/lib/bigrun.ts). */
async function measureBigrun(pair: number, db: BigrunDb, children: number, server: BigrunRun["server"]): Promise<BigrunRun> {
  const kind: ServerKind = server === "baseline" ? (db === "sqlite" ? "B4" : "B4-pg") : `${server}-${db === "sqlite" ? "sqlite" : "pg"}`;
  const { server: proc, cleanup, dir } = await startKind(kind);
  try {
    await sleep(settings.idleSettleMs);
    log(`  pair ${pair + 1} ${kind.padEnd(11)} bigrun ${children} children:`);
    const port = server !== "baseline";
    const result = await runBigrun({
      baseUrl: proc.baseUrl,
      pid: proc.pid,
      children,
      inFlight: settings.bigrun.inFlight,
      watchActions: port ? settings.bigrun.watchActions : 0,
      watchDetails: port ? settings.bigrun.watchDetails : 0,
      createRun: port,
      // (the port creates its run through CreateRun either way)
      runName: `big${serial.toString(36)}`,
      storagePrefix: `file://${join(dir, "data")}`,
      log,
    });
    log(
      `  pair ${pair + 1} ${kind.padEnd(11)} cpu ${result.cpuUsPerItem} µs/item, peak ${result.peakRssMb} MiB` +
        (port ? `, lag p50 ${result.lagP50Ms} p99 ${result.lagP99Ms} ms, converged ${result.convergeMs} ms, snapshot ${result.snapshotMs} ms, list walk ${result.listWalkMs} ms (${result.listPages} pages)` : ""),
    );
    return { pair, db, children, server, result };
  } finally {
    await cleanup();
  }
}

type WatchMetric = "msgsPerSec" | "p50Ms" | "p99Ms" | "fromResponseP50Ms" | "serverCpuUsPerRunItem" | "rssBeforeMb" | "serverPeakRssMb" | "minDeliveredShare";

/** The watch rows of one stream count: port-sqlite (or `portKind`) ÷ fanout per pair (the delivered share absolute). */
function watchRows(watch: WatchRun[], streams: number, skipped: string | undefined, portKind: ServerKind = "port-sqlite"): RowResult[] {
  const specs: { id: string; label: string; metric: WatchMetric; max?: number }[] = [
    { id: `watch-${streams}-msgs`, label: `WatchRuns ×${streams}, CreateRun every ${settings.watch.intervalMs} ms: stream msgs/s`, metric: "msgsPerSec" },
    { id: `watch-${streams}-p50`, label: "same: create→receive p50 (from the request sent)", metric: "p50Ms" },
    // issue 18: p99 close to the bare fan-out at 100 streams
    { id: `watch-${streams}-p99`, label: "same: create→receive p99 (from the request sent)", metric: "p99Ms", max: streams === 100 ? 3 : undefined },
    { id: `watch-${streams}-p50-resp`, label: "same: create→receive p50 from the CreateRun response", metric: "fromResponseP50Ms" },
    { id: `watch-${streams}-cpu`, label: "same: server CPU per run received", metric: "serverCpuUsPerRunItem" },
    { id: `watch-${streams}-rss-before`, label: "same: server RSS before the streams", metric: "rssBeforeMb" },
    { id: `watch-${streams}-rss-peak`, label: "same: server RSS at peak", metric: "serverPeakRssMb" },
    { id: `watch-${streams}-share`, label: "same: updates delivered (min over streams)", metric: "minDeliveredShare" },
  ];
  return specs.map((spec) => {
    const share = spec.metric === "minDeliveredShare";
    const row: RowResult = { id: spec.id, label: spec.label, baseline: "fanout", target: share ? "= 100%" : spec.max ? `<= ${spec.max}×` : "-", baseMedian: NaN, portMedian: NaN, ratios: [], ratio: NaN, errors: 0, status: "SKIP", note: skipped };
    if (skipped) return row;
    const baseValues: number[] = [];
    const portValues: number[] = [];
    for (const pair of [...new Set(watch.map((w) => w.pair))].sort((a, b) => a - b)) {
      const b = watch.find((w) => w.pair === pair && w.server === "fanout" && w.streams === streams);
      const p = watch.find((w) => w.pair === pair && w.server === portKind && w.streams === streams);
      if (p) {
        row.errors += p.createErrors + p.streamErrors;
        portValues.push(share ? p[spec.metric] * 100 : p[spec.metric]);
      }
      if (b) {
        row.errors += b.createErrors + b.streamErrors;
        baseValues.push(share ? b[spec.metric] * 100 : b[spec.metric]);
      }
      // a baseline ≤ 0 (from the response: the message beat the CreateRun response) has no meaningful ratio
      if (b && p) row.ratios.push(share ? round(p[spec.metric] * 100, 3) : b[spec.metric] > 0 ? round(p[spec.metric] / b[spec.metric], 3) : NaN);
    }
    if (portValues.length === 0) return { ...row, note: "no measurements" };
    row.baseMedian = round(median(baseValues), 2);
    row.portMedian = round(median(portValues), 2);
    if (share) {
      // absolute: the worst pair's share, in %
      row.ratio = round(Math.min(...portValues), 3);
      row.status = row.ratio >= 100 && row.errors === 0 ? "PASS" : "FAIL";
    } else {
      row.ratio = round(median(row.ratios), 3);
      row.status = spec.max === undefined ? "INFO" : row.ratio <= spec.max && row.errors === 0 ? "PASS" : "FAIL";
    }
    return row;
  });
}

// --- rows --------------------------------------------------------------------------

type Metric = "rps" | "p50Ms" | "p99Ms" | "serverPeakRssMb" | "idleRssMb" | "driverCpuUsPerReq";

interface RowSpec {
  id: string;
  label: string;
  base: ServerKind;
  port: ServerKind;
  /** undefined for idleRssMb */
  phase?: string;
  metric: Metric;
  op: ">=" | "<=";
  target: number;
  group: "sqlite" | "pg";
  /** Context for the targets, not a target: reported as INFO. */
  info?: boolean;
}

const ROWS: RowSpec[] = [
  // issue 18: the targets against the floors that do the required work (B3 / B3-pg: the INSERT, the inputs
  // file and the awaited Enqueue, written plainly).
  { id: "b3-c16-rps", label: "CreateRun, SQLite, proto, 16 in flight: req/s", base: "B3", port: "port-sqlite", phase: "proto-c16", metric: "rps", op: ">=", target: 1.0, group: "sqlite" },
  { id: "b3-c64-rps", label: "CreateRun, SQLite, 64 in flight: req/s, no errors", base: "B3", port: "port-sqlite", phase: "proto-c64", metric: "rps", op: ">=", target: 1.0, group: "sqlite" },
  { id: "b3-c1-p50", label: "CreateRun, SQLite, 1 in flight: p50", base: "B3", port: "port-sqlite", phase: "proto-c1", metric: "p50Ms", op: "<=", target: 1.1, group: "sqlite" },
  { id: "b3pg-c16-rps", label: "CreateRun, PostgreSQL, 16 in flight: req/s", base: "B3-pg", port: "port-pg", phase: "proto-c16", metric: "rps", op: ">=", target: 1.0, group: "pg" },
  { id: "b3pg-c1-p50", label: "CreateRun, PostgreSQL, 1 in flight: p50", base: "B3-pg", port: "port-pg", phase: "proto-c1", metric: "p50Ms", op: "<=", target: 1.1, group: "pg" },
  { id: "rss-c64", label: "server RSS, peak at 64 in flight", base: "B1", port: "port-sqlite", phase: "proto-c64", metric: "serverPeakRssMb", op: "<=", target: 1.2, group: "sqlite" },
  { id: "idle-rss", label: "idle RSS after start-up and migrations", base: "B0", port: "port-sqlite", metric: "idleRssMb", op: "<=", target: 1.5, group: "sqlite" },
  // The first wave's rows against the one-INSERT servers: context now (issue 18 moved the targets to B3).
  { id: "sqlite-c16-rps", label: "context: CreateRun vs B1 (one INSERT), SQLite, 16 in flight: req/s", base: "B1", port: "port-sqlite", phase: "proto-c16", metric: "rps", op: ">=", target: NaN, group: "sqlite", info: true },
  { id: "sqlite-c16-p99", label: "context: same: p99 latency", base: "B1", port: "port-sqlite", phase: "proto-c16", metric: "p99Ms", op: "<=", target: NaN, group: "sqlite", info: true },
  { id: "sqlite-c1-p50", label: "context: CreateRun vs B1, 1 in flight: p50 latency", base: "B1", port: "port-sqlite", phase: "proto-c1", metric: "p50Ms", op: "<=", target: NaN, group: "sqlite", info: true },
  { id: "sqlite-c64-rps", label: "context: CreateRun vs B1, 64 in flight: req/s", base: "B1", port: "port-sqlite", phase: "proto-c64", metric: "rps", op: ">=", target: NaN, group: "sqlite", info: true },
  { id: "pg-c16-rps", label: "context: CreateRun vs B2 (one INSERT), PostgreSQL, 16 in flight: req/s", base: "B2", port: "port-pg", phase: "proto-c16", metric: "rps", op: ">=", target: NaN, group: "pg", info: true },
  { id: "pg-c1-p50", label: "context: CreateRun vs B2, PostgreSQL, 1 in flight: p50", base: "B2", port: "port-pg", phase: "proto-c1", metric: "p50Ms", op: "<=", target: NaN, group: "pg", info: true },
  { id: "json-c16-rps", label: "context: CreateRun, Connect JSON, 16 in flight: req/s vs B1 with JSON", base: "B1", port: "port-sqlite", phase: "json-c16", metric: "rps", op: ">=", target: NaN, group: "sqlite", info: true },
  // Context: what one more RPC round trip (the port's Enqueue) costs next to B1's whole request, and the CPU
  // the driver's executor stub spends on it on the same two cores.
  { id: "rpc-floor-c1", label: "context: a bare RPC (B0), 1 in flight: p50", base: "B1", port: "B0", phase: "proto-c1", metric: "p50Ms", op: "<=", target: NaN, group: "sqlite", info: true },
  { id: "b3-floor-c16-rps", label: "context: B3 (the required work alone) vs B1, 16 in flight: req/s", base: "B1", port: "B3", phase: "proto-c16", metric: "rps", op: ">=", target: NaN, group: "sqlite", info: true },
  { id: "b3-floor-c1-p50", label: "context: B3 vs B1, 1 in flight: p50", base: "B1", port: "B3", phase: "proto-c1", metric: "p50Ms", op: "<=", target: NaN, group: "sqlite", info: true },
  { id: "b3pg-floor-c16-rps", label: "context: B3-pg (the required work alone) vs B2, 16 in flight: req/s", base: "B2", port: "B3-pg", phase: "proto-c16", metric: "rps", op: ">=", target: NaN, group: "pg", info: true },
  { id: "b3pg-floor-c1-p50", label: "context: B3-pg vs B2, 1 in flight: p50", base: "B2", port: "B3-pg", phase: "proto-c1", metric: "p50Ms", op: "<=", target: NaN, group: "pg", info: true },
  { id: "driver-cpu-c16", label: "context: driver CPU per CreateRun (load + executor stub), 16 in flight", base: "B1", port: "port-sqlite", phase: "proto-c16", metric: "driverCpuUsPerReq", op: "<=", target: NaN, group: "sqlite", info: true },
];

interface RowResult {
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

function metricOf(run: ServerRun, spec: RowSpec): { value: number; errors: number } {
  if (spec.metric === "idleRssMb") return { value: run.idleRssMb, errors: 0 };
  const p = run.phases[spec.phase!];
  return p ? { value: p[spec.metric], errors: p.errors } : { value: NaN, errors: 0 };
}

function evaluate(spec: RowSpec, runs: ServerRun[], skipped: string | undefined): RowResult {
  const target = spec.info ? "-" : `${spec.op} ${spec.target}${spec.metric === "rps" ? "" : "×"}`;
  const base: RowResult = { id: spec.id, label: spec.label, baseline: spec.base, target, baseMedian: NaN, portMedian: NaN, ratios: [], ratio: NaN, errors: 0, status: "SKIP" };
  if (skipped) return { ...base, note: skipped };
  const pairs = [...new Set(runs.map((r) => r.pair))].sort((a, b) => a - b);
  const baseValues: number[] = [];
  const portValues: number[] = [];
  let errors = 0;
  for (const pair of pairs) {
    const b = runs.find((r) => r.pair === pair && r.server === spec.base);
    const p = runs.find((r) => r.pair === pair && r.server === spec.port);
    if (!b || !p) continue;
    const bm = metricOf(b, spec);
    const pm = metricOf(p, spec);
    errors += bm.errors + pm.errors;
    baseValues.push(bm.value);
    portValues.push(pm.value);
    base.ratios.push(round(pm.value / bm.value, 3));
  }
  if (base.ratios.length === 0) return { ...base, note: "no measurements" };
  const ratio = median(base.ratios);
  const met = spec.op === ">=" ? ratio >= spec.target : ratio <= spec.target;
  return {
    ...base,
    baseMedian: round(median(baseValues), 2),
    portMedian: round(median(portValues), 2),
    ratio: round(ratio, 3),
    errors,
    status: spec.info ? "INFO" : met && errors === 0 ? "PASS" : "FAIL",
  };
}

function listRunsRow(growth: GrowthResult[], skipped: string | undefined): RowResult {
  const g = growth.find((x) => x.db === "sqlite") ?? growth[0];
  const row: RowResult = {
    id: "listruns-deep",
    label: g ? `ListRuns page at offset ${g.listRuns.points.at(-1)!.offset.toLocaleString("en-US")} vs first page (${g.db})` : "ListRuns page at offset 99,900 vs first page",
    baseline: "first page",
    target: "<= 1.5×",
    baseMedian: NaN,
    portMedian: NaN,
    ratios: [],
    ratio: NaN,
    errors: 0,
    status: "SKIP",
    note: skipped,
  };
  if (!g) return row;
  const first = g.listRuns.points[0].ms;
  const deep = g.listRuns.points.at(-1)!.ms;
  const ratio = median(g.listRuns.deepOverFirst);
  return { ...row, baseMedian: first, portMedian: deep, ratios: g.listRuns.deepOverFirst.map((r) => round(r, 3)), ratio: round(ratio, 3), status: ratio <= 1.5 ? "PASS" : "FAIL", note: undefined };
}

// --- output ------------------------------------------------------------------------

function fmt(v: number, digits = 2): string {
  if (!Number.isFinite(v)) return "-";
  return v >= 100 ? v.toFixed(0) : v.toFixed(digits);
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(headers), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

function unitOf(id: string): string {
  if (id.includes("msgs")) return "msg/s";
  if (id.endsWith("-ips")) return "items/s";
  if (id.endsWith("-tenths") || id.endsWith("-cpu-growth")) return "×";
  if (id.startsWith("growth-") && id.includes("-snapshot-")) return "µs/row";
  if (id.endsWith("-exact")) return "%";
  if (id.startsWith("bigrun-") && id.endsWith("-cpu")) return "µs";
  if (id.includes("share")) return "%";
  if (id.includes("rps")) return "req/s";
  if (id.includes("rss")) return "MiB";
  if (id.includes("cpu")) return "µs";
  return "ms";
}

function summaryByServer(runs: ServerRun[]): string {
  const kinds = [...new Set(runs.map((r) => r.server))];
  const rows: string[][] = [];
  for (const kind of kinds) {
    const mine = runs.filter((r) => r.server === kind);
    const phases = [...new Set(mine.flatMap((r) => Object.keys(r.phases)))];
    for (const phase of phases) {
      const rs = mine.map((r) => r.phases[phase]).filter(Boolean);
      rows.push([
        kind,
        phase,
        fmt(median(rs.map((r) => r.rps)), 0),
        fmt(median(rs.map((r) => r.p50Ms))),
        fmt(median(rs.map((r) => r.p99Ms))),
        `${fmt(median(rs.map((r) => r.serverCpuPct)), 0)} (${fmt(median(rs.map((r) => r.serverMainThreadCpuPct)), 0)})`,
        fmt(median(rs.map((r) => r.serverCpuUsPerReq)), 0),
        fmt(median(rs.map((r) => r.driverCpuUsPerReq)), 0),
        fmt(median(rs.map((r) => r.postgresCpuUsPerReq)), 0),
        fmt(median(rs.map((r) => r.machineCpuUsPerReq)), 0),
        fmt(median(rs.map((r) => r.serverPeakRssMb)), 0),
        String(rs.reduce((n, r) => n + r.errors, 0)),
      ]);
    }
    rows.push([kind, "idle", "", "", "", "", "", "", "", "", fmt(median(mine.map((r) => r.idleRssMb)), 0), `ready ${fmt(median(mine.map((r) => r.startupMs)), 0)} ms`]);
  }
  return table(["server", "phase", "req/s", "p50 ms", "p99 ms", "cpu % (main thread)", "cpu µs/req", "driver µs/req", "postgres µs/req", "machine µs/req", "peak RSS MiB", "errors"], rows);
}

// --- main ----------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = new Date();
  tmpRoot = mkdtempSync(join(tmpdir(), "flyte-bench-"));
  stub = await startActionsStub();
  log(`bench: ${settings.pairs} pair(s), ${settings.seconds} s phases (+${settings.warmupSeconds} s warm-up, ${settings.firstWarmupSeconds} s for a server's first), temp ${tmpRoot}`);
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);

  const pgProblem =
    settings.only.includes("pg") || settings.growth.dbs.includes("postgres") || (settings.only.includes("bigrun") && settings.bigrun.dbs.includes("postgres")) ? await pgUnavailable(pg) : undefined;
  if (pgProblem) log(`PostgreSQL at ${pg.host}:${pg.port} unavailable (${pgProblem}): its rows are skipped`);

  const runs: ServerRun[] = [];
  const growth: GrowthResult[] = [];
  const watch: WatchRun[] = [];
  const bigrun: BigrunRun[] = [];
  try {
    for (let pair = 0; pair < settings.pairs; pair++) {
      // Alternate the order (baseline, port, port, baseline, …) so drift cancels.
      const portFirst = pair % 2 === 1;
      if (settings.only.includes("sqlite")) {
        const ports: ServerKind[] = COMPARE_ENTRY ? ["port-sqlite", "cmp-sqlite"] : ["port-sqlite"];
        const order: ServerKind[] = portFirst ? [...ports.reverse(), "B3", "B1", "B0"] : ["B0", "B1", "B3", ...ports];
        const phasesOf = (kind: ServerKind) => (kind === "B0" ? B0_PHASES : kind === "B3" ? B3_PHASES : SQLITE_PHASES);
        for (const kind of order.filter(wanted)) runs.push(await measureServer(pair, kind, phasesOf(kind)));
      }
      if (settings.only.includes("pg") && !pgProblem) {
        const ports: ServerKind[] = COMPARE_ENTRY ? ["port-pg", "cmp-pg"] : ["port-pg"];
        const order: ServerKind[] = portFirst ? [...ports.reverse(), "B3-pg", "B2"] : ["B2", "B3-pg", ...ports];
        for (const kind of order.filter(wanted)) runs.push(await measureServer(pair, kind, PG_PHASES));
      }
    }

    if (settings.only.includes("watch")) {
      for (let pair = 0; pair < settings.pairs; pair++) {
        for (const streams of settings.watch.streams) {
          const ports: ServerKind[] = COMPARE_ENTRY ? ["port-sqlite", "cmp-sqlite"] : ["port-sqlite"];
          const order: ServerKind[] = pair % 2 === 1 ? [...ports.reverse(), "fanout"] : ["fanout", ...ports];
          for (const kind of order.filter(wanted)) watch.push(await measureWatch(pair, kind, streams));
        }
      }
    }

    if (settings.only.includes("bigrun")) {
      for (let pair = 0; pair < settings.bigrun.pairs; pair++) {
        for (const db of settings.bigrun.dbs) {
          if (db === "postgres" && pgProblem) continue;
          for (const children of settings.bigrun.sizes) {
            const servers: BigrunRun["server"][] = COMPARE_ENTRY ? ["baseline", "port", "cmp"] : ["baseline", "port"];
            const order = pair % 2 === 1 ? servers.reverse() : servers;
            for (const server of order) {
              const kind: ServerKind = server === "baseline" ? (db === "sqlite" ? "B4" : "B4-pg") : `${server}-${db === "sqlite" ? "sqlite" : "pg"}`;
              if (wanted(kind)) bigrun.push(await measureBigrun(pair, db, children, server));
            }
          }
        }
      }
    }

    if (settings.only.includes("growth")) {
      for (const db of settings.growth.dbs) {
        if (db === "postgres" && pgProblem) continue;
        log(`growth (${db}):`);
        const kind: ServerKind = db === "postgres" ? "port-pg" : "port-sqlite";
        const { server, cleanup, dir, pgDb } = await startKind(kind);
        try {
          growth.push(
            await runGrowth({
              baseUrl: server.baseUrl,
              target:
                db === "postgres"
                  ? { kind: "postgres", connectionString: `postgresql://${pg.user}@${pg.host}:${pg.port}/${pgDb}` }
                  : { kind: "sqlite", file: join(dir, "runs.db") },
              sizes: settings.growth,
              log,
            }),
          );
        } finally {
          await cleanup();
        }
      }
    }
  } finally {
    await stub.close();
    if (env.BENCH_KEEP !== "1") rmSync(tmpRoot, { recursive: true, force: true });
  }

  // --- report -----------------------------------------------------------------------
  const rows: RowResult[] = ROWS.map((spec) =>
    evaluate(
      spec,
      runs,
      !settings.only.includes(spec.group) ? "not run (BENCH_ONLY)" : spec.group === "pg" && pgProblem ? `PostgreSQL unavailable: ${pgProblem}` : undefined,
    ),
  );
  rows.push(listRunsRow(growth, settings.only.includes("growth") ? undefined : "not run (BENCH_ONLY)"));
  rows.push(
    ...growthRows(
      growth,
      settings.growth.dbs,
      settings.only.includes("growth") ? undefined : "not run (BENCH_ONLY)",
    ).map((r) => (r.id.endsWith("-postgres") && pgProblem ? { ...r, status: "SKIP" as const, note: `PostgreSQL unavailable: ${pgProblem}` } : r)),
  );
  for (const streams of settings.watch.streams) rows.push(...watchRows(watch, streams, settings.only.includes("watch") ? undefined : "not run (BENCH_ONLY)"));
  if (settings.only.includes("bigrun")) {
    const sizes = [...settings.bigrun.sizes].sort((a, b) => a - b);
    for (const db of settings.bigrun.dbs) {
      rows.push(...bigrunRows(bigrun, db, sizes[0], sizes.at(-1)!, db === "postgres" && pgProblem ? `PostgreSQL unavailable: ${pgProblem}` : undefined));
    }
  }
  const compareRows: RowResult[] = COMPARE_ENTRY
    ? ROWS.map((spec) => evaluate({ ...spec, port: spec.port === "port-pg" ? "cmp-pg" : "cmp-sqlite" }, runs, !settings.only.includes(spec.group) ? "not run" : undefined))
    : [];
  if (COMPARE_ENTRY && settings.only.includes("bigrun")) {
    // The compare build's bigrun rows: its runs in the port's place, against the same B4 runs.
    const asPort = bigrun.filter((r) => r.server !== "port").map((r) => (r.server === "cmp" ? { ...r, server: "port" as const } : r));
    const sizes = [...settings.bigrun.sizes].sort((a, b) => a - b);
    for (const db of settings.bigrun.dbs) compareRows.push(...bigrunRows(asPort, db, sizes[0], sizes.at(-1)!, undefined));
  }
  if (COMPARE_ENTRY && settings.only.includes("watch")) {
    for (const streams of settings.watch.streams) compareRows.push(...watchRows(watch, streams, undefined, "cmp-sqlite"));
  }

  if (runs.length > 0) {
    log("");
    log("Per server (medians over pairs; cpu % of one core, the server's main thread in brackets):");
    log(summaryByServer(runs));
  }
  for (const g of growth) {
    log("");
    log(`Growth (${g.db}): ListRuns, ${g.listRuns.runs.toLocaleString("en-US")} runs, pages of ${g.listRuns.pageSize} (walk: ${g.listRuns.walkPages} pages in ${g.listRuns.walkSeconds} s)`);
    log(
      table(
        ["ListRuns: runs in table", ...g.listRuns.firstPages.map((f) => `first page ms (${f.variant})`)],
        g.listRuns.firstPageByRuns.map((p, i) => [p.runs.toLocaleString("en-US"), ...g.listRuns.firstPages.map((f) => fmt(f.byRuns[i]?.ms ?? NaN, 3))]),
      ),
    );
    log(table(["ListRuns: page at offset", "ms/call", "× first page"], g.listRuns.points.map((p) => [p.offset.toLocaleString("en-US"), fmt(p.ms, 3), fmt(p.ms / g.listRuns.points[0].ms)])));
    log(
      table(
        ["ListActions: actions in run", "first page (100) ms", "snapshot ms", "pages of 200", "µs/row", "WatchActions snapshot ms", "µs/row"],
        g.listActions.map((a) => [a.actions.toLocaleString("en-US"), fmt(a.firstPageMs, 3), fmt(a.snapshotMs, 1), String(a.snapshotPages), fmt(a.usPerRow, 1), fmt(a.watchSnapshotMs, 1), fmt(a.watchUsPerRow, 1)]),
      ),
    );
    log(table(["GetActionDetails: events", "ms/call"], g.getActionDetails.map((d) => [String(d.events), fmt(d.ms, 3)])));
  }
  log("");
  const targetTable = (rs: RowResult[]) =>
    table(
      ["row", "vs", "baseline", "port", "ratio", "target", "pairs", "errors", "result"],
      rs.map((r) => [
        r.label,
        r.baseline,
        Number.isFinite(r.baseMedian) ? `${fmt(r.baseMedian)} ${unitOf(r.id)}` : "-",
        Number.isFinite(r.portMedian) ? `${fmt(r.portMedian)} ${unitOf(r.id)}` : "-",
        fmt(r.ratio, 3),
        r.target,
        r.ratios.map((x) => fmt(x)).join(" "),
        String(r.errors),
        r.status + (r.note ? ` (${r.note})` : ""),
      ]),
    );
  if (COMPARE_ENTRY) {
    log(`Compare build ${COMPARE_ENTRY} (cmp-*), same pairs and baselines:`);
    log(targetTable(compareRows.filter((r) => !r.note?.startsWith("not run"))));
    log("");
  }
  log(`Targets (median of per-pair ratios port ÷ baseline, ${settings.pairs} pair(s); bigrun ${settings.bigrun.pairs}):`);
  // Groups not run are left out of the table (they stay in the JSON as SKIP).
  log(targetTable(rows.filter((r) => !r.note?.startsWith("not run"))));

  const resultsDir = env.BENCH_RESULTS_DIR ? resolve(env.BENCH_RESULTS_DIR) : join(ROOT, "bench/results");
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${started.toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        startedAt: started.toISOString(),
        finishedAt: new Date().toISOString(),
        machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: round(totalmem() / 2 ** 30, 1), node: process.version },
        settings,
        rows,
        ...(COMPARE_ENTRY ? { compare: { entry: COMPARE_ENTRY, rows: compareRows } } : {}),
        growth,
        runs,
        watch,
        bigrun,
      },
      null,
      2,
    ),
  );
  const failed = rows.filter((r) => r.status === "FAIL").length;
  log("");
  if (failed > 0 && env.BENCH_STRICT === "1") process.exitCode = 1;
  log(`${rows.filter((r) => r.status === "PASS").length} PASS, ${failed} FAIL, ${rows.filter((r) => r.status === "SKIP").length} SKIP, ${rows.filter((r) => r.status === "INFO").length} INFO — ${file.startsWith(ROOT) ? file.slice(ROOT.length + 1) : file} (${((Date.now() - started.getTime()) / 1000).toFixed(0)} s)`);
}

await main();
