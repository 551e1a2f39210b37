// executePrepared: the same results as Kysely on both databases, and on PostgreSQL a recurring
// text runs as one named prepared statement per connection, up to the runner's limit of names.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/util/clock.js";
import { createPreparedRunner } from "../../src/repository/dialect/postgres-prepared.js";
import { DIALECTS, PG_HOST, PG_PORT, openMigratedDatabase, postgresAvailable } from "../support/databases.js";

const pgUp = await postgresAvailable();
const now = systemClock().now();
const project = (id: string) => ({ identifier: id, name: id, description: "", labels: null, state: 0, created_at: now, updated_at: now });

describe.each(DIALECTS)("executePrepared on %s", (kind) => {
  let db: Awaited<ReturnType<typeof openMigratedDatabase>> | undefined;
  beforeAll(async () => {
    if (kind === "postgres" && !pgUp) return;
    db = await openMigratedDatabase(kind);
  });
  afterAll(async () => db?.drop());

  it.runIf(kind === "sqlite" || pgUp)("reports inserted rows, conflicts and returned rows as Kysely does", async () => {
    const h = db!.handle;
    const insert = (id: string) =>
      h.db.insertInto("projects").values(project(id)).onConflict((oc) => oc.doNothing()).compile();
    expect((await h.executePrepared(insert("p1"))).numAffectedRows).toBe(1n);
    expect((await h.executePrepared(insert("p2"))).numAffectedRows).toBe(1n);
    // The same text again, now a conflict: nothing inserted.
    expect((await h.executePrepared(insert("p1"))).numAffectedRows).toBe(0n);
    const select = h.db.selectFrom("projects").select(["identifier", "name"]).where("identifier", "=", "p2").compile();
    expect((await h.executePrepared(select)).rows).toEqual([{ identifier: "p2", name: "p2" }]);
  });
});

describe.runIf(pgUp)("prepared statements on postgres", () => {
  let migrated: Awaited<ReturnType<typeof openMigratedDatabase>>;
  let pool: pg.Pool;

  beforeAll(async () => {
    migrated = await openMigratedDatabase("postgres");
    const name = (await migrated.handle.db.selectNoFrom((eb) => eb.fn<string>("current_database").as("db")).executeTakeFirstOrThrow()).db;
    // One connection, so that the session's prepared statements are the ones every call used.
    pool = new pg.Pool({ host: PG_HOST, port: PG_PORT, user: "postgres", database: name, max: 1 });
  });
  afterAll(async () => {
    await pool?.end();
    await migrated?.drop();
  });

  const preparedTexts = async () =>
    (await pool.query<{ name: string; statement: string }>("SELECT name, statement FROM pg_prepared_statements ORDER BY name")).rows;

  it("names each recurring text once per connection, and runs texts beyond the limit unnamed", async () => {
    const run = createPreparedRunner(pool, 2);
    const h = migrated.handle;
    const insert = (id: string) => h.db.insertInto("projects").values(project(id)).compile();
    const byName = (id: string) => h.db.selectFrom("projects").select("name").where("identifier", "=", id).compile();
    const byState = h.db.selectFrom("projects").select("name").where("state", "=", 7).compile();

    for (const id of ["a", "b", "c"]) await run(insert(id));
    expect(await preparedTexts()).toEqual([{ name: "runs_ts_1", statement: insert("x").sql }]);

    expect((await run(byName("b"))).rows).toEqual([{ name: "b" }]);
    expect((await run(byName("c"))).rows).toEqual([{ name: "c" }]);
    // A third text: past the limit of two names, it runs unnamed and leaves nothing behind.
    expect((await run(byState)).rows).toEqual([]);
    expect((await preparedTexts()).map((s) => s.name)).toEqual(["runs_ts_1", "runs_ts_2"]);
  });
});
