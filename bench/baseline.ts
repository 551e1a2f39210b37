/**
 * The bench's baseline servers: the same stack as the port (connect-node on an
 * HTTP/2 cleartext server, one node process started by the driver), serving
 * RunService/CreateRun only.
 *
 *   B0  answers with a canned response, no storage
 *   B1  one INSERT of the run's `actions` row into SQLite (WAL) through Kysely
 *   B2  the same into PostgreSQL
 *   fanout  no storage: CreateRun publishes the run (a synthetic Run, shaped
 *       like the port's) to every open RunService/WatchRuns stream, each
 *       stream sending one WatchRunsResponse per published run (the bare
 *       fan-out the watch rows compare the port with)
 *
 * The `actions` table comes from the port's own migration scripts, so the
 * baseline's INSERT updates the same indexes as the port's.
 *
 * Usage: node baseline.js --kind b0|b1|b2|fanout --port N --migrations DIR
 *          [--sqlite FILE] [--pg-db NAME] [--pg-host H] [--pg-port P] [--storage-prefix URL]
 */
import { readdirSync, readFileSync } from "node:fs";
import * as http2 from "node:http2";
import { join } from "node:path";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import { create } from "@bufbuild/protobuf";
import { RunService, WatchRunsResponseSchema, type CreateRunRequest, type WatchRunsResponse } from "#gen/flyteidl2/workflow/run_service_pb.js";
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

function migrationScripts(dialect: "sqlite" | "postgres"): string[] {
  const dir = join(arg("migrations"), dialect, "runs");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .map((f) => readFileSync(join(dir, f), "utf8"));
}

type Insert = (req: CreateRunRequest) => Promise<void>;

async function openStorage(): Promise<{ insert: Insert; close: () => Promise<void> } | undefined> {
  switch (kind) {
    case "b0":
    case "fanout":
      return undefined;
    case "b1": {
      const raw = new BetterSqlite3(arg("sqlite"));
      raw.pragma("journal_mode = WAL");
      raw.pragma("busy_timeout = 5000");
      raw.pragma("synchronous = NORMAL");
      for (const script of migrationScripts("sqlite")) raw.exec(script);
      const db = new Kysely<any>({ dialect: new SqliteDialect({ database: raw }) });
      // better-sqlite3 binds Buffers, not bare Uint8Arrays.
      const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
      return {
        insert: async (req) => {
          await db.insertInto("actions").values(actionRow(req, storagePrefix, asBuffer)).execute();
        },
        close: () => db.destroy(),
      };
    }
    case "b2": {
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
      return {
        insert: async (req) => {
          await db.insertInto("actions").values(actionRow(req, storagePrefix, (b) => b)).execute();
        },
        close: () => db.destroy(),
      };
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
