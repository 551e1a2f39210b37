// Development aid: wall time and CPU per CreateRun database write at one in
// flight on PostgreSQL, piece by piece, against B2's plain INSERT:
//   plain     the bench row inserted by Kysely (what B2 / B3-pg do)
//   recorded  the port's insert: the row and its Enqueue record in one statement
//   +remove   then the record removed (grouped, as the retrier does)
//   +notify   and the change notified through the PostgreSQL bus
// Usage: npx tsx bench/tools/pg-write-micro.ts [calls per variant] [rounds]
import { join } from "node:path";
import pg from "pg";
import pino from "pino";
import { openDatabase } from "../../src/repository/dialect/index.ts";
import { runMigrations } from "../../src/repository/migrate.ts";
import { createRepository } from "../../src/repository/index.ts";
import { createPendingEnqueueRepo } from "../../src/repository/kysely/pending-enqueue.ts";
import { defaultConfig } from "../../src/config/index.ts";
import { systemClock } from "../../src/util/clock.ts";
import { createPostgresBus } from "../../src/events/postgres.ts";
import { createInProcessBus } from "../../src/events/bus.ts";
import { createRunRequest } from "../lib/request.ts";
import { actionRow } from "../lib/row.ts";

const logger = pino({ level: "silent" });
const dbName = `pgmicro_${process.pid}`;
const admin = new pg.Client({ host: "127.0.0.1", user: "postgres", database: "postgres" });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const config = defaultConfig();
config.database.kind = "postgres";
config.database.postgres.host = "127.0.0.1";
config.database.postgres.dbname = dbName;
config.database.postgres.username = "postgres";
config.database.postgres.port = 5432;
const h = await openDatabase(config.database, logger);
await runMigrations(h, join(import.meta.dirname, "../../migrations"), logger);
const clock = systemClock();
const pgBus = createPostgresBus({ newClient: h.newClient!, logger });
await pgBus.start();
const pending = createPendingEnqueueRepo(h, clock);
const N = Number(process.argv[2] ?? 1500);
const rounds = Number(process.argv[3] ?? 3);
let n = 0;
const request = new Uint8Array(300).fill(7);

async function variant(name: string, withRecord: boolean, remove: boolean, notify: boolean) {
  const repo = createRepository(h, clock, notify ? pgBus : createInProcessBus());
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const lat: number[] = [];
  for (let i = 0; i < N; i++) {
    const req = createRunRequest(`m${n++}`);
    const s = performance.now();
    if (!withRecord) {
      await h.db.insertInto("actions").values(actionRow(req, "file:///tmp/x", (b) => b) as never).execute();
    } else {
      const row = actionRow(req, "file:///tmp/x", (b) => b) as never;
      const key = { project: "flytesnacks", domain: "development", run: (req.id.value as { name: string }).name, action: "a0" };
      await repo.actions.createAction(row, { pendingEnqueue: { request, leaseUntil: clock.now() } });
      if (remove) void pending.remove(key);
    }
    lat.push(performance.now() - s);
  }
  const c = process.cpuUsage(c0);
  lat.sort((a, b) => a - b);
  console.log(name.padEnd(10), `p50 ${(lat[N >> 1]! * 1000).toFixed(0)} µs`, `mean ${(((performance.now() - t0) * 1000) / N).toFixed(0)} µs`, `cpu ${((c.user + c.system) / N).toFixed(0)} µs/call`);
}

for (let r = 0; r < rounds; r++) {
  await variant("plain", false, false, false);
  await variant("recorded", true, false, false);
  await variant("+remove", true, true, false);
  await variant("+notify", true, true, true);
}
await pgBus.close();
await h.close();
await admin.query(`DROP DATABASE ${dbName}`);
await admin.end();
