// Two server processes on one PostgreSQL database: a write through one shows on a watch through the other,
// also across a killed LISTEN connection.
import { createClient, type Client } from "@connectrpc/connect";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import type { ChangeEvent } from "../../src/events/bus.js";
import type { PostgresBus } from "../../src/events/postgres.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { PG_HOST, PG_PORT, postgresAvailable } from "../support/databases.js";
import { DOMAIN, eventually, follow, insertRows, latestActions, ORG, pause, PROJECT, runId, setPhase, taskRow } from "./watch-helpers.js";

const pgUp = await postgresAvailable();
let unique = 0;
const newRun = () => `rp${Date.now().toString(36)}${unique++}`;

describe.skipIf(!pgUp)("Watch across two server processes on PostgreSQL", () => {
  let one: TestApp;
  let two: TestApp;
  let runsTwo: Client<typeof RunService>;
  let admin: pg.Client;

  beforeAll(async () => {
    one = await startTestApp("postgres");
    two = await startTestApp("postgres", undefined, { database: one.database });
    runsTwo = createClient(RunService, two.transports["connect-h2"]);
    admin = new pg.Client({ host: PG_HOST, port: PG_PORT, user: "postgres", database: "postgres" });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await two?.closeApp();
    await one?.close();
  });

  const busOf = (t: TestApp) => t.app.bus as PostgresBus;

  it("each process hears its own writes once and the other's once", async () => {
    const seenOne: ChangeEvent[] = [];
    const seenTwo: ChangeEvent[] = [];
    const offOne = one.app.bus.subscribe((e) => seenOne.push(e));
    const offTwo = two.app.bus.subscribe((e) => seenTwo.push(e));
    try {
      const run = newRun();
      await insertRows(one.app.repository, [taskRow(run, "a0", null)]);
      // Creating a root publishes an action and a run change.
      await eventually(() => seenTwo.length === 2, "the other process");
      await pause(300);
      expect(seenOne).toEqual(seenTwo);
      expect(seenOne.map((e) => e.kind).sort()).toEqual(["action", "run"]);
    } finally {
      offOne();
      offTwo();
    }
  });

  it("a write through one process shows on WatchActions and WatchRuns through the other", async () => {
    const run = newRun();
    await insertRows(one.app.repository, [taskRow(run, "a0", null)]);
    const actions = follow((signal) => runsTwo.watchActions({ runId: runId(run) }, { signal }));
    const runsStream = follow((signal) =>
      runsTwo.watchRuns({ target: { case: "projectId", value: { organization: ORG, name: PROJECT, domain: DOMAIN } } }, { signal }),
    );
    try {
      await actions.until((m) => latestActions(m).has("a0"), "the snapshot");
      await runsStream.until((m) => m.some((x) => x.runs.some((r) => r.action?.id?.run?.name === run)), "the run");
      await insertRows(one.app.repository, [taskRow(run, "b1", "a0")]);
      await setPhase(one.app.repository, run, "b1", ActionPhase.RUNNING);
      await actions.until((m) => latestActions(m).get("b1")?.action?.status?.phase === ActionPhase.RUNNING, "b1 RUNNING");

      const created = newRun();
      await insertRows(one.app.repository, [taskRow(created, "a0", null)]);
      await runsStream.until((m) => m.some((x) => x.runs.some((r) => r.action?.id?.run?.name === created)), "the new run");
    } finally {
      actions.cancel();
      runsStream.cancel();
    }
  });

  it("keeps watching through a killed LISTEN connection, including what was written while it was down", async () => {
    const run = newRun();
    await insertRows(one.app.repository, [taskRow(run, "a0", null), taskRow(run, "b1", "a0"), taskRow(run, "b2", "a0")]);
    const s = follow((signal) => runsTwo.watchActions({ runId: runId(run) }, { signal }));
    const details = follow((signal) => runsTwo.watchActionDetails({ actionId: { run: runId(run), name: "b2" } }, { signal }));
    try {
      await s.until((m) => latestActions(m).size === 3, "the snapshot");
      await details.until((m) => m.length === 1, "the details");

      const resyncs: ChangeEvent[] = [];
      const off = two.app.bus.subscribe((e) => e.kind === "resync" && resyncs.push(e));
      const pid = busOf(two).listenerPid()!;
      expect(pid).toBeGreaterThan(0);
      const killed = await admin.query<{ ok: boolean }>("SELECT pg_terminate_backend($1) AS ok", [pid]);
      expect(killed.rows[0].ok).toBe(true);
      // Written while process two is (most likely) not listening.
      await setPhase(one.app.repository, run, "b1", ActionPhase.RUNNING);
      await setPhase(one.app.repository, run, "b2", ActionPhase.FAILED);

      await eventually(() => (busOf(two).listenerPid() ?? pid) !== pid, "a new LISTEN connection");
      await eventually(() => resyncs.length === 1, "a resync signal");
      off();
      await s.until(
        (m) =>
          latestActions(m).get("b1")?.action?.status?.phase === ActionPhase.RUNNING &&
          latestActions(m).get("b2")?.action?.status?.phase === ActionPhase.FAILED,
        "the changes made while the listener was down",
      );
      await details.until((m) => m.at(-1)?.details?.status?.phase === ActionPhase.FAILED, "the details change");

      // And live again afterwards.
      await setPhase(one.app.repository, run, "b1", ActionPhase.SUCCEEDED);
      await s.until((m) => latestActions(m).get("b1")?.action?.status?.phase === ActionPhase.SUCCEEDED, "b1 SUCCEEDED");
    } finally {
      s.cancel();
      details.cancel();
    }
  });

  it("recovers when every LISTEN connection of the database is killed (by query text)", async () => {
    const run = newRun();
    await insertRows(one.app.repository, [taskRow(run, "a0", null)]);
    const s = follow((signal) => runsTwo.watchActions({ runId: runId(run) }, { signal }));
    try {
      await s.until((m) => latestActions(m).has("a0"), "the snapshot");
      const before = [busOf(one).listenerPid(), busOf(two).listenerPid()];
      // The listeners are the only sessions whose last statement was LISTEN (or a NOTIFY batch) outside the pool.
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND (query LIKE 'LISTEN%' OR pid = ANY($2::int[]))",
        [one.database.config.postgres.dbname, before],
      );
      await eventually(
        () => busOf(one).listenerPid() !== undefined && busOf(two).listenerPid() !== undefined && busOf(two).listenerPid() !== before[1],
        "both listeners back",
      );
      await setPhase(one.app.repository, run, "a0", ActionPhase.RUNNING);
      await s.until((m) => latestActions(m).get("a0")?.action?.status?.phase === ActionPhase.RUNNING, "the update");
    } finally {
      s.cancel();
    }
  });
});
