import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/repository/dialect/index.js";
import { listMigrations, runMigrations } from "../../src/repository/migrate.js";
import { createTestDatabase, DIALECTS, MIGRATIONS_DIR, postgresAvailable, quietLogger, type TestDatabase } from "../support/databases.js";
import { describeTables, migrateAsReference, PORT_INDEXES, REFERENCE_V2_0_43, withoutPortIndexes } from "./fixtures/reference-v2.0.43.js";

const REFERENCE_VERSION = "runs/20260408110000_init_schema";
const TABLES = ["projects", "actions", "action_events", "tasks", "task_specs", "triggers", "trigger_revisions"];
const REFERENCE_VERSIONS = REFERENCE_V2_0_43.map((step) => step.version);
/** The reference's tables at v2.0.43 (settings once this checkout ships it). */
const REFERENCE_TABLES = REFERENCE_VERSIONS.some((v) => v.endsWith("_add_settings_table")) ? [...TABLES, "settings"] : TABLES;

describe("migration files", () => {
  it("order the reference's schema first and namespace the port's own", () => {
    for (const kind of ["sqlite", "postgres"] as const) {
      const versions = listMigrations(MIGRATIONS_DIR, kind).map((m) => m.version);
      expect(versions[0]).toBe(REFERENCE_VERSION);
      expect(versions.every((v) => v.startsWith("runs/") || v.startsWith("runs_ts/"))).toBe(true);
      // Versions sort by their timestamp across namespaces: the view refresh follows the columns it shows.
      expect(versions.indexOf("runs_ts/20260722100001_inspection_views_created_by")).toBeGreaterThan(
        versions.indexOf("runs/20260618140000_add_actions_created_by_subject"),
      );
      // The reference's own later migrations keep its version names.
      expect(versions).toContain("runs/20260812100000_add_settings_table");
    }
  });

  it("carry the reference's v2.0.43 versions under its own names on PostgreSQL", () => {
    const ours = listMigrations(MIGRATIONS_DIR, "postgres").map((m) => m.version).filter((v) => v.startsWith("runs/"));
    expect(ours).toEqual(REFERENCE_VERSIONS);
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
      const runs = await sql`SELECT id, org, project, domain, name, root_action_name, created_at, created_by_subject FROM runs ORDER BY created_at DESC`.execute(handle.db);
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

  it("adopts a database the reference v2.0.16 migrated, and its actions table keeps exactly the reference's columns", async (ctx) => {
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
      expect(cols.rows).toHaveLength(33 + 2); // v2.0.16 columns plus created_by, created_by_subject
      expect(cols.rows.map((r) => r.column_name)).not.toContain("id");
      // The inspection query for actions works with the "inspect" schema first on the path.
      await goLike.query("SET search_path TO inspect, public");
      await goLike.query("SELECT id, org, project, domain, run_name, name, phase, action_type FROM actions ORDER BY created_at DESC");
    } finally {
      await goLike.end();
      await handle.close();
    }
  });

  async function freshDatabase(): Promise<{ testDb: TestDatabase; client: pg.Client }> {
    const created = await createTestDatabase("postgres");
    const pgc = created.config.postgres;
    const admin = new pg.Client({ host: pgc.host, port: pgc.port, user: "postgres", database: "postgres" });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${pgc.dbname}"`);
    await admin.end();
    const client = new pg.Client({ host: pgc.host, port: pgc.port, user: "postgres", database: pgc.dbname });
    await client.connect();
    return { testDb: created, client };
  }

  it("adopts a database the reference's v2.0.43 migrated, with nothing to repair", async (ctx) => {
    if (!(await postgresAvailable())) ctx.skip();
    const { testDb: created, client: goLike } = await freshDatabase();
    testDb = created;
    const handle = await openDatabase(created.config, quietLogger);
    try {
      expect(await migrateAsReference(goLike)).toEqual(REFERENCE_VERSIONS);
      const before = await describeTables(goLike, REFERENCE_TABLES);
      await goLike.query("INSERT INTO projects (identifier, name) VALUES ('from-go', 'Go')");
      await goLike.query(
        `INSERT INTO actions (project, domain, run_name, name, phase, run_source, action_type, task_type, function_name, created_by, created_by_subject)
         VALUES ('from-go', 'development', 'r1', 'a0', 9, 'RUN_SOURCE_WEB', 1, 'python', 'main', '\\x0a00'::bytea, 'alice')`,
      );

      const result = await runMigrations(handle, MIGRATIONS_DIR, quietLogger);
      expect(result.applied.filter((v) => v.startsWith("runs/"))).toEqual([]);
      expect(result.skipped).toEqual(expect.arrayContaining(REFERENCE_VERSIONS));
      // The port changed nothing in the reference's tables but adding its own list indexes.
      const after = await describeTables(goLike, REFERENCE_TABLES);
      expect(withoutPortIndexes(after)).toEqual(before);
      expect(after.indexes.map((i) => (i as { indexname: string }).indexname)).toEqual(expect.arrayContaining(PORT_INDEXES));
      // Its inspection views show the reference's new columns.
      const runs = await goLike.query("SELECT name, created_by_subject FROM runs");
      expect(runs.rows).toEqual([{ name: "r1", created_by_subject: "alice" }]);
      await goLike.query("SET search_path TO inspect, public");
      const inspected = await goLike.query("SELECT id, org, run_name, created_by, created_by_subject FROM actions");
      expect(inspected.rows).toHaveLength(1);
      expect(inspected.rows[0].created_by_subject).toBe("alice");
      const inspectRuns = await goLike.query("SELECT created_by_subject FROM runs");
      expect(inspectRuns.rows).toEqual([{ created_by_subject: "alice" }]);
    } finally {
      await goLike.end();
      await handle.close();
    }
  });

  it("takes back a database the previous release of this port made and the reference's v2.0.43 then upgraded", async (ctx) => {
    if (!(await postgresAvailable())) ctx.skip();
    const { testDb: created, client } = await freshDatabase();
    testDb = created;
    const handle = await openDatabase(created.config, quietLogger);
    try {
      // The previous release: the reference's init schema plus this port's views and pending_enqueues.
      const previous = listMigrations(MIGRATIONS_DIR, "postgres").filter((m) => m.version.split("/")[1]! < "20260618");
      expect(previous.map((m) => m.version)).toEqual([REFERENCE_VERSION, "runs_ts/20260408110001_inspection_views", "runs_ts/20260408110002_pending_enqueues"]);
      await client.query("CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW())");
      for (const m of previous) {
        await client.query(readFileSync(m.path, "utf8"));
        await client.query("INSERT INTO schema_migrations (version) VALUES ($1)", [m.version]);
      }
      // The Go service adds its columns and indexes under the port's views.
      expect(await migrateAsReference(client)).toEqual(REFERENCE_VERSIONS.slice(1));
      const result = await runMigrations(handle, MIGRATIONS_DIR, quietLogger);
      expect(result.applied).toEqual(["runs_ts/20260722100001_inspection_views_created_by", "runs_ts/20261204100001_list_order_indexes"]);
      await client.query("SET search_path TO inspect, public");
      await client.query("SELECT id, org, created_by, created_by_subject FROM actions");
      await client.query("SELECT id, org, name, created_by_subject FROM runs");
    } finally {
      await client.end();
      await handle.close();
    }
  });

  it("leaves the reference's v2.0.43 nothing to do on a database this port migrated", async (ctx) => {
    if (!(await postgresAvailable())) ctx.skip();
    const { testDb: created, client: goLike } = await freshDatabase();
    testDb = created;
    const reference = await freshDatabase();
    const handle = await openDatabase(created.config, quietLogger);
    try {
      await runMigrations(handle, MIGRATIONS_DIR, quietLogger);
      // The reference's migrator finds every one of its versions recorded ...
      expect(await migrateAsReference(goLike)).toEqual([]);
      const recorded = await goLike.query("SELECT version FROM schema_migrations WHERE version LIKE 'runs/%' ORDER BY version");
      expect(recorded.rows.map((r) => r.version)).toEqual(REFERENCE_VERSIONS);
      // ... and the tables it reads are exactly the ones its own migrations build.
      await migrateAsReference(reference.client);
      // (besides the port's own list indexes, which the reference's service neither needs nor minds).
      expect(withoutPortIndexes(await describeTables(goLike, REFERENCE_TABLES))).toEqual(await describeTables(reference.client, REFERENCE_TABLES));
    } finally {
      await goLike.end();
      await reference.client.end();
      await reference.testDb.drop();
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
