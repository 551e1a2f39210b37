import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/repository/dialect/index.js";
import { listMigrations, runMigrations } from "../../src/repository/migrate.js";
import { createTestDatabase, DIALECTS, MIGRATIONS_DIR, postgresAvailable, quietLogger, type TestDatabase } from "../support/databases.js";

const REFERENCE_VERSION = "runs/20260408110000_init_schema";
const TABLES = ["projects", "actions", "action_events", "tasks", "task_specs", "triggers", "trigger_revisions", "settings"];

describe("migration files", () => {
  it("order the reference's schema first and namespace the port's own", () => {
    for (const kind of ["sqlite", "postgres"] as const) {
      const versions = listMigrations(MIGRATIONS_DIR, kind).map((m) => m.version);
      expect(versions[0]).toBe(REFERENCE_VERSION);
      expect(versions.slice(1).every((v) => v.startsWith("runs_ts/") || v.startsWith("runs/"))).toBe(true);
      // The reference's own later migrations keep its version names.
      expect(versions).toContain("runs/20260812100000_add_settings_table");
    }
  });
});

describe.each(DIALECTS)("migrations on %s", (kind) => {
  let testDb: TestDatabase | undefined;
  afterEach(async () => {
    await testDb?.drop();
    testDb = undefined;
  });

  it("create every table, record versions and are idempotent", async (ctx) => {
    if (kind === "postgres" && !(await postgresAvailable())) ctx.skip();
    testDb = await createTestDatabase(kind);
    const handle = await openDatabase(testDb.config, quietLogger);
    try {
      const first = await runMigrations(handle, MIGRATIONS_DIR, quietLogger);
      expect(first.applied[0]).toBe(REFERENCE_VERSION);
      const second = await runMigrations(handle, MIGRATIONS_DIR, quietLogger);
      expect(second.applied).toEqual([]);
      const versions = await handle.db.selectFrom("schema_migrations").select("version").execute();
      expect(versions.map((v) => v.version)).toContain(REFERENCE_VERSION);
      for (const table of TABLES) {
        await sql`SELECT count(*) FROM ${sql.table(table)}`.execute(handle.db);
      }
      // The seed README's inspection query works as printed.
      const runs = await sql`SELECT id, org, project, domain, name, root_action_name, created_at FROM runs ORDER BY created_at DESC`.execute(handle.db);
      expect(runs.rows).toEqual([]);
    } finally {
      await handle.close();
    }
  });

  it("run once when two processes start together", async (ctx) => {
    if (kind === "postgres" && !(await postgresAvailable())) ctx.skip();
    testDb = await createTestDatabase(kind);
    const a = await openDatabase(testDb.config, quietLogger);
    const b = await openDatabase(testDb.config, quietLogger);
    try {
      const [ra, rb] = await Promise.all([runMigrations(a, MIGRATIONS_DIR, quietLogger), runMigrations(b, MIGRATIONS_DIR, quietLogger)]);
      const applied = [...ra.applied, ...rb.applied];
      expect(applied.filter((v) => v === REFERENCE_VERSION)).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe("PostgreSQL compatibility with the reference service", () => {
  let testDb: TestDatabase | undefined;
  afterEach(async () => {
    await testDb?.drop();
    testDb = undefined;
  });

  it("adopts a database the reference migrated, and its actions table keeps exactly the reference's columns", async (ctx) => {
    if (!(await postgresAvailable())) ctx.skip();
    testDb = await createTestDatabase("postgres");
    const pgc = testDb.config.postgres;
    // Play the Go service: its schema_migrations table and its init schema.
    const admin = new pg.Client({ host: pgc.host, port: pgc.port, user: "postgres", database: "postgres" });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${pgc.dbname}"`);
    await admin.end();
    const goLike = new pg.Client({ host: pgc.host, port: pgc.port, user: "postgres", database: pgc.dbname });
    await goLike.connect();
    await goLike.query("CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW())");
    await goLike.query(readFileSync(join(MIGRATIONS_DIR, "postgres/runs/20260408110000_init_schema.sql"), "utf8"));
    await goLike.query("INSERT INTO schema_migrations (version) VALUES ($1)", [REFERENCE_VERSION]);
    await goLike.query("INSERT INTO projects (identifier, name) VALUES ('from-go', 'Go')");

    const handle = await openDatabase(testDb.config, quietLogger);
    try {
      const result = await runMigrations(handle, MIGRATIONS_DIR, quietLogger);
      expect(result.applied).not.toContain(REFERENCE_VERSION);
      expect(result.skipped).toContain(REFERENCE_VERSION);
      const kept = await handle.db.selectFrom("projects").select("name").where("identifier", "=", "from-go").executeTakeFirstOrThrow();
      expect(kept.name).toBe("Go");
      // The Go service reads `SELECT * FROM actions` into a fixed struct: no extra columns allowed.
      const cols = await goLike.query("SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'actions'");
      expect(cols.rows).toHaveLength(33);
      expect(cols.rows.map((r) => r.column_name)).not.toContain("id");
      // The inspection query for actions works with the "inspect" schema first on the path.
      await goLike.query("SET search_path TO inspect, public");
      await goLike.query("SELECT id, org, project, domain, run_name, name, phase, action_type FROM actions ORDER BY created_at DESC");
    } finally {
      await goLike.end();
      await handle.close();
    }
  });

  it("creates the database when it does not exist", async (ctx) => {
    if (!(await postgresAvailable())) ctx.skip();
    testDb = await createTestDatabase("postgres");
    const handle = await openDatabase(testDb.config, quietLogger);
    await handle.ping();
    await handle.close();
  });
});
