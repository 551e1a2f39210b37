// PostgreSQL: the statistics keeper runs ANALYZE on a table that grew past the threshold, after which a
// single-action lookup goes through the primary key instead of filtering the whole run.
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStatisticsKeeper, type StatisticsKeeper } from "../../src/repository/dialect/pg-statistics.js";
import { openMigratedDatabase, postgresAvailable, quietLogger } from "../support/databases.js";
import { DOMAIN, PROJECT, taskRow } from "../api/watch-helpers.js";
import { pause } from "../api/watch-helpers.js";

describe.runIf(await postgresAvailable())("planner statistics on postgres", () => {
  let db: Awaited<ReturnType<typeof openMigratedDatabase>>;
  let keeper: StatisticsKeeper;

  beforeAll(async () => {
    db = await openMigratedDatabase("postgres");
  });
  afterAll(async () => {
    await keeper?.stop();
    await db?.drop();
  });

  const plan = async () =>
    (
      await sql<{ "QUERY PLAN": string }>`EXPLAIN SELECT phase FROM actions
        WHERE project = ${PROJECT} AND domain = ${DOMAIN} AND run_name = 'big' AND name = 'c1500'`.execute(db.handle.db)
    ).rows
      .map((r) => r["QUERY PLAN"])
      .join("\n");

  it("analyzes actions once 2,000 rows were written, and the lookup uses the primary key", async () => {
    // The first check (at start) finds nothing to do on empty tables.
    keeper = startStatisticsKeeper({ db: db.handle.db, logger: quietLogger, intervalMs: 3_600_000 });
    expect(await keeper.check()).toEqual([]);
    const rows = Array.from({ length: 2000 }, (_, i) => taskRow("big", i === 0 ? "a0" : `c${i}`, i === 0 ? null : "a0"));
    for (let i = 0; i < rows.length; i += 200) await db.handle.db.insertInto("actions").values(rows.slice(i, i + 200)).execute();
    // Never analyzed: the lookup goes through an index of the whole run (the planner picks among
    // idx_actions_run_lookup and the run-ordered list indexes) and filters it by name.
    expect(await plan()).toMatch(/idx_actions_run_(lookup|list_order|created_name)/);
    // Other sessions' counters reach pg_stat_user_tables within about a second.
    let analyzed: string[] = [];
    for (let tries = 0; tries < 50 && !analyzed.includes("actions"); tries++) {
      analyzed = await keeper.check();
      if (!analyzed.includes("actions")) await pause(200);
    }
    expect(analyzed).toContain("actions");
    expect(await plan()).toContain("actions_pkey");
    expect(await keeper.check()).toEqual([]); // nothing changed since
  });
});
