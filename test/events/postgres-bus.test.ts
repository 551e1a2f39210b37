// The PostgreSQL event bus: NOTIFY wire format, no self-echo, delivery across processes, reconnect + resync.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChangeEvent } from "../../src/events/bus.js";
import {
  changeEventToNotification,
  createPostgresBus,
  notificationToChangeEvent,
  type PostgresBus,
} from "../../src/events/postgres.js";
import { openDatabase, type DatabaseHandle } from "../../src/repository/dialect/index.js";
import { createTestDatabase, PG_HOST, PG_PORT, postgresAvailable, quietLogger, type TestDatabase } from "../support/databases.js";

describe("wire format", () => {
  it("uses the reference's channels and payloads", () => {
    expect(changeEventToNotification({ kind: "action", project: "p", domain: "d", run: "r", action: "a" })).toEqual({
      channel: "action_updates",
      payload: "p/d/r/a",
    });
    expect(changeEventToNotification({ kind: "run", project: "p", domain: "d", run: "r" })).toEqual({
      channel: "run_updates",
      payload: "p/d/r",
    });
    expect(changeEventToNotification({ kind: "resync" })).toBeUndefined();
  });

  it("reads back what it writes and ignores anything else", () => {
    expect(notificationToChangeEvent("action_updates", "p/d/r/a")).toEqual({ kind: "action", project: "p", domain: "d", run: "r", action: "a" });
    expect(notificationToChangeEvent("run_updates", "p/d/r")).toEqual({ kind: "run", project: "p", domain: "d", run: "r" });
    for (const [channel, payload] of [
      ["run_updates", "p/d/r/a"],
      ["action_updates", "p/d/r"],
      ["action_updates", "p//r/a"],
      ["other", "p/d/r"],
      ["run_updates", ""],
    ]) {
      expect(notificationToChangeEvent(channel, payload)).toBeUndefined();
    }
  });
});

const pgUp = await postgresAvailable();

async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!pgUp)("PostgreSQL bus", () => {
  let testDb: TestDatabase;
  let handle: DatabaseHandle;
  let admin: pg.Client;
  const buses: PostgresBus[] = [];

  function newBus(opts: Partial<Parameters<typeof createPostgresBus>[0]> = {}): PostgresBus {
    const bus = createPostgresBus({
      newClient: handle.newClient!,
      logger: quietLogger,
      initialReconnectMs: 20,
      maxReconnectMs: 200,
      ...opts,
    });
    buses.push(bus);
    return bus;
  }

  function record(bus: PostgresBus): ChangeEvent[] {
    const seen: ChangeEvent[] = [];
    bus.subscribe((e) => seen.push(e));
    return seen;
  }

  beforeAll(async () => {
    testDb = await createTestDatabase("postgres");
    handle = await openDatabase(testDb.config, quietLogger);
    admin = new pg.Client({ host: PG_HOST, port: PG_PORT, user: "postgres", database: "postgres" });
    await admin.connect();
  });

  afterAll(async () => {
    for (const bus of buses) await bus.close();
    await admin?.end();
    await handle?.close();
    await testDb?.drop();
  });

  it("delivers a publish once locally (no echo) and once in the other process, special characters intact", async () => {
    const a = newBus();
    const b = newBus();
    await Promise.all([a.start(), b.start()]);
    const seenA = record(a);
    const seenB = record(b);
    const event: ChangeEvent = { kind: "action", project: `o'brien "x"`, domain: "dév; DROP", run: "r 1", action: "a$1\\" };
    a.publish(event);
    a.publish({ kind: "run", project: "p", domain: "d", run: "r" });
    expect(seenA).toEqual([event, { kind: "run", project: "p", domain: "d", run: "r" }]);
    await eventually(() => seenB.length === 2, "the other process");
    expect(seenB).toEqual([event, { kind: "run", project: "p", domain: "d", run: "r" }]);
    await pause(300); // time for a (wrong) echo to arrive
    expect(seenA).toHaveLength(2);
    expect(seenB).toHaveLength(2);
    expect(a.pendingNotifications()).toBe(0);
  });

  it("the notifications published in one tick (an action and its run) share one NOTIFY statement", async () => {
    let notifies = 0;
    const a = newBus({
      newClient: () => {
        const client = handle.newClient!();
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
          const text = typeof args[0] === "string" ? args[0] : (args[0] as { text?: string } | undefined)?.text;
          if (text?.includes("pg_notify")) notifies++;
          return query(...args);
        };
        return client;
      },
    });
    const b = newBus();
    await Promise.all([a.start(), b.start()]);
    const seenB = record(b);
    a.publish({ kind: "action", project: "p", domain: "d", run: "tick", action: "a0" });
    a.publish({ kind: "run", project: "p", domain: "d", run: "tick" });
    await eventually(() => seenB.length === 2, "both notifications in the other process");
    expect(notifies).toBe(1);
  });

  it("sends its NOTIFYs as one prepared statement", async () => {
    let listener: import("pg").Client | undefined;
    const a = newBus({
      newClient: () => {
        listener = handle.newClient!();
        return listener;
      },
    });
    const b = newBus();
    await Promise.all([a.start(), b.start()]);
    const seenB = record(b);
    for (const run of ["one", "two"]) {
      a.publish({ kind: "run", project: "p", domain: "d", run });
      await eventually(() => seenB.some((e) => e.kind === "run" && e.run === run), `run ${run} in the other process`);
    }
    const prepared = await listener!.query<{ name: string }>("SELECT name FROM pg_prepared_statements");
    expect(prepared.rows.map((r) => r.name)).toEqual(["runs_ts_notify"]);
  });

  it("hears NOTIFYs sent by anyone else (e.g. the Go service) on the database", async () => {
    const b = newBus();
    await b.start();
    const seen = record(b);
    const other = handle.newClient!();
    await other.connect();
    try {
      await other.query("SELECT pg_notify('action_updates', 'p/d/r/a'), pg_notify('run_updates', 'p/d/r'), pg_notify('run_updates', 'bad')");
    } finally {
      await other.end();
    }
    await eventually(() => seen.length === 2, "two notifications");
    expect(seen).toEqual([
      { kind: "action", project: "p", domain: "d", run: "r", action: "a" },
      { kind: "run", project: "p", domain: "d", run: "r" },
    ]);
  });

  it("sends a burst completely: every distinct event reaches the other process", async () => {
    const a = newBus({ batchSize: 100 });
    const b = newBus();
    await Promise.all([a.start(), b.start()]);
    const seen = new Set<string>();
    b.subscribe((e) => {
      if (e.kind === "action") seen.add(e.action);
    });
    for (let i = 0; i < 3000; i++) a.publish({ kind: "action", project: "p", domain: "d", run: "burst", action: `a${i}` });
    await eventually(() => seen.size === 3000, "3000 notifications", 20_000);
  });

  it("reconnects after its connection is killed, says resync, and hears the other process again", async () => {
    const a = newBus();
    const b = newBus();
    await Promise.all([a.start(), b.start()]);
    const seen = record(b);
    const pid = b.listenerPid()!;
    expect(pid).toBeGreaterThan(0);
    await admin.query("SELECT pg_terminate_backend($1)", [pid]);
    // Written while b is not listening: b cannot hear it, but it says resync once back.
    a.publish({ kind: "run", project: "p", domain: "d", run: "missed" });
    await eventually(() => b.listenerPid() !== undefined && b.listenerPid() !== pid, "a new listener connection");
    await eventually(() => seen.some((e) => e.kind === "resync"), "a resync event");
    const resync = seen.find((e) => e.kind === "resync");
    expect(resync).toMatchObject({ kind: "resync", sinceMs: expect.any(Number) });

    seen.length = 0;
    a.publish({ kind: "run", project: "p", domain: "d", run: "after" });
    await eventually(() => seen.some((e) => e.kind === "run" && e.run === "after"), "the next notification");
  });

  it("keeps NOTIFYs queued while its own connection is down and sends them after reconnecting", async () => {
    const a = newBus({ initialReconnectMs: 1000, maxReconnectMs: 1000 });
    const b = newBus();
    await Promise.all([a.start(), b.start()]);
    const seenA = record(a);
    const seenB = record(b);
    const pidA = a.listenerPid()!;
    await admin.query("SELECT pg_terminate_backend($1)", [pidA]);
    await eventually(() => a.listenerPid() === undefined, "a to notice");
    a.publish({ kind: "action", project: "p", domain: "d", run: "r", action: "queued" });
    expect(seenA.filter((e) => e.kind === "action")).toHaveLength(1); // local delivery is immediate
    expect(a.pendingNotifications()).toBe(1);
    await eventually(() => seenB.some((e) => e.kind === "action" && e.action === "queued"), "the queued notification");
    await pause(200);
    expect(seenA.filter((e) => e.kind === "action")).toHaveLength(1); // still no echo
  });

  it("never blocks or throws without a database, and bounds what it queues", async () => {
    const unreachable = () =>
      new pg.Client({ host: "127.0.0.1", port: 1, user: "postgres", database: "postgres", connectionTimeoutMillis: 200 });
    const bus = newBus({ newClient: unreachable, maxPendingNotifications: 100 });
    await bus.start(); // resolves after the first failed attempt
    expect(bus.listenerPid()).toBeUndefined();
    const seen = record(bus);
    const started = Date.now();
    for (let i = 0; i < 10_000; i++) bus.publish({ kind: "action", project: "p", domain: "d", run: "r", action: `a${i}` });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(seen).toHaveLength(10_000);
    expect(bus.pendingNotifications()).toBe(100);
    await bus.close();
    bus.publish({ kind: "run", project: "p", domain: "d", run: "r" }); // after close: local only, no throw
  });
});
