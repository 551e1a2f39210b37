import pg from "pg";
import { Kysely, PostgresDialect } from "kysely";
import type { Logger } from "pino";
import type { Database } from "../schema/index.js";
import { parseTimestamp } from "../timestamps.js";
import { createPreparedRunner } from "./postgres-prepared.js";
import type { DatabaseHandle, MigrationSession } from "./types.js";

export interface PostgresOptions {
  host: string;
  port: number;
  database: string;
  user: string;
  /** Empty: connect without a password. */
  password: string;
  /** libpq-style "key=value key=value" options; sslmode and connect_timeout are honoured. */
  options: string;
  maxOpenConnections: number;
  maxIdleConnections: number;
  /** Recycle connections older than this (ms); 0 = never. */
  connMaxLifeTimeMs: number;
  logger: Logger;
}

/** Same key as the reference service, so the two never migrate at once. */
const MIGRATION_LOCK_ID = 5432;

const TIMESTAMPTZ_OID = 1184;
const TIMESTAMP_OID = 1114;
const INT8_OID = 20;

const types = {
  getTypeParser(oid: number, format?: string): (value: string) => unknown {
    if (oid === TIMESTAMPTZ_OID || oid === TIMESTAMP_OID) {
      return (value: string) => parseTimestamp(value) ?? value;
    }
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as "text");
  },
};

function parseOptions(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(/\s+/).filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq).toLowerCase()] = part.slice(eq + 1);
  }
  return out;
}

function clientConfig(o: PostgresOptions, database: string): pg.ClientConfig {
  const opts = parseOptions(o.options);
  const sslmode = (opts.sslmode ?? "disable").toLowerCase();
  return {
    host: o.host,
    port: o.port,
    database,
    user: o.user,
    password: o.password || undefined,
    ssl: sslmode === "disable" || sslmode === "allow" || sslmode === "prefer" ? false : { rejectUnauthorized: sslmode === "verify-full" || sslmode === "verify-ca" },
    connectionTimeoutMillis: opts.connect_timeout ? Number(opts.connect_timeout) * 1000 : 10_000,
    // Timestamps are exchanged as UTC text (see ../timestamps.ts).
    options: "-c TimeZone=UTC",
    types,
  };
}

const CONNECTION_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH",
  "57P01", "57P02", "57P03", "53300",
]);

export function isPgConnectionError(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (CONNECTION_CODES.has(code) || code.startsWith("08") || /^E[A-Z]+$/.test(code))) return true;
  const message = String((error as { message?: unknown }).message ?? "");
  return /Connection terminated|connection error|timeout exceeded when trying to connect|Client was closed|not queryable|timed out/i.test(message);
}

/** Creates the database when it does not exist yet, as the reference does. */
async function ensureDatabase(o: PostgresOptions): Promise<void> {
  const probe = new pg.Client(clientConfig(o, o.database));
  try {
    await probe.connect();
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== "3D000") throw error;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const admin = new pg.Client(clientConfig(o, "postgres"));
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${o.database.replaceAll('"', '""')}"`);
    o.logger.info({ database: o.database }, "created database");
  } catch (error) {
    if ((error as { code?: string }).code !== "42P04") throw error; // created concurrently
  } finally {
    await admin.end().catch(() => undefined);
  }
}

export async function openPostgres(o: PostgresOptions): Promise<DatabaseHandle> {
  await ensureDatabase(o);
  const pool = new pg.Pool({
    ...clientConfig(o, o.database),
    max: Math.max(1, o.maxOpenConnections),
    idleTimeoutMillis: 30_000,
    maxLifetimeSeconds: o.connMaxLifeTimeMs > 0 ? Math.ceil(o.connMaxLifeTimeMs / 1000) : 0,
  });
  // An idle client whose connection dies emits 'error' on the pool; without a
  // listener Node would crash the process. The next query reconnects.
  pool.on("error", (error) => o.logger.warn({ err: error }, "idle PostgreSQL connection lost"));
  // A checked-out client (e.g. inside a transaction, between two statements)
  // has no pool listener: its 'error' would be an uncaught exception. The
  // failure still reaches the caller through its next query.
  pool.on("connect", (client) => client.on("error", (error) => o.logger.warn({ err: error }, "PostgreSQL connection lost while in use")));

  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });

  return {
    kind: "postgres",
    db,
    async ping() {
      await pool.query("SELECT 1");
    },
    async close() {
      await db.destroy();
    },
    bool: (value) => value,
    isUniqueViolation: (error) => (error as { code?: unknown })?.code === "23505",
    isConnectionError: isPgConnectionError,
    executePrepared: createPreparedRunner(pool),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    newClient: () => new pg.Client({ ...clientConfig(o, o.database), keepAlive: true, keepAliveInitialDelayMillis: 10_000 }),
    async withMigrationLock(fn) {
      const client = await pool.connect();
      try {
        await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_ID]);
        try {
          await client.query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW())",
          );
          const session: MigrationSession = {
            async appliedVersions() {
              const res = await client.query<{ version: string }>("SELECT version FROM schema_migrations");
              return new Set(res.rows.map((r) => r.version));
            },
            async apply(version, script) {
              await client.query("BEGIN");
              try {
                const done = await client.query("SELECT 1 FROM schema_migrations WHERE version = $1", [version]);
                if (done.rowCount) {
                  await client.query("ROLLBACK");
                  return false;
                }
                await client.query(script);
                await client.query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, NOW())", [version]);
                await client.query("COMMIT");
                return true;
              } catch (error) {
                await client.query("ROLLBACK").catch(() => undefined);
                throw error;
              }
            },
          };
          return await fn(session);
        } finally {
          await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_ID]).catch(() => undefined);
        }
      } finally {
        client.release();
      }
    },
  };
}
