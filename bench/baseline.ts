/**
 * The bench's baseline servers: the same stack as the port (connect-node on an
 * HTTP/2 cleartext server, one node process started by the driver), serving
 * RunService/CreateRun only.
 *
 *   B0  answers with a canned response, no storage
 *   B1  one INSERT of the run's `actions` row into SQLite (WAL) through Kysely
 *   B2  the same into PostgreSQL
 *   B3  B1 plus the other work a CreateRun cannot skip, done plainly: the
 *       inputs written to `<prefix>/<project>/<domain>/<run>/inputs/inputs.pb`
 *       (folders, temp file, rename) before the INSERT, and
 *       ActionsService.Enqueue sent to `--actions-url` (connect-node over
 *       h2c) and awaited after it
 *   B3-pg  B3 on PostgreSQL: B2's INSERT with the same inputs file before it
 *       and the same awaited Enqueue after it (`--kind b3pg`)
 *   B4  InternalRunService's three bidi streams (bench group `bigrun`), each
 *       item answered after one write of its own into SQLite: an INSERT of the
 *       child's `actions` row, an UPDATE of its phase, an INSERT of the event
 *       (items of a stream one after the other)
 *   B4-pg  the same into PostgreSQL over a pool (`--kind b4pg`)
 *   fanout  no storage: CreateRun publishes the run (a synthetic Run, shaped
 *       like the port's) to every open RunService/WatchRuns stream, each
 *       stream sending one WatchRunsResponse per published run (the bare
 *       fan-out the watch rows compare the port with)
 *
 * The `actions` table comes from the port's own migration scripts, so the
 * baseline's INSERT updates the same indexes as the port's.
 *
 * Usage: node baseline.js --kind b0|b1|b2|b3|b3pg|b4|b4pg|fanout --port N --migrations DIR
 *          [--sqlite FILE] [--pg-db NAME] [--pg-host H] [--pg-port P] [--storage-prefix URL] [--actions-url URL]
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import * as http2 from "node:http2";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import { create, toBinary } from "@bufbuild/protobuf";
import { ActionsService } from "#gen/flyteidl2/actions/actions_service_pb.js";
import { InputsSchema } from "#gen/flyteidl2/task/common_pb.js";
import { RunService, WatchRunsResponseSchema, type CreateRunRequest, type WatchRunsResponse } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { InternalRunService } from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { bareStreamHandlers, type BareWrites } from "./lib/bigrun-baseline.js";
import { createRunRequest } from "./lib/request.js";
import { actionRow, runResponse } from "./lib/row.js";

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}

const kind = arg("kind");
const port = Number(arg("port"));
const storagePrefix = arg("storage-prefix", "file:///tmp/flyte-bench");

/** Statements of a script, comments dropped. */
const statements = (script: string) =>
  script
    .replace(/--[^\n]*/g, "")
    .split(";")
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * The reference's schema (`runs/`) plus the port's own scripts (`runs_ts/`)
 * that only add indexes to `actions` (the list orders of issue 18), so a
 * baseline's INSERT maintains every index the port's does; the port's other
 * additions (its inspection views and pending_enqueues table) are its own work.
 */
function migrationScripts(dialect: "sqlite" | "postgres"): string[] {
  const read = (folder: string) => {
    const dir = join(arg("migrations"), dialect, folder);
    return readdirSync(dir)
      .filter((f) => f.endsWith(".sql"))
      .sort()
      .map((f) => readFileSync(join(dir, f), "utf8"));
  };
  const actionIndexesOnly = (script: string) =>
    statements(script).every((s) => /^CREATE (UNIQUE )?INDEX (IF NOT EXISTS )?\w+\s+ON actions\b/i.test(s));
  return [...read("runs"), ...read("runs_ts").filter(actionIndexesOnly)];
}

type Insert = (req: CreateRunRequest) => Promise<void>;

let bare: BareWrites | undefined;

/** B3: `<prefix>/<project>/<domain>/<run>/` of the bench request (a file:// prefix). */
function runFolder(req: CreateRunRequest): string {
  if (req.id.case !== "runId") throw new Error("bench request expected");
  const { project, domain, name } = req.id.value;
  return `${fileURLToPath(storagePrefix)}/${project}/${domain}/${name}`;
}

let tempCounter = 0;
async function writeInputs(req: CreateRunRequest): Promise<void> {
  const dir = `${runFolder(req)}/inputs`;
  const temp = `${dir}/.inputs.pb.${process.pid}.${tempCounter++}`;
  await mkdir(dir, { recursive: true });
  await writeFile(temp, toBinary(InputsSchema, req.inputWrapper.case === "inputs" ? req.inputWrapper.value : create(InputsSchema)), { flag: "wx" });
  await rename(temp, `${dir}/inputs.pb`);
}

function enqueueRequest(req: CreateRunRequest) {
  if (req.id.case !== "runId" || req.task.case !== "taskSpec") throw new Error("bench request expected");
  const { org, project, domain, name } = req.id.value;
  const spec = req.task.value;
  const base = `${storagePrefix}/${project}/${domain}/${name}/`;
  return {
    action: {
      actionId: { run: { org, project, domain, name }, name: "a0" },
      inputUri: `${base}inputs`,
      runOutputBase: base,
      spec: { case: "task" as const, value: { spec, cacheKey: "" } },
    },
    runSpec: { rawDataStorage: { rawDataPrefix: storagePrefix } },
  };
}

function enqueueClient(baseUrl: string) {
  const sessions = new Http2SessionManager(baseUrl);
  const client = createClient(ActionsService, createConnectTransport({ baseUrl, httpVersion: "2", sessionManager: sessions }));
  return {
    enqueue: (req: ReturnType<typeof enqueueRequest>) => client.enqueue(req, { timeoutMs: 10_000 }),
    close: () => sessions.abort(),
  };
}

/** B3 / B3-pg: the inputs file before the INSERT, the awaited Enqueue after it. */
function withRequiredWork(insert: Insert, close: () => Promise<void>): { insert: Insert; close: () => Promise<void> } {
  const executor = enqueueClient(arg("actions-url"));
  return {
    insert: async (req) => {
      await writeInputs(req);
      await insert(req);
      await executor.enqueue(enqueueRequest(req));
    },
    close: async () => {
      executor.close();
      await close();
    },
  };
}

async function openStorage(): Promise<{ insert: Insert; close: () => Promise<void> } | undefined> {
  switch (kind) {
    case "b0":
    case "fanout":
      return undefined;
    case "b1":
    case "b3":
    case "b4": {
      const raw = new BetterSqlite3(arg("sqlite"));
      raw.pragma("journal_mode = WAL");
      raw.pragma("busy_timeout = 5000");
      raw.pragma("synchronous = NORMAL");
      for (const script of migrationScripts("sqlite")) raw.exec(script);
      const db = new Kysely<any>({ dialect: new SqliteDialect({ database: raw }) });
      // better-sqlite3 binds Buffers, not bare Uint8Arrays.
      const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
      const insert: Insert = async (req) => {
        await db.insertInto("actions").values(actionRow(req, storagePrefix, asBuffer)).execute();
      };
      if (kind === "b4") bare = { db, asBytes: asBuffer };
      if (kind === "b1" || kind === "b4") return { insert, close: () => db.destroy() };
      return withRequiredWork(insert, () => db.destroy());
    }
    case "b2":
    case "b3pg":
    case "b4pg": {
      const pool = new pg.Pool({
        host: arg("pg-host", "127.0.0.1"),
        port: Number(arg("pg-port", "5432")),
        user: arg("pg-user", "postgres"),
        database: arg("pg-db"),
        max: Number(arg("pg-max", "100")),
        options: "-c TimeZone=UTC",
      });
      for (const script of migrationScripts("postgres")) await pool.query(script);
      const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
      if (kind === "b4pg") {
        bare = { db, asBytes: (b) => b };
        // The planner statistics the port keeps (every 5 s): without them an UPDATE of one action goes through
        // idx_actions_run_lookup and scans the whole run on a server with autovacuum off.
        setInterval(() => void pool.query("ANALYZE actions; ANALYZE action_events").catch(() => undefined), 5000).unref();
      }
      const insert: Insert = async (req) => {
        await db.insertInto("actions").values(actionRow(req, storagePrefix, (b) => b)).execute();
      };
      if (kind === "b3pg") return withRequiredWork(insert, () => db.destroy());
      return { insert, close: () => db.destroy() };
    }
    default:
      throw new Error(`unknown --kind ${kind}`);
  }
}

const storage = await openStorage();
/** B0's answer: built once, never changes. */
const canned = runResponse(createRunRequest("canned"));

/** fanout: the open WatchRuns streams, each a queue of messages and a wake-up. */
interface Subscriber {
  queue: WatchRunsResponse[];
  wake: (() => void) | undefined;
}
const subscribers = new Set<Subscriber>();

function publish(msg: WatchRunsResponse): void {
  for (const s of subscribers) {
    s.queue.push(msg);
    const wake = s.wake;
    s.wake = undefined;
    wake?.();
  }
}

const handler = connectNodeAdapter({
  readMaxBytes: 64 * 1024 * 1024,
  routes(router) {
    if (bare) router.service(InternalRunService, bareStreamHandlers(bare));
    router.service(RunService, {
      async createRun(req) {
        if (kind === "fanout") {
          const res = runResponse(req);
          publish(create(WatchRunsResponseSchema, { runs: [res.run!] }));
          return res;
        }
        if (!storage) return canned;
        await storage.insert(req);
        return runResponse(req);
      },
      async *watchRuns(_req, ctx) {
        const sub: Subscriber = { queue: [], wake: undefined };
        subscribers.add(sub);
        const onAbort = () => sub.wake?.();
        ctx.signal.addEventListener("abort", onAbort);
        try {
          while (!ctx.signal.aborted) {
            if (sub.queue.length === 0) {
              await new Promise<void>((resolve) => (sub.wake = resolve));
              continue;
            }
            const batch = sub.queue;
            sub.queue = [];
            yield* batch;
          }
        } finally {
          subscribers.delete(sub);
          ctx.signal.removeEventListener("abort", onAbort);
        }
      },
    });
  },
  // The driver's readiness probe.
  fallback(req, res) {
    res.writeHead(req.url === "/readyz" ? 200 : 404);
    res.end();
  },
});

const server = http2.createServer(handler);
server.listen(port, "127.0.0.1", () => process.stdout.write(`baseline ${kind} listening on ${port}\n`));

async function shutdown(): Promise<void> {
  server.close();
  await storage?.close();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown());
process.on("SIGINT", () => void shutdown());
