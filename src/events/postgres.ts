/**
 * The event bus on PostgreSQL: in-process delivery plus LISTEN/NOTIFY, so
 * that several server processes on one database see each other's writes.
 *
 * Wire format (the reference's, so this service and the Go service can
 * share a database): channel `action_updates` with payload
 * "project/domain/run/action", channel `run_updates` with payload
 * "project/domain/run". Payloads are bound as parameters of pg_notify.
 *
 * One dedicated connection per process (outside the pool) does both jobs:
 * it LISTENs on the two channels and sends this process's NOTIFYs.
 *
 * Self-delivery. A local publish reaches the local subscribers at once
 * (synchronously, as on SQLite) and is queued for NOTIFY. PostgreSQL also
 * delivers a session's own notifications back to it, with the sending
 * backend's pid. Because every NOTIFY of this process is sent on the very
 * connection that listens, "sent by this process" is exactly
 * `notification.processId === pid of the listening connection`, and those
 * are dropped. The test is exact: a connection only receives notifications
 * committed after its own LISTEN, and while it is alive no other backend has
 * its pid. After a reconnect the new connection has a new pid and never sees
 * the old connection's notifications. Payloads stay untagged, so other
 * processes (including the Go service) read them unchanged.
 *
 * Robustness.
 * - publish() never blocks or throws: NOTIFYs wait in a bounded, coalesced
 *   queue (one entry per distinct channel+payload, since a notification only
 *   means "re-read this") and are sent in batches of one statement each.
 * - While the connection is down, queued NOTIFYs are kept (up to the bound)
 *   and sent after the reconnect; beyond the bound the newest are dropped
 *   with a warning.
 * - The connection is re-established with exponential backoff forever; an
 *   idle connection is probed periodically so a half-open socket is noticed.
 * - After every reconnect (and after a first connection that followed
 *   failures) the bus publishes `{ kind: "resync", sinceMs }` locally, so
 *   watchers re-read what they may have missed while nothing was listening.
 */
import type pg from "pg";
import { backoffCeiling, realTimers } from "../util/backoff.js";
import { isPgConnectionError } from "../repository/dialect/postgres.js";
import { createInProcessBus } from "./bus.js";
import type { PostgresBus, PostgresBusOptions } from "./postgres-types.js";
import {
  ACTION_CHANNEL,
  RUN_CHANNEL,
  changeEventToNotification,
  notificationToChangeEvent,
  MAX_PAYLOAD_BYTES,
  type Notification,
} from "./notification.js";

export { ACTION_CHANNEL, RUN_CHANNEL, changeEventToNotification, notificationToChangeEvent, type Notification } from "./notification.js";

export type { PostgresBus, PostgresBusOptions } from "./postgres-types.js";

interface Connection {
  client: pg.Client;
  pid: number;
  /** Resolves when the connection is found broken or closed. */
  broken: Promise<void>;
  markBroken(reason: unknown): void;
}

export function createPostgresBus(opts: PostgresBusOptions): PostgresBus {
  const log = opts.logger;
  const timers = opts.timers ?? realTimers;
  const nowMs = opts.nowMs ?? Date.now;
  const random = opts.random ?? Math.random;
  const initialReconnectMs = opts.initialReconnectMs ?? 250;
  const maxReconnectMs = opts.maxReconnectMs ?? 15_000;
  const keepaliveMs = opts.keepaliveMs ?? 30_000;
  const probeTimeoutMs = opts.probeTimeoutMs ?? 10_000;
  const maxPending = opts.maxPendingNotifications ?? 10_000;
  const batchSize = opts.batchSize ?? 500;

  const local = createInProcessBus();
  /** channel + "\n" + payload, in first-queued order. */
  const pending = new Set<string>();
  let dropped = 0;

  let conn: Connection | undefined;
  let closed = false;
  let started: Promise<void> | undefined;
  let loopDone: Promise<void> | undefined;
  let flushing: Promise<void> | undefined;
  /** Last moment the listener was known to receive everything (epoch ms). */
  let lastHealthyMs = nowMs();
  let everConnected = false;
  let failures = 0;
  const sleepers = new Set<() => void>();
  let listeningWaiters: (() => void)[] = [];

  // --- sending ---------------------------------------------------------------

  function enqueue(n: Notification): void {
    if (Buffer.byteLength(n.payload, "utf8") > MAX_PAYLOAD_BYTES) {
      log.warn({ channel: n.channel, bytes: Buffer.byteLength(n.payload, "utf8") }, "change notification too long for NOTIFY, not sent");
      return;
    }
    const key = `${n.channel}\n${n.payload}`;
    if (pending.has(key)) return;
    if (pending.size >= maxPending) {
      if (dropped === 0) log.warn({ maxPending }, "NOTIFY queue full: dropping change notifications until it drains");
      dropped++;
      return;
    }
    pending.add(key);
    scheduleFlush();
  }

  function scheduleFlush(): void {
    if (flushing || !conn || pending.size === 0) return;
    flushing = flush().finally(() => {
      flushing = undefined;
      // Items queued while the last batch was in flight.
      if (pending.size > 0 && conn) queueMicrotask(scheduleFlush);
    });
  }

  function takeBatch(): string[] {
    const batch: string[] = [];
    for (const key of pending) {
      batch.push(key);
      pending.delete(key);
      if (batch.length >= batchSize) break;
    }
    return batch;
  }

  function requeueFront(batch: string[]): void {
    const rest = [...pending];
    pending.clear();
    for (const key of batch) pending.add(key);
    for (const key of rest) if (pending.size < maxPending) pending.add(key);
  }

  async function sendBatch(client: pg.Client, batch: string[]): Promise<void> {
    const channels: string[] = [];
    const payloads: string[] = [];
    for (const key of batch) {
      const nl = key.indexOf("\n");
      channels.push(key.slice(0, nl));
      payloads.push(key.slice(nl + 1));
    }
    await withTimeout(
      // Named: parsed and planned once per connection.
      client.query({ name: "runs_ts_notify", text: "SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS t(c, p)", values: [channels, payloads] }),
      "NOTIFY",
    );
  }

  async function flush(): Promise<void> {
    // Sent once the current I/O phase is over, so the notifications of one write (an action and its run)
    // and of writes finishing together share one statement.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (pending.size > 0) {
      const current = conn;
      if (!current) return;
      const batch = takeBatch();
      try {
        await sendBatch(current.client, batch);
        if (dropped > 0) {
          log.warn({ dropped }, "NOTIFY queue drained; some change notifications were dropped while it was full");
          dropped = 0;
        }
      } catch (error) {
        if (conn !== current || isPgConnectionError(error)) {
          // Kept for the next connection.
          requeueFront(batch);
          current.markBroken(error);
          if (conn === current) conn = undefined;
          return;
        }
        // Not the connection: find and drop the offending payload(s) one by one.
        for (const key of batch) {
          try {
            await sendBatch(current.client, [key]);
          } catch (single) {
            if (conn !== current || isPgConnectionError(single)) {
              requeueFront(batch.slice(batch.indexOf(key)));
              current.markBroken(single);
              if (conn === current) conn = undefined;
              return;
            }
            log.warn({ err: single, notification: key.replace("\n", " ") }, "NOTIFY failed, notification dropped");
          }
        }
      }
    }
  }

  // --- listening -------------------------------------------------------------

  function onNotification(c: Connection, msg: pg.Notification): void {
    if (conn === c) lastHealthyMs = nowMs();
    if (msg.processId === c.pid) return; // our own NOTIFY, already delivered locally
    const event = notificationToChangeEvent(msg.channel, msg.payload ?? "");
    if (!event) {
      log.debug({ channel: msg.channel, payload: msg.payload }, "ignoring malformed change notification");
      return;
    }
    local.publish(event);
  }

  function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const handle = timers.setTimeout(() => reject(new Error(`${what} timed out after ${probeTimeoutMs} ms`)), probeTimeoutMs);
      promise.then(
        (v) => {
          timers.clearTimeout(handle);
          resolve(v);
        },
        (e: unknown) => {
          timers.clearTimeout(handle);
          reject(e);
        },
      );
    });
  }

  async function open(): Promise<Connection> {
    const client = opts.newClient();
    let markBroken!: (reason: unknown) => void;
    let isBroken = false;
    const broken = new Promise<void>((resolve) => {
      markBroken = (reason) => {
        if (isBroken) return;
        isBroken = true;
        if (!closed) log.warn({ err: reason }, "change listener connection lost");
        resolve();
      };
    });
    // Without an 'error' listener a dropped connection would crash the process.
    client.on("error", (error) => markBroken(error));
    client.on("end", () => markBroken(new Error("connection ended")));
    try {
      await withTimeout(client.connect(), "connect");
      const res = await withTimeout(client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid"), "pid query");
      const c: Connection = { client, pid: Number(res.rows[0].pid), broken, markBroken };
      // Attached before LISTEN so that nothing delivered right after it is missed.
      client.on("notification", (msg) => onNotification(c, msg));
      await withTimeout(client.query(`LISTEN ${ACTION_CHANNEL}; LISTEN ${RUN_CHANNEL}`), "LISTEN");
      return c;
    } catch (error) {
      markBroken(error);
      void client.end().catch(() => undefined);
      throw error;
    }
  }

  /** A timer that close() (or `wake`) can cut short. */
  function sleep(ms: number, wake?: Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        timers.clearTimeout(handle);
        sleepers.delete(done);
        resolve();
      };
      const handle = timers.setTimeout(done, ms);
      sleepers.add(done);
      void wake?.then(done);
    });
  }

  /** Probes the connection whenever it has been idle for keepaliveMs; resolves when it is broken. */
  async function keepalive(c: Connection): Promise<void> {
    let stop = false;
    void c.broken.then(() => {
      stop = true;
    });
    while (!stop && !closed) {
      await sleep(keepaliveMs, c.broken);
      if (stop || closed) return;
      if (nowMs() - lastHealthyMs < keepaliveMs) continue;
      try {
        await withTimeout(c.client.query("SELECT 1"), "listener probe");
        lastHealthyMs = nowMs();
      } catch (error) {
        c.markBroken(error);
        return;
      }
    }
  }

  async function run(firstAttempt: () => void): Promise<void> {
    while (!closed) {
      let current: Connection | undefined;
      try {
        current = await open();
      } catch (error) {
        failures++;
        log.warn({ err: error, attempt: failures }, "change listener cannot connect; retrying");
        firstAttempt();
        if (closed) break;
        const ceiling = backoffCeiling(failures, initialReconnectMs, maxReconnectMs);
        await sleep(Math.round(ceiling / 2 + (random() * ceiling) / 2));
        continue;
      }
      if (closed) {
        await current.client.end().catch(() => undefined);
        break;
      }
      const missedSince = lastHealthyMs;
      const resync = everConnected || failures > 0;
      everConnected = true;
      failures = 0;
      conn = current;
      lastHealthyMs = nowMs();
      log.info({ pid: current.pid }, "listening for change notifications");
      for (const wake of listeningWaiters) wake();
      listeningWaiters = [];
      firstAttempt();
      if (resync) local.publish({ kind: "resync", sinceMs: missedSince });
      scheduleFlush();

      await Promise.race([current.broken, keepalive(current)]);
      current.markBroken(new Error("closed"));
      if (conn === current) conn = undefined;
      // end() on a dead socket may never settle; do not wait for it.
      void current.client.end().catch(() => undefined);
      if (closed) break;
      const ceiling = backoffCeiling(1, initialReconnectMs, maxReconnectMs);
      await sleep(Math.round(ceiling / 2 + (random() * ceiling) / 2));
    }
  }

  return {
    publish(event) {
      local.publish(event);
      if (closed) return;
      const n = changeEventToNotification(event);
      if (n) enqueue(n);
    },
    subscribe: (listener) => local.subscribe(listener),
    subscriberCount: () => local.subscriberCount(),

    start() {
      started ??= new Promise<void>((resolve) => {
        let resolved = false;
        loopDone = run(() => {
          if (!resolved) {
            resolved = true;
            resolve();
          }
        }).catch((error: unknown) => log.error({ err: error }, "change listener stopped unexpectedly"));
      });
      return started;
    },

    async close() {
      if (closed) return;
      const current = conn;
      if (current && pending.size > 0) {
        // Let other processes hear about our last writes.
        await withTimeout(
          (async () => {
            await flushing;
            if (conn === current) await flush();
          })(),
          "final NOTIFY",
        ).catch((error: unknown) => log.warn({ err: error }, "could not send the last change notifications"));
      }
      closed = true;
      for (const wake of [...sleepers]) wake();
      conn = undefined;
      if (current) {
        current.markBroken(new Error("closed"));
        await withTimeout(current.client.end(), "listener close").catch(() => undefined);
      }
      await loopDone;
      for (const wake of listeningWaiters) wake();
      listeningWaiters = [];
    },

    listenerPid: () => conn?.pid,
    pendingNotifications: () => pending.size,
    whenListening() {
      if (conn || closed) return Promise.resolve();
      return new Promise((resolve) => listeningWaiters.push(resolve));
    },
  };
}
