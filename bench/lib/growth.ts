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
    /** Median ms of the first page as the table grows. */
    firstPageByRuns: { runs: number; ms: number }[];
  };
  listActions: { actions: number; firstPageMs: number; snapshotMs: number; snapshotPages: number; usPerRow: number }[];
  getActionDetails: { events: number; ms: number }[];
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
    const firstPageByRuns: { runs: number; ms: number }[] = [];
    let seeded = 0;
    for (const step of growthSteps(sizes.runs)) {
      await seeder.cloneRuns("tmpl", "g", seeded, step - extra - seeded);
      seeded = step - extra;
      const ms: number[] = [];
      for (let r = 0; r < sizes.repeats; r++) {
        const [t] = await timed(() => runs.listRuns({ request: { limit: 100 }, scopeBy: PROJECT_SCOPE }));
        ms.push(t);
      }
      firstPageByRuns.push({ runs: step, ms: round(median(ms), 3) });
    }
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
      }
      const snapshotMs = median(snap);
      listActions.push({
        actions: n,
        firstPageMs: round(median(first), 3),
        snapshotMs: round(snapshotMs, 1),
        snapshotPages,
        usPerRow: round((snapshotMs * 1000) / n, 1),
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
      listRuns: { runs: totalRuns, pageSize, walkPages: pages, walkSeconds: round(walkSeconds, 1), points, deepOverFirst, firstPageByRuns },
      listActions,
      getActionDetails,
    };
  } finally {
    await seeder.close();
    sessionManager.abort();
  }
}
