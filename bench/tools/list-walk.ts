import { CompiledQuery } from "kysely";
import { create, toBinary } from "@bufbuild/protobuf";
const R = "/work/main";
const { openMigratedDatabase } = await import(`${R}/test/support/databases.ts`);
const { manualClock } = await import(`${R}/test/support/manual-clock.ts`);
const { newActionRow, recordingBus } = await import(`${R}/test/repository/action-fixtures.ts`);
const { createActionRepo } = await import(`${R}/src/repository/kysely/action.ts`);
const { ACTION_ROW_COLUMNS } = await import(`${R}/src/repository/kysely/action-read.ts`);
const { ACTION_COLUMNS, parseListRequest } = await import(`${R}/src/repository/list/index.ts`);
const { actionRowToAction } = await import(`${R}/src/repository/transformers/action.ts`);
const { ListActionsResponseSchema } = await import("#gen/flyteidl2/workflow/run_service_pb.js");
const { ListRequestSchema } = await import("#gen/flyteidl2/common/list_pb.js");
const kind = process.argv[2] ?? "postgres";
const { handle, drop } = await openMigratedDatabase(kind);
const clock = manualClock("2026-01-01T00:00:00.000000Z");
const repo = createActionRepo(handle, clock, recordingBus());
await repo.createAction(newActionRow(clock, { run_name: "big", name: "a0" }));
const cols = ACTION_ROW_COLUMNS.join(", ");
const subst: Record<string, string> = { name: "'c' || s.i", parent_action_name: "'a0'", phase: "1 + s.i % 6" };
const exprs = ACTION_ROW_COLUMNS.map((c: string) => subst[c] ?? `t.${c}`).join(", ");
const text = kind === "sqlite"
  ? `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 10000) INSERT INTO actions (${cols}) SELECT ${exprs} FROM s, actions t WHERE t.run_name = 'big' AND t.name = 'a0'`
  : `INSERT INTO actions (${cols}) SELECT ${exprs} FROM generate_series(1, 10000) AS s(i), actions t WHERE t.run_name = 'big' AND t.name = 'a0'`;
await handle.db.executeQuery(CompiledQuery.raw(text));
if (kind === "postgres") await handle.db.executeQuery(CompiledQuery.raw("ANALYZE actions"));
const run = { project: "proj1", domain: "domain1", run: "big" };
for (let round = 0; round < 4; round++) {
  let token = ""; let pages = 0; let tq = 0; let tx = 0;
  const t0 = performance.now();
  do {
    const a = performance.now();
    const page = await repo.listActions(run, parseListRequest(create(ListRequestSchema, { limit: 200, token }), ACTION_COLUMNS));
    const b = performance.now();
    toBinary(ListActionsResponseSchema, create(ListActionsResponseSchema, { actions: page.rows.map(actionRowToAction), token: page.nextToken }));
    tx += performance.now() - b; tq += b - a;
    token = page.nextToken; pages++;
  } while (token);
  console.log(kind, "pages", pages, "total", (performance.now() - t0).toFixed(0), "query", tq.toFixed(0), "encode", tx.toFixed(0));
}
await handle.destroy?.(); await drop();
