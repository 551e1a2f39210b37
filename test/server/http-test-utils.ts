// Shared fixtures for the HTTP layer tests: a tiny ProjectService and
// RunService implementation, a server started on port 0, and raw HTTP/1.1 and
// HTTP/2 request helpers that give full control over headers and body bytes.

import * as http from "node:http";
import * as http2 from "node:http2";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import pino from "pino";
import { ProjectService, ProjectSchema } from "#gen/flyteidl2/project/project_service_pb.js";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import type { WatchRunsRequest } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { startHttpServer } from "../../src/server/http-server.js";
import type { RunningHttpServer } from "../../src/server/http-server.js";
import { createRequestHandler } from "../../src/server/request-handler.js";
import type { RequestHandlerOptions } from "../../src/server/request-handler.js";

export const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

export const MAX_REQUEST_BYTES = 1024 * 1024;

/** Knobs the in-test service implementations read. */
export const behaviour = {
  /** How long UpdateProject sleeps before answering. */
  updateDelayMs: 0,
  /** When true, WatchRuns ignores ctx.signal and keeps the stream open. */
  watchIgnoresSignal: false,
  watchStarted: 0,
  watchEnded: 0,
};

export function resetBehaviour(): void {
  behaviour.updateDelayMs = 0;
  behaviour.watchIgnoresSignal = false;
  behaviour.watchStarted = 0;
  behaviour.watchEnded = 0;
}

export function routes(router: ConnectRouter): void {
  router.service(ProjectService, {
    listProjects() {
      return { projects: { projects: [create(ProjectSchema, { id: "flytesnacks", name: "flytesnacks" })] } };
    },
    getProject(req) {
      throw new ConnectError(`project ${req.id} not found`, Code.NotFound);
    },
    async updateProject(req) {
      await sleep(behaviour.updateDelayMs);
      return {};
    },
    createProject() {
      // An implementation failure that merely looks like a request parse error
      // (e.g. a downstream client failing to decode its response) stays Internal.
      throw new ConnectError("parse binary: downstream said nonsense", Code.Internal);
    },
  });
  router.service(RunService, {
    async *watchRuns(_req: WatchRunsRequest, ctx: HandlerContext) {
      behaviour.watchStarted++;
      try {
        yield { runs: [] };
        if (behaviour.watchIgnoresSignal) {
          await new Promise(() => undefined);
        }
        await new Promise<void>((resolve) => {
          if (ctx.signal.aborted) resolve();
          ctx.signal.addEventListener("abort", () => resolve(), { once: true });
        });
      } finally {
        behaviour.watchEnded++;
      }
    },
  });
}

export interface TestServer {
  server: RunningHttpServer;
  baseUrl: string;
  port: number;
  shutdown: AbortController;
  /** Aborts the shutdown signal and closes the server. */
  stop(graceMs?: number): Promise<void>;
}

export async function startTestServer(overrides: Partial<RequestHandlerOptions> = {}): Promise<TestServer> {
  const shutdown = new AbortController();
  const handler = createRequestHandler({
    routes,
    readiness: async () => undefined,
    corsAllowedOrigins: [],
    maxRequestBytes: MAX_REQUEST_BYTES,
    shutdownSignal: shutdown.signal,
    logger,
    ...overrides,
  });
  const server = await startHttpServer({ host: "127.0.0.1", port: 0, handler, logger });
  return {
    server,
    port: server.port,
    baseUrl: `http://127.0.0.1:${server.port}`,
    shutdown,
    async stop(graceMs = 2000) {
      shutdown.abort();
      await server.close({ graceMs });
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  trailers: Record<string, string | string[] | undefined>;
}

/** One HTTP/1.1 request on a fresh connection (no agent, no keep-alive reuse). */
export function h1Request(
  baseUrl: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, baseUrl), { method: init.method ?? "GET", headers: init.headers, agent: false });
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          trailers: res.trailers,
        }),
      );
    });
    req.end(init.body);
  });
}

/** One HTTP/2 (prior knowledge) request on a fresh session. */
export async function h2Request(
  baseUrl: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string } = {},
): Promise<RawResponse> {
  const session = http2.connect(baseUrl);
  try {
    return await new Promise<RawResponse>((resolve, reject) => {
      session.on("error", reject);
      const stream = session.request({ ":method": init.method ?? "GET", ":path": path, ...init.headers });
      let status = 0;
      let headers: RawResponse["headers"] = {};
      let trailers: RawResponse["trailers"] = {};
      const chunks: Buffer[] = [];
      stream.on("response", (h) => {
        status = Number(h[":status"]);
        headers = h as RawResponse["headers"];
      });
      stream.on("trailers", (t) => {
        trailers = t as RawResponse["trailers"];
      });
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("error", reject);
      stream.on("end", () => resolve({ status, headers, body: Buffer.concat(chunks), trailers }));
      stream.end(init.body);
    });
  } finally {
    session.close();
  }
}

/** A length-prefixed message as used by gRPC, gRPC-Web and Connect streaming. */
export function envelope(flags: number, data: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(data.byteLength, 1);
  return Buffer.concat([head, data]);
}

/** Splits a body into envelopes. */
export function parseEnvelopes(body: Buffer): { flags: number; data: Buffer }[] {
  const out: { flags: number; data: Buffer }[] = [];
  let off = 0;
  while (off + 5 <= body.length) {
    const len = body.readUInt32BE(off + 1);
    out.push({ flags: body[off], data: body.subarray(off + 5, off + 5 + len) });
    off += 5 + len;
  }
  return out;
}

/** Parses a gRPC-Web trailer frame's text into lower-cased key/value pairs. */
export function parseGrpcWebTrailer(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of data.toString("latin1").split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

/** A protobuf body that ends in the middle of a length-delimited field. */
export const TRUNCATED_PROTO = Uint8Array.from([0x0a, 0x05, 0x61]);
