// The query plans of the first ListActions and ListRuns page in the default order, on both databases: an
// index read in that order (idx_actions_run_list_order, idx_actions_root_list_order), never a sort of the
// whole run or project. The SQL checked is the one the repository runs, captured through a Kysely plugin.
import { create } from "@bufbuild/protobuf";
import { CompiledQuery, sql, type KyselyPlugin, type RootOperationNode } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ListRequestSchema } from "#gen/flyteidl2/common/list_pb.js";
import type { DatabaseHandle } from "../../src/repository/dialect/index.js";
import type { ActionRepo } from "../../src/repository/interfaces/action.js";
import type { PageRequest } from "../../src/repository/interfaces/common.js";
import { createActionRepo } from "../../src/repository/kysely/action.js";
import { ACTION_COLUMNS, parseListRequest } from "../../src/repository/list/index.js";
import type { NewActionRow } from "../../src/repository/schema/index.js";
import { openMigratedDatabase, testDialects } from "../support/databases.js";
import { manualClock } from "../support/manual-clock.js";
import { newActionRow, recordingBus } from "./action-fixtures.js";

const PROJECT = "proj1";
const DOMAIN = "domain1";
const ACTIONS_IN_RUN = 3000;
const RUNS = 3000;

const firstPage = (): PageRequest => parseListRequest(create(ListRequestSchema, { limit: 50 }), ACTION_COLUMNS);

describe.each(await testDialects())("list query plans on %s", (kind) => {
  let handle: DatabaseHandle;
  let drop: () => Promise<void>;
  let repo: ActionRepo;
  const captured: RootOperationNode[] = [];

  beforeAll(async () => {
    ({ handle, drop } = await openMigratedDatabase(kind));
    const clock = manualClock("2026-01-01T00:00:00.000000Z");
    const rows: NewActionRow[] = [newActionRow(clock, { run_name: "big", name: "a0", parent_action_name: null })];
    for (let i = 0; i < ACTIONS_IN_RUN; i++) {
      clock.advance(1);
      rows.push(newActionRow(clock, { run_name: "big", name: `c${i}`, parent_action_name: "a0", phase: 1 + (i % 4) }));
    }
    for (let i = 0; i < RUNS; i++) {
      clock.advance(1);
      rows.push(newActionRow(clock, { run_name: `r${i}`, name: "a0", parent_action_name: null, phase: 1 + (i % 4) }));
    }
    for (let i = 0; i < rows.length; i += 200) await handle.db.insertInto("actions").values(rows.slice(i, i + 200)).execute();
    if (kind === "postgres") await sql`ANALYZE actions`.execute(handle.db);
    else await sql`ANALYZE`.execute(handle.db);
    const capture: KyselyPlugin = {
      transformQuery: ({ node }) => {
        captured.push(node);
        return node;
      },
      transformResult: async ({ result }) => result,
    };
    repo = createActionRepo({ ...handle, db: handle.db.withPlugin(capture) }, clock, recordingBus());
  }, 120_000);
  afterAll(async () => drop?.());

  /** The plan of the last query the repository ran, as text. */
  async function planOfLastQuery(): Promise<string> {
    const node = captured.at(-1)!;
    const compiled = handle.db.getExecutor().compileQuery(node, { queryId: "plan" });
    const prefix = kind === "postgres" ? "EXPLAIN " : "EXPLAIN QUERY PLAN ";
    const result = await handle.db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(prefix + compiled.sql, [...compiled.parameters]));
    return result.rows.map((r) => String(r["QUERY PLAN"] ?? r.detail)).join("\n");
  }

  /**
   * SQLite: no temporary b-tree for ORDER BY. PostgreSQL: no Sort node; an Incremental Sort on top of the
   * index order is allowed (the page's text tie-breakers compare in the "C" collation, so rows with the
   * same phase and created_at, and only those, are put in order among themselves).
   */
  function expectNoFullSort(plan: string): void {
    if (kind === "sqlite") {
      expect(plan).not.toContain("TEMP B-TREE");
      return;
    }
    expect(plan).not.toMatch(/(^|->\s+)Sort\s/m);
    if (plan.includes("Incremental Sort")) expect(plan).toContain("Presorted Key: phase, created_at");
  }

  it("ListActions reads the run's first page from idx_actions_run_list_order, without a sort", async () => {
    const page = await repo.listActions({ project: PROJECT, domain: DOMAIN, run: "big" }, firstPage());
    expect(page.rows).toHaveLength(50);
    const plan = await planOfLastQuery();
    expect(plan).toContain("idx_actions_run_list_order");
    expectNoFullSort(plan);
  });

  it("ListRuns reads the project's first page from the partial idx_actions_root_list_order, without a sort", async () => {
    const page = await repo.listRuns({ kind: "project", project: PROJECT, domain: DOMAIN }, firstPage());
    expect(page.rows).toHaveLength(50);
    expect(page.rows.every((r) => r.parent_action_name === null)).toBe(true);
    const plan = await planOfLastQuery();
    expect(plan).toContain("idx_actions_root_list_order");
    expectNoFullSort(plan);
  });
});
