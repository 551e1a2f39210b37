// Development aid: the repository calls CreateRun makes (projects.exists,
// actions.getRun, taskSpecs.put, actions.createAction), timed in one process
// against a fresh database, for the source tree given (so two trees, e.g. a
// `git archive HEAD src` copy and the working tree, can be compared).
// Each is compared with one INSERT of the same row through the same Kysely
// instance (B1's work), alternating in chunks. The task spec digest is
// computed in both trees (not in the INSERT).
// Usage: npx tsx bench/tools/repo-micro.ts SRC_ROOT sqlite|postgres [calls] [concurrency]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";
import pino from "pino";
import { createRunRequest, TASK_SPEC } from "../lib/request.js";
import { actionRow } from "../lib/row.js";

const [rootArg, kind = "sqlite", callsArg = "2000", concArg = "1"] = process.argv.slice(2);
const root = resolve(rootArg);
const calls = Number(callsArg);
const concurrency = Number(concArg);
const { openDatabase } = await import(`${root}/src/repository/dialect/index.ts`);
const { runMigrations } = await import(`${root}/src/repository/migrate.ts`);
const { createRepository } = await import(`${root}/src/repository/index.ts`);
const { taskSpecToStored } = await import(`${root}/src/repository/transformers/task-spec.ts`);
const { defaultConfig } = await import(`${root}/src/config/index.ts`);
const { systemClock } = await import(`${root}/src/util/clock.ts`);

const logger = pino({ level: "silent" });
const config = defaultConfig().database;
let cleanup: () => Promise<void>;
const dbName = `repo_micro_${process.pid}`;
if (kind === "sqlite") {
  const dir = mkdtempSync(join(tmpdir(), "repo-micro-"));
  config.kind = "sqlite";
  config.sqlite.file = join(dir, "runs.db");
  cleanup = async () => rmSync(dir, { recursive: true, force: true });
} else {
  config.kind = "postgres";
  config.postgres = { ...config.postgres, host: "127.0.0.1", port: 5432, dbname: dbName, username: "postgres", password: "" };
  cleanup = async () => {
    const c = new pg.Client({ host: "127.0.0.1", user: "postgres", database: "postgres" });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.end();
  };
}
const handle = await openDatabase(config, logger);
// The schema is the same in both trees: use this checkout's migrations.
await runMigrations(handle, join(import.meta.dirname, "../../migrations"), logger);
const clock = systemClock();
const repo = createRepository(handle, clock);
await repo.projects.create({ identifier: "flytesnacks", name: "flytesnacks", description: "", labels: null, state: 0, created_at: clock.now(), updated_at: clock.now() } as never).catch(() => undefined);

let n = 0;
async function createRunDb(): Promise<void> {
  const name = `rm${process.pid}x${n++}`;
  const req = createRunRequest(name);
  if (!(await repo.projects.exists("flytesnacks"))) throw new Error("no project");
  await repo.actions.getRun({ project: "flytesnacks", domain: "development", run: name }).catch(() => undefined);
  const stored = taskSpecToStored(TASK_SPEC);
  await repo.taskSpecs.put(stored.digest, stored.spec);
  const row = actionRow(req, "file:///tmp/x", (b) => b);
  const { inserted } = await repo.actions.createAction({ ...row, created_at: clock.now(), updated_at: clock.now() });
  if (!inserted) throw new Error("not inserted");
}

/** The baseline: one INSERT of the same row through the same Kysely instance (what B1 does). */
async function insertOnly(): Promise<void> {
  const name = `ri${process.pid}x${n++}`;
  const row = actionRow(createRunRequest(name), "file:///tmp/x", (b) => (kind === "sqlite" ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : b));
  await handle.db.insertInto("actions").values({ ...row, created_at: clock.now(), updated_at: clock.now() }).execute();
}

async function drive(fn: () => Promise<void>, count: number): Promise<void> {
  let left = count;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await fn();
    }),
  );
}

async function measure(fn: () => Promise<void>, count: number): Promise<{ wall: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await drive(fn, count);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wall: (wall * 1000) / count, cpu: (cpu.user + cpu.system) / count };
}

await drive(createRunDb, 300);
await drive(insertOnly, 300);
// Alternate in chunks so drift hits both alike.
const chunk = Math.max(100, Math.floor(calls / 5));
const seq: { wall: number; cpu: number }[] = [];
const base: { wall: number; cpu: number }[] = [];
for (let i = 0; i < 5; i++) {
  base.push(await measure(insertOnly, chunk));
  seq.push(await measure(createRunDb, chunk));
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const sw = med(seq.map((x) => x.wall));
const sc = med(seq.map((x) => x.cpu));
const bw = med(base.map((x) => x.wall));
const bc = med(base.map((x) => x.cpu));
console.log(
  `${root.padEnd(16)} ${kind.padEnd(8)} c${String(concurrency).padEnd(2)} CreateRun's repository calls: ${sw.toFixed(0).padStart(5)} µs wall, ${sc.toFixed(0).padStart(5)} µs cpu` +
    ` | one INSERT: ${bw.toFixed(0).padStart(4)} µs wall, ${bc.toFixed(0).padStart(4)} µs cpu | ratio wall ${(sw / bw).toFixed(2)}, cpu ${(sc / bc).toFixed(2)}`,
);
await handle.close();
await cleanup();
