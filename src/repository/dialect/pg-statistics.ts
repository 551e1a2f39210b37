/**
 * PostgreSQL only: keeps the planner's statistics of the busy tables fresh.
 *
 * Without statistics (a server running with autovacuum off, or a table that
 * grew faster than autovacuum's next visit) the planner takes a lookup of one
 * action, project = … AND domain = … AND run_name = … AND name = …, through
 * idx_actions_run_lookup and filters the whole run by name, so every status
 * update of a run with thousands of children reads all of them. With
 * statistics it uses the primary key. So every `intervalMs` this checks how
 * many rows of `actions` and `action_events` changed since their last
 * ANALYZE (pg_stat_user_tables, counted by the server for every process) and
 * runs ANALYZE on a table past autovacuum's default threshold (50 rows +
 * 10 % of the table). ANALYZE samples a bounded number of rows and blocks no
 * reads or writes; a failed check is logged and tried again next time.
 */
import { sql, type Kysely } from "kysely";
import type { Logger } from "pino";
import type { Database } from "../schema/index.js";

export interface StatisticsKeeper {
  /** Runs one check now (the first one runs at start). */
  check(): Promise<string[]>;
  stop(): Promise<void>;
}

const TABLES = ["actions", "action_events"] as const;
const BASE_THRESHOLD = 50;
const SCALE_FACTOR = 0.1;

export function startStatisticsKeeper(opts: { db: Kysely<Database>; logger: Logger; intervalMs?: number }): StatisticsKeeper {
  const { db, logger } = opts;
  const intervalMs = opts.intervalMs ?? 5000;
  let running: Promise<string[]> | undefined;
  let stopped = false;

  async function check(): Promise<string[]> {
    const stats = await sql<{ relname: string; changed: string | number; tuples: string | number }>`
      SELECT s.relname, s.n_mod_since_analyze AS changed, GREATEST(c.reltuples, 0) AS tuples
      FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
      WHERE s.schemaname = current_schema() AND s.relname IN (${sql.join([...TABLES])})`.execute(db);
    const analyzed: string[] = [];
    for (const row of stats.rows) {
      if (stopped) break;
      if (Number(row.changed) <= BASE_THRESHOLD + SCALE_FACTOR * Number(row.tuples)) continue;
      await sql`ANALYZE ${sql.table(row.relname)}`.execute(db);
      analyzed.push(row.relname);
    }
    if (analyzed.length > 0) logger.debug({ tables: analyzed }, "planner statistics refreshed");
    return analyzed;
  }

  const once = (): Promise<string[]> => {
    running ??= check()
      .catch((error: unknown) => {
        logger.warn({ err: error }, "could not refresh the planner statistics; trying again later");
        return [];
      })
      .finally(() => (running = undefined));
    return running;
  };
  void once();
  const timer = setInterval(() => void once(), intervalMs);
  timer.unref();

  return {
    check: once,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
