// scratch: raw better-sqlite3 cost of one autocommit insert vs grouped in one transaction
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { createRunRequest } from "../lib/request.js";
import { actionRow } from "../lib/row.js";
const dir = mkdtempSync(join(tmpdir(), "exp-"));
const db = new Database(join(dir, "x.db"));
db.pragma("journal_mode = WAL"); db.pragma("synchronous = NORMAL");
for (const d of ["runs","runs_ts"]) { const mig = join(import.meta.dirname, "../../migrations/sqlite", d);
for (const f of readdirSync(mig).filter((f) => f.endsWith(".sql")).sort()) db.exec(readFileSync(join(mig, f), "utf8")); }
const buf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
let n = 0;
const rows = () => { const r: any = actionRow(createRunRequest(`x${n++}`), "file:///tmp/x", buf); r.created_at = r.updated_at = new Date().toISOString(); return r; };
const cols = Object.keys(rows());
const stmt = db.prepare(`INSERT INTO actions (${cols.join(",")}) VALUES (${cols.map(() => "?").join(",")}) ON CONFLICT DO NOTHING`);
const pend = db.prepare(`INSERT INTO pending_enqueues (project, domain, run_name, name, request, attempts, next_attempt_at, last_error, created_at, updated_at) VALUES (?,?,?,?,?,1,?,NULL,?,?)`);
const del = db.prepare(`DELETE FROM pending_enqueues WHERE project=? AND domain=? AND run_name=? AND name=?`);
const N = 3000;
function one(withPend: boolean, batch: number) {
  const data = Array.from({ length: N }, rows);
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i += batch) {
    const go = () => { for (let j = i; j < Math.min(N, i + batch); j++) { const r = data[j]; stmt.run(...cols.map((c) => r[c])); if (withPend) pend.run(r.project, r.domain, r.run_name, "a0", Buffer.alloc(300), r.created_at, r.created_at, r.created_at); } };
    if (batch === 1 && !withPend) go(); else db.transaction(go)();
  }
  if (withPend) { const go = () => { for (const r of data) del.run(r.project, r.domain, r.run_name, "a0"); }; for (let i = 0; i < N; i += 16) db.transaction(() => { for (let j = i; j < Math.min(N, i + 16); j++) { const r = data[j]; del.run(r.project, r.domain, r.run_name, "a0"); } })(); }
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) / N).toFixed(0);
}
try { db.exec("select 1 from pending_enqueues limit 1"); } catch (e) { console.log(e); }
for (let r = 0; r < 3; r++) console.log("autocommit", one(false, 1), "| txn+pend+del b1", one(true, 1), "| b4", one(true, 4), "| b16", one(true, 16), "| insert only b16", one(false, 16));
