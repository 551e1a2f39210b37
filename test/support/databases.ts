import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import pino from "pino";
import { defaultConfig, type Config } from "../../src/config/index.js";
import { openDatabase, type DatabaseHandle } from "../../src/repository/dialect/index.js";
import { runMigrations } from "../../src/repository/migrate.js";

export const PG_HOST = process.env.RUNS_TEST_PG_HOST ?? "127.0.0.1";
export const PG_PORT = Number(process.env.RUNS_TEST_PG_PORT ?? 5432);
export const MIGRATIONS_DIR = join(import.meta.dirname, "../../migrations");
export const quietLogger = pino({ level: "silent" });

let pgProbe: Promise<boolean> | undefined;

/** Whether PostgreSQL answers; with RUNS_TEST_REQUIRE_POSTGRES=1 (CI) a missing server fails instead. */
export function postgresAvailable(): Promise<boolean> {
  pgProbe ??= (async () => {
    const client = new pg.Client({ host: PG_HOST, port: PG_PORT, user: "postgres", database: "postgres" });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch (error) {
      if (process.env.RUNS_TEST_REQUIRE_POSTGRES === "1") {
        throw new Error(`PostgreSQL is required (RUNS_TEST_REQUIRE_POSTGRES=1) but ${PG_HOST}:${PG_PORT} did not answer: ${(error as Error).message}`);
      }
      console.warn(`skipping PostgreSQL tests: ${PG_HOST}:${PG_PORT} did not answer (${(error as Error).message})`);
      return false;
    }
  })();
  return pgProbe;
}

export type DialectName = "sqlite" | "postgres";
export const DIALECTS: DialectName[] = ["sqlite", "postgres"];

export interface TestDatabase {
  config: Config["database"];
  /** Removes the database (PostgreSQL: DROP DATABASE; SQLite: the temp folder). */
  drop(): Promise<void>;
}

/** A fresh, empty database of the given kind, not yet migrated. */
export async function createTestDatabase(kind: DialectName): Promise<TestDatabase> {
  const config = defaultConfig().database;
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "runs-test-"));
    config.kind = "sqlite";
    config.sqlite.file = join(dir, "runs.db");
    return { config, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `runs_test_${randomBytes(6).toString("hex")}`;
  config.kind = "postgres";
  config.postgres = { ...config.postgres, host: PG_HOST, port: PG_PORT, dbname: name, username: "postgres", password: "" };
  config.maxOpenConnections = 10;
  return {
    config,
    async drop() {
      const admin = new pg.Client({ host: PG_HOST, port: PG_PORT, user: "postgres", database: "postgres" });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** A fresh migrated database handle plus cleanup. */
export async function openMigratedDatabase(kind: DialectName): Promise<{ handle: DatabaseHandle; drop(): Promise<void> }> {
  const testDb = await createTestDatabase(kind);
  const handle = await openDatabase(testDb.config, quietLogger);
  await runMigrations(handle, MIGRATIONS_DIR, quietLogger);
  return {
    handle,
    async drop() {
      await handle.close();
      await testDb.drop();
    },
  };
}

/** The dialects to run database tests on: SQLite always, PostgreSQL when it answers (required in CI). */
export async function testDialects(): Promise<DialectName[]> {
  return (await postgresAvailable()) ? ["sqlite", "postgres"] : ["sqlite"];
}
