import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect, type SqliteDatabase } from "kysely";
import type { Database } from "../schema/index.js";
import type { DatabaseHandle, MigrationSession } from "./types.js";

export interface SqliteOptions {
  /** Database file; ":memory:" for a private in-memory database. */
  file: string;
  /** How long a writer waits for another process's lock, in ms (default 5000). */
  busyTimeoutMs?: number;
}

/**
 * better-sqlite3 binds only numbers, strings, bigints, Buffers and null:
 * booleans become 0/1 and Uint8Arrays (what protobuf-es produces) Buffers.
 */
function bindable(value: unknown): unknown {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return value;
}

/** Prepared statements kept per SQL text; the service issues a small, fixed set of shapes. */
const STATEMENT_CACHE_SIZE = 500;

function compatible(raw: BetterSqlite3.Database): SqliteDatabase {
  // Preparing costs as much as running a small statement; better-sqlite3
  // runs synchronously, so a cached statement is never in use twice at once
  // (iterate() is the exception and gets a fresh one).
  const cache = new Map<string, BetterSqlite3.Statement>();
  const prepared = (sql: string): BetterSqlite3.Statement => {
    let stmt = cache.get(sql);
    if (stmt) {
      cache.delete(sql);
    } else {
      stmt = raw.prepare(sql);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    }
    cache.set(sql, stmt); // most recently used last
    return stmt;
  };
  const params = (p: ReadonlyArray<unknown>) => p.map(bindable);
  return {
    close: () => {
      cache.clear();
      raw.close();
    },
    prepare(sql: string) {
      const stmt = prepared(sql);
      return {
        reader: stmt.reader,
        all: (p) => stmt.all(...params(p)),
        run: (p) => stmt.run(...params(p)),
        iterate: (p) => raw.prepare(sql).iterate(...params(p)),
      };
    },
  };
}

export function openSqlite(options: SqliteOptions): DatabaseHandle {
  if (options.file !== ":memory:") mkdirSync(dirname(options.file), { recursive: true });
  const raw = new BetterSqlite3(options.file);
  raw.pragma("journal_mode = WAL");
  raw.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  raw.pragma("synchronous = NORMAL");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: compatible(raw) }) });

  const session: MigrationSession = {
    async appliedVersions() {
      const rows = raw.prepare("SELECT version FROM schema_migrations").all() as { version: string }[];
      return new Set(rows.map((r) => r.version));
    },
    async apply(version, script) {
      // IMMEDIATE takes the write lock first, so two processes starting at
      // once apply each migration exactly once.
      const run = raw.transaction(() => {
        const done = raw.prepare("SELECT 1 FROM schema_migrations WHERE version = ?").get(version);
        if (done) return false;
        raw.exec(script);
        raw
          .prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)")
          .run(version, new Date().toISOString());
        return true;
      });
      return run.immediate();
    },
  };

  return {
    kind: "sqlite",
    db,
    async ping() {
      raw.prepare("SELECT 1").get();
    },
    async close() {
      await db.destroy();
    },
    bool: (value) => (value ? 1 : 0),
    executePrepared: (query) => db.executeQuery(query),
    isUniqueViolation(error) {
      const code = (error as { code?: unknown })?.code;
      return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
    },
    isConnectionError(error) {
      const code = (error as { code?: unknown })?.code;
      return code === "SQLITE_CANTOPEN" || code === "SQLITE_IOERR";
    },
    async withMigrationLock(fn) {
      raw.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
      );
      return fn(session);
    },
  };
}
