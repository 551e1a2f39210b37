/**
 * Growth checks: how the cost of a read grows with the rows behind it.
 *
 *  - ListRuns: the first page vs pages deep into N runs, reached by walking
 *    the keyset page tokens (a token is only obtainable by walking);
 *  - ListActions: the first page and a full snapshot of runs with many actions;
 *  - GetActionDetails: actions with many events.
 *
 * A real run is created through CreateRun and its row is then cloned in bulk
 * with SQL (one INSERT … SELECT), so the seeded rows are what the port writes.
 * Events go in through InternalRunService.RecordActionEvents.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { Filter_Function, Sort_Direction } from "#gen/flyteidl2/common/list_pb.js";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { InternalRunService } from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { ActionEventSchema } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { ACTION_ROW_COLUMNS } from "../../src/repository/kysely/action-read.js";
import { DOMAIN, ORG, PROJECT, createRunRequest } from "./request.js";
import { median, round } from "./stats.js";

export interface GrowthSizes {
  runs: number;
  actions: number[];
  events: number[];
  /** Timed repetitions of each measured call. */
  repeats: number;
}

export type GrowthTarget = { kind: "sqlite"; file: string } | { kind: "postgres"; connectionString: string };

export interface ListRunsPoint {
  offset: number;
  ms: number;
}

export interface GrowthResult {
  db: "sqlite" | "postgres";
  seedSeconds: number;
  listRuns: {
    runs: number;
    pageSize: number;
    walkPages: number;
    walkSeconds: number;
    /** Median ms of one ListRuns call at each offset (reached through its token). */
    points: ListRunsPoint[];
    /** Each round's deep/first ratio (interleaved calls). */
    deepOverFirst: number[];
    /** Median ms of the first page (default order) as the table grows. */
    firstPageByRuns: { runs: number; ms: number }[];
    /** The same for each first-page variant (default order, created_at order, a phase filter). */
    firstPages: { variant: ListRunsVariant; byRuns: { runs: number; ms: number }[] }[];
  };
  listActions: {
    actions: number;
    firstPageMs: number;
    snapshotMs: number;
    snapshotPages: number;
    usPerRow: number;
    /** A fresh WatchActions stream until it holds every action of the run. */
    watchSnapshotMs: number;
    watchUsPerRow: number;
  }[];
  getActionDetails: { events: number; ms: number }[];
}

/** The first pages of ListRuns whose cost must not grow with the project (issue 18). */
export type ListRunsVariant = "default" | "created_at" | "phase";
export const LIST_RUNS_VARIANTS: readonly ListRunsVariant[] = ["default", "created_at", "phase"];
const VARIANT_LABELS: Record<ListRunsVariant, string> = {
  default: "default order",
  created_at: "created_at DESC",
  phase: "phase filter",
};

function listRunsFirstPage(variant: ListRunsVariant) {
  switch (variant) {
    case "default":
      return { limit: 100 };
    case "created_at":
      return { limit: 100, sortByFields: [{ key: "created_at", direction: Sort_Direction.DESCENDING }] };
    case "phase":
      // Every seeded run is a clone of a QUEUED run, so the page is full.
      return { limit: 100, filters: [{ field: "phase", function: Filter_Function.EQUAL, values: [String(ActionPhase.QUEUED)] }] };
  }
}

const RUN_ID = (name: string) => ({ org: ORG, project: PROJECT, domain: DOMAIN, name });
const PROJECT_SCOPE = { case: "projectId" as const, value: { organization: ORG, name: PROJECT, domain: DOMAIN } };

// --- bulk seeding -------------------------------------------------------------------

interface Seeder {
  /** Clones run `template`'s a0 row `count` times as runs `${prefix}${from + 1}…`, created 1 ms apart going back. */
  cloneRuns(template: string, prefix: string, from: number, count: number): Promise<void>;
  /** Adds `count` child actions `c1…` (parent a0) to `run`, cloned from its a0. */
  cloneChildren(run: string, count: number): Promise<void>;
  close(): Promise<void>;
}

function selectList(subst: Record<string, string>): { cols: string; exprs: string } {
  const cols = ACTION_ROW_COLUMNS.join(", ");
  const exprs = ACTION_ROW_COLUMNS.map((c) => subst[c] ?? `t.${c}`).join(", ");
  return { cols, exprs };
}

function sqliteSeeder(file: string): Seeder {
  const db = new BetterSqlite3(file);
  db.pragma("busy_timeout = 30000");
  const ts = "strftime('%Y-%m-%dT%H:%M:%f', substr(t.created_at, 1, 23), printf('-%.3f seconds', s.i / 1000.0)) || '000Z'";
  const run = (subst: Record<string, string>, from: number, count: number, runName: string) => {
    const { cols, exprs } = selectList(subst);
    db.prepare(
      `WITH RECURSIVE s(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM s WHERE i < ?)
       INSERT INTO actions (${cols}) SELECT ${exprs} FROM s, actions t
       WHERE t.project = ? AND t.domain = ? AND t.run_name = ? AND t.name = 'a0'`,
    ).run(from + 1, from + count, PROJECT, DOMAIN, runName);
  };
  return {
    async cloneRuns(template, prefix, from, count) {
      run({ run_name: `'${prefix}' || s.i`, created_at: ts, updated_at: ts }, from, count, template);
    },
    async cloneChildren(runName, count) {
      run({ name: "'c' || s.i", parent_action_name: "'a0'", created_at: ts, updated_at: ts }, 0, count, runName);
    },
    async close() {
      db.close();
    },
  };
}

async function pgSeeder(connectionString: string): Promise<Seeder> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  const ts = "t.created_at - s.i * interval '1 millisecond'";
  const run = async (subst: Record<string, string>, from: number, count: number, runName: string) => {
    const { cols, exprs } = selectList(subst);
    await client.query(
      `INSERT INTO actions (${cols}) SELECT ${exprs} FROM generate_series($1::int, $2::int) AS s(i), actions t
       WHERE t.project = $3 AND t.domain = $4 AND t.run_name = $5 AND t.name = 'a0'`,
      [from + 1, from + count, PROJECT, DOMAIN, runName],
    );
    await client.query("ANALYZE actions");
  };
  return {
    async cloneRuns(template, prefix, from, count) {
      await run({ run_name: `'${prefix}' || s.i`, created_at: ts, updated_at: ts }, from, count, template);
    },
    async cloneChildren(runName, count) {
      await run({ name: "'c' || s.i", parent_action_name: "'a0'", created_at: ts, updated_at: ts }, 0, count, runName);
    },
    async close() {
      await client.end();
    },
  };
}

/** Table sizes at which ListRuns' first page is timed: 1,000, 10,000, … up to `total`. */
function growthSteps(total: number): number[] {
  const steps: number[] = [];
  for (let n = 1_000; n < total; n *= 10) steps.push(n);
  steps.push(total);
  return steps;
}

// --- measuring ------------------------------------------------------------------------

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const v = await fn();
  return [performance.now() - t0, v];
}

async function recordEvents(internal: Client<typeof InternalRunService>, run: string, count: number): Promise<void> {
  const base = Date.now() - count * 1000;
  for (let start = 0; start < count; start += 100) {
    const events = [];
    for (let v = start; v < Math.min(count, start + 100); v++) {
      events.push(
        create(ActionEventSchema, {
          id: { run: RUN_ID(run), name: "a0" },
          attempt: 1,
          phase: v === 0 ? ActionPhase.QUEUED : ActionPhase.RUNNING,
          version: v,
          updatedTime: timestampFromMs(base + v * 1000),
          reportedTime: timestampFromMs(base + v * 1000),
          cluster: "bench",
          logInfo: [{ name: "stdout", uri: `file:///logs/${run}/${v}.log` }],
        }),
      );
    }
    const res = await internal.recordActionEvents({ events });
    if (res.status && res.status.code !== 0) throw new Error(`RecordActionEvents: ${res.status.message}`);
  }
}

/** Opens WatchActions on `runId` and reads until it holds `n` distinct actions; returns how many it held. */
async function watchSnapshot(runs: Client<typeof RunService>, runId: ReturnType<typeof RUN_ID>, n: number): Promise<number> {
  const stop = new AbortController();
  const seen = new Set<string>();
  try {
    for await (const msg of runs.watchActions({ runId }, { signal: stop.signal })) {
      for (const ea of msg.enrichedActions) seen.add(ea.action?.id?.name ?? "");
      if (seen.size >= n) break;
    }
  } finally {
    stop.abort();
  }
  return seen.size;
}

export async function runGrowth(opts: {
  baseUrl: string;
  target: GrowthTarget;
  sizes: GrowthSizes;
  log: (line: string) => void;
}): Promise<GrowthResult> {
  const { sizes, log } = opts;
  const sessionManager = new Http2SessionManager(opts.baseUrl);
  const transport = createConnectTransport({ baseUrl: opts.baseUrl, httpVersion: "2", sessionManager });
  const runs = createClient(RunService, transport);
  const internal = createClient(InternalRunService, transport);
  const seeder = opts.target.kind === "sqlite" ? sqliteSeeder(opts.target.file) : await pgSeeder(opts.target.connectionString);
  try {
    // Seed: the extra runs first (newest), then the bulk of runs in steps,
    // timing ListRuns' first page at each size.
    const seedStart = performance.now();
    await runs.createRun(createRunRequest("tmpl"));
    for (const n of sizes.actions) {
      const name = `act${n}`;
      await runs.createRun(createRunRequest(name));
      await seeder.cloneChildren(name, n - 1);
    }
    for (const n of sizes.events) {
      const name = `ev${n}`;
      await runs.createRun(createRunRequest(name));
      await recordEvents(internal, name, n);
    }
    const extra = 1 + sizes.actions.length + sizes.events.length;
    const firstPages = LIST_RUNS_VARIANTS.map((variant) => ({ variant, byRuns: [] as { runs: number; ms: number }[] }));
    let seeded = 0;
    for (const step of growthSteps(sizes.runs)) {
      await seeder.cloneRuns("tmpl", "g", seeded, step - extra - seeded);
      seeded = step - extra;
      const samples = firstPages.map(() => [] as number[]);
      for (let r = 0; r < sizes.repeats; r++) {
        // Interleaved, so drift on the shared machine touches every variant alike.
        for (const [i, fp] of firstPages.entries()) {
          const [t, res] = await timed(() => runs.listRuns({ request: listRunsFirstPage(fp.variant), scopeBy: PROJECT_SCOPE }));
          if (res.runs.length !== 100) throw new Error(`ListRuns (${fp.variant}) first page returned ${res.runs.length} runs`);
          samples[i].push(t);
        }
      }
      for (const [i, fp] of firstPages.entries()) fp.byRuns.push({ runs: step, ms: round(median(samples[i]), 3) });
    }
    const firstPageByRuns = firstPages[0].byRuns;
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const totalRuns = seeded + extra;
    log(`    seeded ${totalRuns} runs, ${sizes.actions.join("/")} actions, ${sizes.events.join("/")} events in ${seedSeconds.toFixed(1)} s`);

    // ListRuns: walk to the deepest full page of 100, keeping the tokens of a few offsets.
    const pageSize = 100;
    // With N runs, "deep" is the last full page: offset N − 100 (99,900 for 100,000).
    const deepOffset = totalRuns - pageSize;
    const wanted = [...new Set([0, 1_000, 10_000, Math.floor(totalRuns / 2 / 100) * 100, deepOffset])]
      .filter((o) => o <= deepOffset)
      .sort((a, b) => a - b);
    const tokens = new Map<number, string>([[0, ""]]);
    let offset = 0;
    let token = "";
    let pages = 0;
    const walkStart = performance.now();
    while (offset < deepOffset) {
      // Big pages (the maximum, 200) until close, then steps of 100 to land on each wanted offset.
      const nextWanted = wanted.find((o) => o > offset) ?? deepOffset;
      const limit = Math.min(200, nextWanted - offset);
      const res = await runs.listRuns({ request: { limit, token }, scopeBy: PROJECT_SCOPE });
      pages++;
      if (res.runs.length !== limit || res.token === "") throw new Error(`ListRuns walk ended early at offset ${offset}`);
      offset += limit;
      token = res.token;
      if (wanted.includes(offset)) tokens.set(offset, token);
    }
    const walkSeconds = (performance.now() - walkStart) / 1000;
    log(`    walked ${pages} ListRuns pages to offset ${deepOffset} in ${walkSeconds.toFixed(1)} s`);
    const samples = new Map<number, number[]>(wanted.map((o) => [o, []]));
    const deepOverFirst: number[] = [];
    for (let r = 0; r < sizes.repeats; r++) {
      const round = new Map<number, number>();
      for (const o of r % 2 ? [...wanted].reverse() : wanted) {
        const [ms, res] = await timed(() => runs.listRuns({ request: { limit: pageSize, token: tokens.get(o)! }, scopeBy: PROJECT_SCOPE }));
        if (res.runs.length !== pageSize) throw new Error(`ListRuns at offset ${o} returned ${res.runs.length} runs`);
        samples.get(o)!.push(ms);
        round.set(o, ms);
      }
      deepOverFirst.push(round.get(deepOffset)! / round.get(0)!);
    }
    const points = wanted.map((o) => ({ offset: o, ms: round(median(samples.get(o)!), 3) }));

    // ListActions: first page of 100 and the whole run in pages of 200.
    const listActions = [];
    for (const n of sizes.actions) {
      const runId = RUN_ID(`act${n}`);
      const first: number[] = [];
      const snap: number[] = [];
      const watch: number[] = [];
      let snapshotPages = 0;
      for (let r = 0; r < Math.max(3, Math.ceil(sizes.repeats / 3)); r++) {
        const [ms] = await timed(() => runs.listActions({ request: { limit: 100 }, runId }));
        first.push(ms);
        const [snapMs, count] = await timed(async () => {
          let t = "";
          let got = 0;
          snapshotPages = 0;
          do {
            const res = await runs.listActions({ request: { limit: 200, token: t }, runId });
            got += res.actions.length;
            snapshotPages++;
            t = res.token;
          } while (t !== "");
          return got;
        });
        if (count !== n) throw new Error(`ListActions snapshot of act${n} returned ${count} actions`);
        snap.push(snapMs);
        const [watchMs, seen] = await timed(() => watchSnapshot(runs, runId, n));
        if (seen !== n) throw new Error(`WatchActions snapshot of act${n} held ${seen} actions`);
        watch.push(watchMs);
      }
      const snapshotMs = median(snap);
      const watchSnapshotMs = median(watch);
      listActions.push({
        actions: n,
        firstPageMs: round(median(first), 3),
        snapshotMs: round(snapshotMs, 1),
        snapshotPages,
        usPerRow: round((snapshotMs * 1000) / n, 1),
        watchSnapshotMs: round(watchSnapshotMs, 1),
        watchUsPerRow: round((watchSnapshotMs * 1000) / n, 1),
      });
    }

    // GetActionDetails of actions with many events.
    const getActionDetails = [];
    for (const n of sizes.events) {
      const actionId = { run: RUN_ID(`ev${n}`), name: "a0" };
      const ms: number[] = [];
      for (let r = 0; r < sizes.repeats; r++) {
        const [t, res] = await timed(() => runs.getActionDetails({ actionId }));
        if (r === 0) {
          const attempts = res.details?.attempts ?? [];
          if (attempts.length === 0) throw new Error(`GetActionDetails of ev${n} has no attempts`);
        }
        ms.push(t);
      }
      getActionDetails.push({ events: n, ms: round(median(ms), 3) });
    }

    return {
      db: opts.target.kind,
      seedSeconds: round(seedSeconds, 1),
      listRuns: { runs: totalRuns, pageSize, walkPages: pages, walkSeconds: round(walkSeconds, 1), points, deepOverFirst, firstPageByRuns, firstPages },
      listActions,
      getActionDetails,
    };
  } finally {
    await seeder.close();
    sessionManager.abort();
  }
}

// --- rows (issue 18) ----------------------------------------------------------------------

/** A target row of the growth group, shaped like the driver's rows. */
export interface GrowthRow {
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

/** Cost at the largest size ÷ cost at the smallest, same port, same run: target ≤ 1.3×. */
export const GROWTH_TARGET = 1.3;

/**
 * Per database: ListRuns' first page at the largest vs the smallest table (each
 * variant), and ListActions / WatchActions snapshot µs per row at the largest vs
 * the smallest run. One ratio per database run (the growth group runs once).
 */
export function growthRows(growth: GrowthResult[], dbs: readonly string[], skipped: string | undefined): GrowthRow[] {
  const rows: GrowthRow[] = [];
  const row = (id: string, label: string, baseline: string, small: number | undefined, big: number | undefined, note?: string): GrowthRow => {
    const base: GrowthRow = { id, label, baseline, target: `<= ${GROWTH_TARGET}×`, baseMedian: NaN, portMedian: NaN, ratios: [], ratio: NaN, errors: 0, status: "SKIP", note: note ?? skipped };
    if (small === undefined || big === undefined || note || skipped) return base;
    const ratio = big / small;
    return { ...base, baseMedian: small, portMedian: big, ratios: [round(ratio, 3)], ratio: round(ratio, 3), status: ratio <= GROWTH_TARGET ? "PASS" : "FAIL", note: undefined };
  };
  for (const db of dbs) {
    const g = growth.find((x) => x.db === db);
    const dbLabel = db === "postgres" ? "PostgreSQL" : "SQLite";
    const missing = g || skipped ? undefined : "not measured";
    for (const variant of LIST_RUNS_VARIANTS) {
      const byRuns = g?.listRuns.firstPages.find((f) => f.variant === variant)?.byRuns ?? [];
      const small = byRuns[0];
      const big = byRuns.at(-1);
      rows.push(
        row(
          `growth-listruns-${variant}-${db}`,
          `ListRuns first page (${VARIANT_LABELS[variant]}), ${dbLabel}: ${big?.runs.toLocaleString("en-US") ?? "100,000"} runs vs ${small?.runs.toLocaleString("en-US") ?? "1,000"}`,
          "same port, small table",
          small?.ms,
          big?.ms,
          missing,
        ),
      );
    }
    const acts = [...(g?.listActions ?? [])].sort((a, b) => a.actions - b.actions);
    const small = acts[0];
    const big = acts.at(-1);
    const sizes = `${big?.actions.toLocaleString("en-US") ?? "10,000"} actions vs ${small?.actions.toLocaleString("en-US") ?? "100"}`;
    rows.push(row(`growth-listactions-snapshot-${db}`, `ListActions snapshot µs per row, ${dbLabel}: ${sizes}`, "same port, small run", small?.usPerRow, big?.usPerRow, missing));
    rows.push(row(`growth-watchactions-snapshot-${db}`, `WatchActions snapshot µs per row, ${dbLabel}: ${sizes}`, "same port, small run", small?.watchUsPerRow, big?.watchUsPerRow, missing));
  }
  return rows;
}
