import type { Interceptor, Transport } from "@connectrpc/connect";
import type { Logger } from "pino";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { createApp, type App } from "../../src/app.js";
import { defaultConfig, type Config } from "../../src/config/index.js";
import type { ActionsClient } from "../../src/service/actions-client.js";
import type { BlobStore } from "../../src/storage/index.js";
import type { Clock } from "../../src/util/clock.js";
import { createTestDatabase, MIGRATIONS_DIR, quietLogger, type DialectName, type TestDatabase } from "./databases.js";

export interface TestApp {
  app: App;
  config: Config;
  baseUrl: string;
  /** Transports for every protocol the server speaks. */
  transports: Record<TransportName, Transport>;
  /** The database the app runs on. */
  database: TestDatabase;
  /** Stops the app but keeps its database (pass `database` to startTestApp to start again on it). */
  closeApp(): Promise<void>;
  /** Stops the app and drops its database. */
  close(): Promise<void>;
}

export type TransportName = "connect-h2" | "connect-json-h1" | "grpc" | "grpc-web";
export const TRANSPORTS: TransportName[] = ["connect-h2", "connect-json-h1", "grpc", "grpc-web"];

export function makeTransports(baseUrl: string, interceptors: Interceptor[] = []): Record<TransportName, Transport> {
  return {
    "connect-h2": createConnectTransport({ baseUrl, httpVersion: "2", interceptors, nodeOptions: { maxSessionMemory: 128 } }),
    "connect-json-h1": createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false, interceptors }),
    // Node's default HTTP/2 session memory (10 MB) is too small for the 10 MiB messages some tests send.
    grpc: createGrpcTransport({ baseUrl, interceptors, nodeOptions: { maxSessionMemory: 128 } }),
    "grpc-web": createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors }),
  };
}

export interface TestAppOptions {
  /** Stands in for ActionsService (Enqueue/Abort). */
  actionsClient?: ActionsClient;
  /** Replaces the blob store built from storage.*. */
  blobStore?: BlobStore;
  clock?: Clock;
  /** Start on this (already used) database instead of a fresh one, e.g. to simulate a restart. */
  database?: TestDatabase;
  /** Replaces the silent logger (tests that read the log). */
  logger?: Logger;
}

/** Starts the whole service on a fresh database of the given kind, on a random port. */
export async function startTestApp(kind: DialectName, tweak?: (config: Config) => void, opts: TestAppOptions = {}): Promise<TestApp> {
  const testDb = opts.database ?? (await createTestDatabase(kind));
  const config = defaultConfig();
  config.database = testDb.config;
  config.runs.server.host = "127.0.0.1";
  config.runs.triggerScheduler.enabled = false;
  tweak?.(config);
  const app = await createApp({
    config,
    logger: opts.logger ?? quietLogger,
    migrationsDir: MIGRATIONS_DIR,
    listenPort: 0,
    actionsClient: opts.actionsClient,
    blobStore: opts.blobStore,
    clock: opts.clock,
  });
  const baseUrl = `http://127.0.0.1:${app.server!.port}`;
  return {
    app,
    config,
    baseUrl,
    database: testDb,
    transports: makeTransports(baseUrl),
    async closeApp() {
      await app.close({ graceMs: 1000 });
    },
    async close() {
      await app.close({ graceMs: 1000 });
      await testDb.drop();
    },
  };
}
