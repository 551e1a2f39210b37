/**
 * The query plans of the lists whose cost must not grow with the project
 * (issue 18), pinned on both databases: ListRuns (default order, created_at
 * order, a phase filter), ListActions and the WatchActions snapshot read. The
 * repository's own statements are captured as they run and explained: each
 * must read its rows from the list's index in page order — no sort of the
 * table (no temp b-tree on SQLite, no Sort node on PostgreSQL) — for the first
 * page and for every range query of a page after a token.
 *
 * PostgreSQL plans by statistics, so its table is populated (a project of
 * 20,000 runs next to others, a run of 3,000 actions) and ANALYZEd first.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { CompiledQuery, type KyselyPlugin } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Filter_Function, ListRequestSchema, Sort_Direction } from "#gen/flyteidl2/common/list_pb.js";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import type { DatabaseHandle } from "../../src/repository/dialect/index.js";
import type { RunScope } from "../../src/repository/interfaces/action.js";
import type { PageRequest } from "../../src/repository/interfaces/common.js";
import { ACTION_ROW_COLUMNS, createActionReads } from "../../src/repository/kysely/action-read.js";
import { createActionStateReads } from "../../src/repository/kysely/action-states.js";
import { createActionRepo } from "../../src/repository/kysely/action.js";
import { ACTION_COLUMNS, parseListRequest } from "../../src/repository/list/index.js";
import { openMigratedDatabase, testDialects } from "../support/databases.js";
import { manualClock } from "../support/manual-clock.js";
import { newActionRow, recordingBus } from "./action-fixtures.js";

const PROJECT: RunScope = { kind: "project", project: "proj1", domain: "domain1" };
const BIG_RUN = { project: "proj1", domain: "domain1", run: "big" };
const RUNS = 20_000;
const ACTIONS = 3_000;

const request = (init: MessageInitShape<typeof ListRequestSchema> = {}): PageRequest =>
  parseListRequest(create(ListRequestSchema, init), ACTION_COLUMNS);

/** What a plan says, reduced to what the tests pin. */
interface PlanSummary {
  /** Index names the plan reads through. */
  indexes: string[];
  /** Sorts of rows: SQLite's "USE TEMP B-TREE", PostgreSQL's Sort / Incremental Sort nodes. */
  sorts: string[];
  /** Full scans of the table. */
  tableScans: string[];
  text: string;
}

describe.each(await testDialects())("list query plans on %s", (kind) => {
  let handle: DatabaseHandle;
  let drop: () => Promise<void>;
  /** The statements the repository ran since the last take(). */
  let captured: CompiledQuery[] = [];
  let spy: DatabaseHandle;

  const take = () => {
    const out = captured;
    captured = [];
    return out;
  };

  beforeAll(async () => {
    ({ handle, drop } = await openMigratedDatabase(kind));
    const clock = manualClock("2026-01-01T00:00:00.000000Z");
    const repo = createActionRepo(handle, clock, recordingBus());
    // One real run and one real child, then clones of them in bulk (1 ms apart).
    clock.advance(1);
    await repo.createAction(newActionRow(clock, { run_name: "tmpl", name: "a0" }));
    await repo.createAction(newActionRow(clock, { run_name: "big", name: "a0" }));
    const cols = ACTION_ROW_COLUMNS.join(", ");
    const clone = async (subst: Record<string, string>, count: number, run: string) => {
      const exprs = ACTION_ROW_COLUMNS.map((c) => subst[c] ?? `t.${c}`).join(", ");
      const text =
        kind === "sqlite"
          ? `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${count})
             INSERT INTO actions (${cols}) SELECT ${exprs} FROM s, actions t
             WHERE t.project = 'proj1' AND t.domain = 'domain1' AND t.run_name = '${run}' AND t.name = 'a0'`
          : `INSERT INTO actions (${cols}) SELECT ${exprs} FROM generate_series(1, ${count}) AS s(i), actions t
             WHERE t.project = 'proj1' AND t.domain = 'domain1' AND t.run_name = '${run}' AND t.name = 'a0'`;
      await handle.db.executeQuery(CompiledQuery.raw(text));
    };
    const ts =
      kind === "sqlite"
        ? "strftime('%Y-%m-%dT%H:%M:%f', substr(t.created_at, 1, 23), printf('-%.3f seconds', s.i / 1000.0)) || '000Z'"
        : "t.created_at - s.i * interval '1 millisecond'";
    // Runs of three projects, phases spread over QUEUED…SUCCEEDED.
    for (const project of ["proj1", "proj0", "proj2"]) {
      await clone(
        { project: `'${project}'`, run_name: "'r' || s.i", created_at: ts, updated_at: ts, phase: `1 + s.i % 6` },
        project === "proj1" ? RUNS : RUNS / 4,
        "tmpl",
      );
    }
    await clone({ name: "'c' || s.i", parent_action_name: "'a0'", created_at: ts, updated_at: ts, phase: "1 + s.i % 6" }, ACTIONS, "big");
    if (kind === "postgres") await handle.db.executeQuery(CompiledQuery.raw("ANALYZE actions"));

    const plugin: KyselyPlugin = {
      transformQuery(args) {
        captured.push(handle.db.getExecutor().compileQuery(args.node, args.queryId));
        return args.node;
      },
      async transformResult(args) {
        return args.result;
      },
    };
    spy = { ...handle, db: handle.db.withPlugin(plugin) };
  }, 120_000);
  afterAll(async () => drop?.());

  async function explain(q: CompiledQuery): Promise<PlanSummary> {
    if (kind === "sqlite") {
      const res = await handle.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`EXPLAIN QUERY PLAN ${q.sql}`, [...q.parameters]));
      const details = res.rows.map((r) => r.detail);
      return {
        indexes: details.flatMap((d) => [...d.matchAll(/USING (?:COVERING )?INDEX (\w+)/g)].map((m) => m[1])),
        sorts: details.filter((d) => d.includes("TEMP B-TREE")),
        tableScans: details.filter((d) => /^SCAN actions\b/.test(d) && !d.includes("INDEX")),
        text: details.join("\n"),
      };
    }
    const res = await handle.db.executeQuery<{ "QUERY PLAN": [{ Plan: PgPlan }] }>(
      CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${q.sql}`, [...q.parameters]),
    );
    const nodes: PgPlan[] = [];
    const visit = (p: PgPlan) => {
      nodes.push(p);
      for (const c of p.Plans ?? []) visit(c);
    };
    visit(res.rows[0]["QUERY PLAN"][0].Plan);
    return {
      indexes: nodes.flatMap((n) => (n["Index Name"] ? [n["Index Name"]] : [])),
      sorts: nodes.filter((n) => n["Node Type"].includes("Sort")).map((n) => n["Node Type"]),
      tableScans: nodes.filter((n) => n["Node Type"] === "Seq Scan").map((n) => n["Node Type"]),
      text: JSON.stringify(res.rows[0]["QUERY PLAN"]),
    };
  }

  /** Every captured statement reads through one index in page order, no sort, no table scan; returns the indexes. */
  async function expectIndexed(queries: CompiledQuery[]): Promise<string[]> {
    expect(queries.length).toBeGreaterThan(0);
    const used: string[] = [];
    for (const q of queries) {
      const plan = await explain(q);
      expect(plan.sorts, `${q.sql}\n${plan.text}`).toEqual([]);
      expect(plan.tableScans, `${q.sql}\n${plan.text}`).toEqual([]);
      expect(plan.indexes, `${q.sql}\n${plan.text}`).toHaveLength(1);
      used.push(plan.indexes[0]);
    }
    return used;
  }

  /** Every captured statement reads through `index` in page order. */
  async function expectIndexOrder(queries: CompiledQuery[], index: string) {
    expect(await expectIndexed(queries)).toEqual(queries.map(() => index));
  }

  /**
   * A page after a token: one range query per order key, deepest first. The
   * ranges bounded on a deep key hold the few rows equal to the position on
   * every key before it (the database may look them up through any index);
   * the ranges bounded on the first `wide` keys carry the page and must run
   * along the list's index.
   */
  async function expectTokenPage(queries: CompiledQuery[], keys: number, wide: number, index: string) {
    expect(queries.length).toBeLessThanOrEqual(keys);
    await expectIndexed(queries);
    const carrying = queries.slice(keys - wide);
    if (carrying.length > 0) await expectIndexOrder(carrying, index);
  }

  /** First page and the page after it: the statements of each, explained. */
  async function firstAndNext<R>(list: (req: PageRequest) => Promise<{ rows: R[]; nextToken: string }>, init: MessageInitShape<typeof ListRequestSchema>) {
    take();
    const first = await list(request({ ...init, limit: 100 }));
    const firstQueries = take();
    expect(first.rows).toHaveLength(100);
    const next = await list(request({ ...init, limit: 100, token: first.nextToken }));
    const nextQueries = take();
    expect(next.rows).toHaveLength(100);
    return { firstQueries, nextQueries, first: first.rows, next: next.rows };
  }

  it("ListRuns in the default order pages along idx_actions_runs_default_order", async () => {
    const reads = createActionReads(spy);
    const { firstQueries, nextQueries } = await firstAndNext((req) => reads.listRuns(PROJECT, req), {});
    expect(firstQueries).toHaveLength(1);
    await expectIndexOrder(firstQueries, "idx_actions_runs_default_order");
    // phase, created_at, run_name, name (project and domain are pinned): one statement inside a phase.
    await expectTokenPage(nextQueries, 4, 2, "idx_actions_runs_default_order");
    expect(nextQueries).toHaveLength(1);
  });

  it("ListRuns sorted by created_at pages along idx_actions_runs_created", async () => {
    const reads = createActionReads(spy);
    const sortByFields = [{ key: "created_at", direction: Sort_Direction.DESCENDING }];
    const { firstQueries, nextQueries, first, next } = await firstAndNext((req) => reads.listRuns(PROJECT, req), { sortByFields });
    expect(firstQueries).toHaveLength(1);
    await expectIndexOrder(firstQueries, "idx_actions_runs_created");
    // created_at, run_name, name.
    await expectTokenPage(nextQueries, 3, 1, "idx_actions_runs_created");
    const times = [...first, ...next].map((r) => Date.parse(String(r.created_at)));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it("ListRuns filtered by phase pages along idx_actions_runs_default_order", async () => {
    const reads = createActionReads(spy);
    const filters = [{ field: "phase", function: Filter_Function.EQUAL, values: [String(ActionPhase.RUNNING)] }];
    const { firstQueries, nextQueries, first, next } = await firstAndNext((req) => reads.listRuns(PROJECT, req), { filters });
    expect(firstQueries).toHaveLength(1);
    await expectIndexOrder(firstQueries, "idx_actions_runs_default_order");
    await expectTokenPage(nextQueries, 4, 2, "idx_actions_runs_default_order");
    expect([...first, ...next].every((r) => r.phase === ActionPhase.RUNNING && r.project === "proj1")).toBe(true);
  });

  it("ListActions in the default order pages along idx_actions_run_list_order", async () => {
    const reads = createActionReads(spy);
    const { firstQueries, nextQueries, first, next } = await firstAndNext((req) => reads.listActions(BIG_RUN, req), {});
    expect(firstQueries).toHaveLength(1);
    await expectIndexOrder(firstQueries, "idx_actions_run_list_order");
    // phase, created_at, name (project, domain and run_name are pinned); (created_at, name) is one row-value
    // bound, so a page inside one phase is a single statement.
    await expectTokenPage(nextQueries, 3, 2, "idx_actions_run_list_order");
    expect(nextQueries).toHaveLength(1);
    expect(nextQueries[0]!.sql).toMatch(/\("created_at", "name"[^)]*\) < \(/);
    expect(new Set([...first, ...next].map((r) => r.name)).size).toBe(200);
  });

  it("the WatchActions snapshot read pages along idx_actions_run_created_name", async () => {
    const states = createActionStateReads(spy);
    take();
    const first = await states.listActionStates(BIG_RUN, undefined, 200);
    const last = first.at(-1)!;
    const next = await states.listActionStates(BIG_RUN, { createdAt: String(last.created_at), name: last.name }, 200);
    const queries = take();
    expect(queries).toHaveLength(2);
    await expectIndexOrder(queries, "idx_actions_run_created_name");
    expect(next).toHaveLength(200);
    expect(next.some((r) => first.some((f) => f.name === r.name))).toBe(false);
  });
});

interface PgPlan {
  "Node Type": string;
  "Index Name"?: string;
  Plans?: PgPlan[];
}
