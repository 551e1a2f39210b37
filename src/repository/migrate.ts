import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { DatabaseHandle } from "./dialect/index.js";

/**
 * Migrations live in `<dir>/<dialect>/<namespace>/<version>.sql`. The
 * namespace prefixes the recorded version: `runs/20260408110000_init_schema`
 * is the reference's own (same text in schema_migrations, so either service
 * can adopt the other's database); `runs_ts/...` are this port's additions.
 * Files run in version order across namespaces, each in its own transaction,
 * under the reference's advisory lock on PostgreSQL.
 */
export interface MigrationFile {
  version: string;
  path: string;
}

export function listMigrations(dir: string, kind: DatabaseHandle["kind"]): MigrationFile[] {
  const root = join(dir, kind);
  if (!existsSync(root)) throw new Error(`migrations folder not found: ${root}`);
  const files: (MigrationFile & { stem: string })[] = [];
  for (const namespace of readdirSync(root, { withFileTypes: true })) {
    if (!namespace.isDirectory()) continue;
    for (const file of readdirSync(join(root, namespace.name))) {
      if (!file.endsWith(".sql") || file.endsWith("_down.sql")) continue;
      const stem = file.slice(0, -4);
      files.push({ stem, version: `${namespace.name}/${stem}`, path: join(root, namespace.name, file) });
    }
  }
  files.sort((a, b) => (a.stem === b.stem ? a.version.localeCompare(b.version) : a.stem.localeCompare(b.stem)));
  return files.map(({ version, path }) => ({ version, path }));
}

export interface MigrationResult {
  applied: string[];
  skipped: string[];
}

export async function runMigrations(handle: DatabaseHandle, dir: string, logger: Logger): Promise<MigrationResult> {
  const files = listMigrations(dir, handle.kind);
  return handle.withMigrationLock(async (session) => {
    const done = await session.appliedVersions();
    const result: MigrationResult = { applied: [], skipped: [] };
    for (const file of files) {
      if (done.has(file.version)) {
        result.skipped.push(file.version);
        continue;
      }
      try {
        if (await session.apply(file.version, readFileSync(file.path, "utf8"))) {
          logger.info({ version: file.version }, "applied migration");
          result.applied.push(file.version);
        } else {
          result.skipped.push(file.version);
        }
      } catch (error) {
        throw new Error(`migration ${file.version} failed: ${(error as Error).message}`, { cause: error });
      }
    }
    return result;
  });
}
