/** The PostgreSQL event bus's contract (implementation: ./postgres.ts). */
import type pg from "pg";
import type { Logger } from "pino";
import type { Timers } from "../util/backoff.js";
import type { EventBus } from "./bus.js";

export interface PostgresBusOptions {
  /** A new unconnected client with the database's settings (DatabaseHandle.newClient). */
  newClient: () => pg.Client;
  logger: Logger;
  /** First reconnect delay (default 250 ms); doubles per failed attempt up to maxReconnectMs. */
  initialReconnectMs?: number;
  /** Longest reconnect delay (default 15 s). */
  maxReconnectMs?: number;
  /** Probe an idle connection after this long without traffic (default 30 s). */
  keepaliveMs?: number;
  /** A probe or the initial set-up taking longer than this counts as a broken connection (default 10 s). */
  probeTimeoutMs?: number;
  /** Distinct notifications waiting to be sent at most (default 10000). */
  maxPendingNotifications?: number;
  /** Notifications per NOTIFY statement at most (default 500). */
  batchSize?: number;
  /** Current time in epoch ms (default Date.now). */
  nowMs?: () => number;
  timers?: Timers;
  random?: () => number;
}

export interface PostgresBus extends EventBus {
  /**
   * Starts the listener. Resolves once the first LISTEN is in place, or
   * after the first failed attempt (the listener then keeps retrying in the
   * background). Never rejects.
   */
  start(): Promise<void>;
  /** Sends what is still queued (best effort, bounded by probeTimeoutMs), then closes the connection. */
  close(): Promise<void>;
  /** Backend pid of the current LISTEN connection; undefined while disconnected (tests, diagnostics). */
  listenerPid(): number | undefined;
  /** Notifications queued but not yet sent. */
  pendingNotifications(): number;
  /** Resolves when the listener is connected (immediately when it is). */
  whenListening(): Promise<void>;
}
