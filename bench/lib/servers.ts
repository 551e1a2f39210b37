/**
 * Starting and stopping the servers under test (each a separate node
 * process), their config files, and the bench's PostgreSQL databases.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import * as http2 from "node:http2";
import * as net from "node:net";
import { join } from "node:path";
import pg from "pg";

export interface ServerProcess {
  /** e.g. "port/sqlite", "B1". */
  readonly label: string;
  readonly pid: number;
  readonly baseUrl: string;
  /** ms from spawn until /readyz answered 200. */
  readonly startupMs: number;
  readonly logFile: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** One HTTP/2 GET of /readyz; true on 200. */
function probe(baseUrl: string): Promise<boolean> {
  return new Promise((resolve) => {
    const session = http2.connect(baseUrl);
    const done = (ok: boolean) => {
      session.close();
      session.destroy();
      resolve(ok);
    };
    session.once("error", () => done(false));
    session.setTimeout(1000, () => done(false));
    const req = session.request({ ":path": "/readyz", ":method": "GET" });
    req.once("response", (headers) => {
      req.resume();
      req.once("end", () => done(headers[":status"] === 200));
    });
    req.once("error", () => done(false));
    req.end();
  });
}

export async function startServer(opts: {
  label: string;
  args: string[];
  port: number;
  logFile: string;
  cwd: string;
  nodeArgs?: string[];
  /** Added to the bench's environment. */
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<ServerProcess> {
  const baseUrl = `http://127.0.0.1:${opts.port}`;
  const fd = openSync(opts.logFile, "a");
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...opts.args], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = code ?? (signal ? -1 : 0);
      resolve();
    });
  });
  const deadline = started + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (exited !== undefined) {
      throw new Error(`${opts.label} exited with ${exited} before it was ready; log:\n${tail(opts.logFile)}`);
    }
    if (await probe(baseUrl)) break;
    if (performance.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${opts.label} not ready after ${opts.timeoutMs ?? 60_000} ms; log:\n${tail(opts.logFile)}`);
    }
    await sleep(50);
  }
  const startupMs = performance.now() - started;
  return {
    label: opts.label,
    pid: child.pid!,
    baseUrl,
    startupMs,
    logFile: opts.logFile,
    async stop() {
      if (exited !== undefined) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function mkdirp(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

// --- the port's config --------------------------------------------------------

export interface PortConfig {
  port: number;
  dataDir: string;
  actionsServiceUrl: string;
  sqliteFile?: string;
  pgDatabase?: string;
  pg?: PgTarget;
}

export function portConfigYaml(c: PortConfig): string {
  const db = c.sqliteFile
    ? `  sqlite:\n    file: ${JSON.stringify(c.sqliteFile)}\n`
    : `  postgres:\n    host: ${JSON.stringify(c.pg!.host)}\n    port: ${c.pg!.port}\n    dbname: ${JSON.stringify(c.pgDatabase)}\n` +
      `    username: ${JSON.stringify(c.pg!.user)}\n    password: ""\n    options: "sslmode=disable"\n`;
  return [
    "runs:",
    `  server: { host: "127.0.0.1", port: ${c.port} }`,
    `  storagePrefix: ${JSON.stringify(`file://${join(c.dataDir)}`)}`,
    `  actionsServiceUrl: ${JSON.stringify(c.actionsServiceUrl)}`,
    `  seedProjects: ["flytesnacks"]`,
    "  triggerScheduler:",
    "    enabled: false",
    "database:",
    db.trimEnd(),
    "logger:",
    "  level: 2",
    "",
  ].join("\n");
}

// --- PostgreSQL ------------------------------------------------------------------

export interface PgTarget {
  host: string;
  port: number;
  user: string;
}

export function pgTarget(): PgTarget {
  return {
    host: process.env.BENCH_PG_HOST ?? "127.0.0.1",
    port: Number(process.env.BENCH_PG_PORT ?? 5432),
    user: process.env.BENCH_PG_USER ?? "postgres",
  };
}

async function admin<T>(t: PgTarget, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ host: t.host, port: t.port, user: t.user, database: "postgres", connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** undefined when PostgreSQL answers; else why not. */
export async function pgUnavailable(t: PgTarget): Promise<string | undefined> {
  try {
    await admin(t, (c) => c.query("SELECT 1"));
    return undefined;
  } catch (error) {
    return (error as Error).message || String(error);
  }
}

export async function createPgDatabase(t: PgTarget, name: string): Promise<void> {
  await dropPgDatabase(t, name);
  await admin(t, (c) => c.query(`CREATE DATABASE "${name}"`));
}

export async function dropPgDatabase(t: PgTarget, name: string): Promise<void> {
  await admin(t, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}
