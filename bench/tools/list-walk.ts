// Development aid: one run of 10,000 children (cloned in SQL), then a
// ListActions walk (pages of 200) and a fresh WatchActions snapshot, four
// times each, against the whole service started in this process (the
// test app) on a fresh database. Profile with NODE_OPTIONS=--cpu-prof.
// Usage: npx tsx bench/tools/list-walk.ts sqlite|postgres [children]
import { CompiledQuery } from "kysely";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { startTestApp } from "../../test/support/app.js";
import { ACTION_ROW_COLUMNS } from "../../src/repository/kysely/action-read.js";
import { createRunRequest } from "../lib/request.js";
import { create, toBinary } from "@bufbuild/protobuf";
import { ListRequestSchema } from "#gen/flyteidl2/common/list_pb.js";
import { ListActionsResponseSchema } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { ACTION_COLUMNS, parseListRequest } from "../../src/repository/list/index.js";
import { actionRowToAction } from "../../src/repository/transformers/action.js";

const kind = (process.argv[2] ?? "postgres") as "sqlite" | "postgres";
const children = Number(process.argv[3] ?? 10_000);
const t = await startTestApp(kind);
const runs = createClient(RunService, t.transports["connect-h2"]);
const { run } = await runs.createRun(createRunRequest("big"));
const runId = run!.action!.id!.run!;
const db = t.app.db.db;
const cols = ACTION_ROW_COLUMNS.join(", ");
const subst: Record<string, string> = { name: "'c' || s.i", parent_action_name: "'a0'", phase: "1 + s.i % 6" };
const exprs = ACTION_ROW_COLUMNS.map((c) => subst[c] ?? `t.${c}`).join(", ");
const where = `t.run_name = '${runId.name}' AND t.name = 'a0'`;
await db.executeQuery(
  CompiledQuery.raw(
    kind === "sqlite"
      ? `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${children}) INSERT INTO actions (${cols}) SELECT ${exprs} FROM s, actions t WHERE ${where}`
      : `INSERT INTO actions (${cols}) SELECT ${exprs} FROM generate_series(1, ${children}) AS s(i), actions t WHERE ${where}`,
  ),
);
if (kind === "postgres") await db.executeQuery(CompiledQuery.raw("ANALYZE actions"));
const plain = createClient(RunService, createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "2", acceptCompression: [] }));
if (process.env.LIST_WALK_PROFILE === "snapshot") {
  // Only fresh snapshots through the service, for a profile of that path.
  for (let i = 0; i < 20; i++) {
    const fresh = new AbortController();
    let seen = 0;
    for await (const msg of plain.watchActions({ runId }, { signal: fresh.signal })) {
      seen += msg.enrichedActions.length;
      if (seen >= children + 1) break;
    }
    fresh.abort();
  }
} else if (process.env.LIST_WALK_PROFILE) {
  // Only walks through the service, for a profile of the RPC path.
  for (let i = 0; i < 20; i++) {
    let token = "";
    do token = (await plain.listActions({ runId, request: { limit: 200, token } })).token;
    while (token);
  }
}
for (let round = 0; round < (process.env.LIST_WALK_PROFILE ? 0 : 4); round++) {
  for (const [label, client] of [["gzip accepted", runs], ["no compression", plain]] as const) {
    let token = "";
    const t0 = performance.now();
    do token = (await client.listActions({ runId, request: { limit: 200, token } })).token;
    while (token);
    console.log(`  walk, ${label}: ${(performance.now() - t0).toFixed(0)} ms`);
  }
  {
    let token = "";
    const t0 = performance.now();
    do {
      const page = await t.app.repository.actions.listActions(
        { project: runId.project, domain: runId.domain, run: runId.name },
        parseListRequest(create(ListRequestSchema, { limit: 200, token }), ACTION_COLUMNS),
      );
      toBinary(ListActionsResponseSchema, create(ListActionsResponseSchema, { actions: page.rows.map((r) => actionRowToAction(r)), token: page.nextToken }));
      token = page.nextToken;
    } while (token);
    console.log(`  walk, repository + encode: ${(performance.now() - t0).toFixed(0)} ms`);
  }
  let token = "";
  let pages = 0;
  const t0 = performance.now();
  do {
    const page = await runs.listActions({ runId, request: { limit: 200, token } });
    token = page.token;
    pages++;
  } while (token);
  const walkMs = performance.now() - t0;
  const t1 = performance.now();
  const fresh = new AbortController();
  const seen = new Set<string>();
  for await (const msg of runs.watchActions({ runId }, { signal: fresh.signal })) {
    for (const ea of msg.enrichedActions) seen.add(ea.action?.id?.name ?? "");
    if (seen.size >= children + 1) break;
  }
  fresh.abort();
  console.log(`${kind}: ListActions walk ${pages} pages ${walkMs.toFixed(0)} ms; WatchActions snapshot ${(performance.now() - t1).toFixed(0)} ms`);
}
await t.close();
