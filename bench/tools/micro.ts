// Development aid: CPU cost of the pieces of CreateRun in a tight loop (one
// process, no I/O), to see which are worth optimising. No assertions.
// Usage: npx tsx bench/tools/micro.ts
import { clone, create, toBinary, fromBinary } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { readFileSync, readdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputsSchema } from "#gen/flyteidl2/task/common_pb.js";
import { CreateRunRequestSchema } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { ActionSpecSchema } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { taskSpecToStored } from "../../src/repository/transformers/task-spec.js";
import { runRowToRun } from "../../src/repository/transformers/action.js";
import { createRunRequest, INPUTS, TASK_SPEC } from "../lib/request.js";
import { actionRow } from "../lib/row.js";

function bench(name: string, fn: () => unknown, ms = 1000): void {
  for (let i = 0; i < 200; i++) fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
  }
  const us = ((performance.now() - t0) * 1000) / n;
  console.log(`${us.toFixed(1).padStart(8)} µs  ${name}`);
}

const req = createRunRequest("bmicro1");
const wire = toBinary(CreateRunRequestSchema, req);
const validator = createValidator();
bench("decode CreateRunRequest", () => fromBinary(CreateRunRequestSchema, wire));
bench("validate CreateRunRequest (protovalidate)", () => validator.validate(CreateRunRequestSchema, req));
bench("taskSpecToStored (digest + encode)", () => taskSpecToStored(TASK_SPEC));
bench("clone Inputs", () => clone(InputsSchema, INPUTS));
bench("encode Inputs", () => toBinary(InputsSchema, INPUTS));
const asBuf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
bench("actionRow (ActionSpec + RunInfo + RunSpec encode)", () => actionRow(req, "file:///tmp/x", asBuf));
const row = actionRow(req, "file:///tmp/x", (b) => b);
bench("runRowToRun", () => runRowToRun({ ...row, created_by: null, created_by_subject: null, ended_at: null, duration_ms: null } as never));

const dir = mkdtempSync(join(tmpdir(), "micro-"));
const raw = new BetterSqlite3(join(dir, "db.sqlite"));
raw.pragma("journal_mode = WAL");
raw.pragma("synchronous = NORMAL");
const mig = join(process.cwd(), "migrations/sqlite/runs");
for (const f of readdirSync(mig).sort()) raw.exec(readFileSync(join(mig, f), "utf8"));
const db = new Kysely<any>({ dialect: new SqliteDialect({ database: raw }) });
const q = () => db.insertInto("actions").values(actionRow(req, "file:///tmp/x", asBuf)).onConflict((oc) => oc.doNothing());
bench("kysely build+compile INSERT actions", () => q().compile());
const compiled = q().compile();
bench("better-sqlite3 prepare INSERT actions", () => raw.prepare(compiled.sql));
bench("better-sqlite3 prepare SELECT project", () => raw.prepare('select "identifier" from "projects" where "identifier" = ?'));
bench("kysely build+compile SELECT project", () => db.selectFrom("projects").select("identifier").where("identifier", "=", "x").compile());
let k = 0;
const stmt = raw.prepare(compiled.sql);
bench("better-sqlite3 run prepared INSERT (new row each)", () => {
  const r = actionRow(createRunRequest(`m${k++}`), "file:///tmp/x", asBuf);
  stmt.run(...Object.values(r));
}, 500);
bench("kysely execute INSERT (new row each)", () => {
  // not awaited: better-sqlite3 runs synchronously inside
  void db.insertInto("actions").values(actionRow(createRunRequest(`n${k++}`), "file:///tmp/x", asBuf)).execute();
}, 500);
