import type { CompiledQuery, Kysely, QueryResult } from "kysely";
import type { Database, SqlBool } from "../schema/index.js";

export type DialectKind = "sqlite" | "postgres";

/** Applies migration scripts while holding the cross-process migration lock. */
export interface MigrationSession {
  /** Versions already recorded in schema_migrations. */
  appliedVersions(): Promise<Set<string>>;
  /**
   * Runs `script` and records `version` in one transaction. Returns false
   * (and runs nothing) when another process recorded the version meanwhile.
   */
  apply(version: string, script: string): Promise<boolean>;
}

/**
 * Everything that differs between SQLite and PostgreSQL lives behind this
 * interface; repositories use `db` (dialect-free Kysely) and these helpers.
 */
export interface DatabaseHandle {
  readonly kind: DialectKind;
  readonly db: Kysely<Database>;
  /** Resolves when the database answers; rejects with the reason otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** The value to bind for a boolean column. */
  bool(value: boolean): SqlBool;
  /** True for a unique / primary-key violation. */
  isUniqueViolation(error: unknown): boolean;
  /** True when the error means the database could not be reached (retry later). */
  isConnectionError(error: unknown): boolean;
  withMigrationLock<T>(fn: (session: MigrationSession) => Promise<T>): Promise<T>;
  /**
   * Runs a compiled statement outside any transaction. On PostgreSQL a
   * statement whose text recurs runs as a named prepared statement (parsed and
   * planned once per connection; see postgres-prepared.ts); SQLite's statements
   * are cached already. For hot statements with a fixed result shape only.
   */
  executePrepared<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
  /**
   * PostgreSQL only: a new, unconnected client outside the pool with the
   * pool's connection settings (for the LISTEN/NOTIFY connection).
   */
  newClient?(): import("pg").Client;
  /** PostgreSQL only: the pool's connections (all, idle) and the requests waiting for one (metrics). */
  poolStats?(): { total: number; idle: number; waiting: number };
}
