import type { Logger } from "pino";
import type { Config } from "../../config/index.js";
import { openPostgres } from "./postgres.js";
import { openSqlite } from "./sqlite.js";
import type { DatabaseHandle } from "./types.js";

export type { DatabaseHandle, DialectKind, MigrationSession } from "./types.js";

/** Opens the database the config chose (creating a missing PostgreSQL database). */
export async function openDatabase(config: Config["database"], logger: Logger): Promise<DatabaseHandle> {
  if (config.kind === "sqlite") return openSqlite({ file: config.sqlite.file });
  const p = config.postgres;
  return openPostgres({
    host: p.host,
    port: p.port,
    database: p.dbname,
    user: p.username,
    password: p.password,
    options: p.options,
    maxOpenConnections: config.maxOpenConnections,
    maxIdleConnections: config.maxIdleConnections,
    connMaxLifeTimeMs: config.connMaxLifeTime,
    logger,
  });
}
