import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { createApp, type App } from "../../src/app.js";
import { defaultConfig, type Config } from "../../src/config/index.js";
import { createTestDatabase, MIGRATIONS_DIR, quietLogger, type DialectName } from "./databases.js";

export interface TestApp {
  app: App;
  config: Config;
  baseUrl: string;
  /** Transports for every protocol the server speaks. */
  transports: Record<TransportName, Transport>;
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

/** Starts the whole service on a fresh database of the given kind, on a random port. */
export async function startTestApp(kind: DialectName, tweak?: (config: Config) => void): Promise<TestApp> {
  const testDb = await createTestDatabase(kind);
  const config = defaultConfig();
  config.database = testDb.config;
  config.runs.server.host = "127.0.0.1";
  config.runs.triggerScheduler.enabled = false;
  tweak?.(config);
  const app = await createApp({ config, logger: quietLogger, migrationsDir: MIGRATIONS_DIR, listenPort: 0 });
  const baseUrl = `http://127.0.0.1:${app.server!.port}`;
  return {
    app,
    config,
    baseUrl,
    transports: makeTransports(baseUrl),
    async close() {
      await app.close({ graceMs: 1000 });
      await testDb.drop();
    },
  };
}
