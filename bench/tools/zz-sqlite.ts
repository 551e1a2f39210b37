import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { openDatabase } from "../../src/repository/dialect/index.ts";
import { runMigrations } from "../../src/repository/migrate.ts";
import { defaultConfig } from "../../src/config/index.ts";
import { systemClock } from "../../src/util/clock.ts";
import { createRepository } from "../../src/repository/index.ts";
import { createRunRequest } from "../lib/request.ts";
import { actionRow } from "../lib/row.ts";
const logger = pino({ level: "silent" });
const dir = mkdtempSync(join(tmpdir(), "sq-"));
const config = defaultConfig();
config.database.kind = "sqlite";
config.database.sqlite.file = join(dir, "runs.db");
const h = await openDatabase(config.database, logger);
await runMigrations(h, join(import.meta.dirname, "../../migrations"), logger);
const clock = systemClock();
const repo = createRepository(h, clock);
const asBuf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
let n = 0;
const request = Buffer.alloc(300, 7);
import BetterSqlite3 from "better-sqlite3";
import { pendingEnqueueValues } from "../../src/repository/kysely/pending-enqueue.ts";
const raw = new BetterSqlite3(config.database.sqlite.file);
raw.pragma("journal_mode = WAL"); raw.pragma("synchronous = NORMAL");
const cache = new Map<string, BetterSqlite3.Statement>();
const prep = (t: string) => { let s = cache.get(t); if (!s) { s = raw.prepare(t); cache.set(t, s); } return s; };
const tx = raw.transaction((a: { sql: string; parameters: readonly unknown[] }, b: { sql: string; parameters: readonly unknown[] }) => {
  if (prep(a.sql).run(...(a.parameters as unknown[])).changes > 0) prep(b.sql).run(...(b.parameters as unknown[]));
});
const variants: Record<string, () => Promise<unknown>> = {
  plain: () => h.db.insertInto("actions").values(actionRow(createRunRequest(`s${n++}`), "file:///tmp/x", asBuf) as never).execute(),
  recorded: () => repo.actions.createAction(actionRow(createRunRequest(`s${n++}`), "file:///tmp/x", asBuf) as never, { pendingEnqueue: { request, leaseUntil: clock.now() } }),
  rawtx: async () => {
    const values = actionRow(createRunRequest(`s${n++}`), "file:///tmp/x", asBuf) as any;
    const now = clock.now();
    const rec = pendingEnqueueValues({ project: values.project, domain: values.domain, run: values.run_name, action: "a0" }, { request, leaseUntil: now }, now);
    const a = h.db.insertInto("actions").values(values).onConflict((oc) => oc.doNothing()).compile();
    const b = h.db.insertInto("pending_enqueues").values(rec as any).compile();
    await new Promise((r) => setImmediate(r));
    tx(a, b);
  },
};
const lat: Record<string, number[]> = { plain: [], recorded: [], rawtx: [] };
const cpu: Record<string, number> = { plain: 0, recorded: 0, rawtx: 0 };
for (let i = 0; i < 4000; i++) for (const [k, fn] of Object.entries(variants)) { const c0 = process.cpuUsage(); const s = performance.now(); await fn(); lat[k]!.push(performance.now() - s); const c = process.cpuUsage(c0); cpu[k]! += c.user + c.system; }
for (const [k, l] of Object.entries(lat)) { l.sort((a, b) => a - b); console.log(k.padEnd(10), `p50 ${(l[l.length >> 1]! * 1000).toFixed(0)} µs`, `p90 ${(l[Math.floor(l.length * 0.9)]! * 1000).toFixed(0)} µs`, `cpu ${(cpu[k]! / l.length).toFixed(0)} µs`); }
await h.close();
