// The Node request handler for the Runs Service: Connect, gRPC and gRPC-Web
// for every mounted service (like connect-node's connectNodeAdapter), plus
// `/healthz`, `/readyz`, plain-HTTP routes (the OAuth2 well-known document),
// optional CORS, HTTP-level gzip request bodies and the InvalidArgument fix
// for malformed binary requests (./parse-error-code.ts).

import { setMaxListeners } from "node:events";
import * as zlib from "node:zlib";
import type * as http from "node:http";
import type { Readable } from "node:stream";
import { Code, ConnectError, cors, createConnectRouter } from "@connectrpc/connect";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest } from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { connectNodeAdapter } from "@connectrpc/connect-node";
import { gzipLevel1 } from "./compression.js";
import type { Logger } from "pino";
import {
  createParseErrorContext,
  parseErrorInterceptor,
  rewriteParseErrorResponse,
  wireProtocolOf,
} from "./parse-error-code.js";
import { assignRequestId } from "../telemetry/request-context.js";
import { isClientGone } from "../rpc/client-gone.js";
import { answerUnknownProcedure } from "./unknown-procedure.js";

/**
 * connect-node's `NodeHandlerFn` (not exported by its package index): a request
 * listener usable with both `http` and `http2` servers.
 */
export type NodeHandlerFn = ReturnType<typeof connectNodeAdapter>;
export type NodeServerRequest = Parameters<NodeHandlerFn>[0];
export type NodeServerResponse = Parameters<NodeHandlerFn>[1];

/** Serves one plain-HTTP path (no Connect protocol), e.g. a well-known document. */
export type PlainHttpHandler = (req: NodeServerRequest, res: NodeServerResponse) => void;

export interface RequestHandlerOptions {
  /** Registers the services, e.g. `(router) => router.service(ProjectService, impl)`. */
  routes: (router: ConnectRouter) => void;
  interceptors?: Interceptor[];
  /** Plain-HTTP paths served beside the RPCs, by exact path (e.g. /.well-known/oauth-authorization-server). */
  httpRoutes?: ReadonlyMap<string, PlainHttpHandler>;
  /** Resolves when the service is ready; rejects with the reason (its message becomes the 503 body). */
  readiness: () => Promise<void>;
  /** Origins allowed to make cross-origin calls; `*` allows any; empty disables CORS. */
  corsAllowedOrigins: string[];
  /** Maximum size of one request message, after decompression. */
  maxRequestBytes: number;
  /** Aborting it aborts `ctx.signal` of every running call (graceful shutdown). */
  shutdownSignal: AbortSignal;
  logger: Logger;
  /** Serves Prometheus metrics on `path` (GET) when given. */
  metrics?: { path: string; scrape: () => Promise<{ contentType: string; body: string }> };
}

export const HEALTHZ_PATH = "/healthz";
export const READYZ_PATH = "/readyz";
export const CORS_MAX_AGE_SECONDS = 7200;

const corsAllowMethods = cors.allowedMethods.join(", ");
const corsAllowHeaders = cors.allowedHeaders.join(", ");
const corsExposeHeaders = cors.exposedHeaders.join(", ");

export function createRequestHandler(opts: RequestHandlerOptions): NodeHandlerFn {
  const log = opts.logger;
  // Every call in flight listens on the shutdown signal; without this, 11
  // concurrent calls make Node print a MaxListenersExceededWarning.
  setMaxListeners(0, opts.shutdownSignal);
  const router = createConnectRouter({
    connect: true,
    grpc: true,
    grpcWeb: true,
    acceptCompression: [gzipLevel1, compressionBrotli],
    readMaxBytes: opts.maxRequestBytes,
    shutdownSignal: opts.shutdownSignal,
    // Outermost, so that inner interceptors already see the corrected code.
    interceptors: [parseErrorInterceptor, ...(opts.interceptors ?? [])],
  });
  opts.routes(router);

  const handlers = new Map<string, UniversalHandler>();
  for (const h of router.handlers) {
    handlers.set(h.requestPath, h);
  }
  const services = new Set(router.handlers.map((h) => h.service.typeName));

  const corsAllowAll = opts.corsAllowedOrigins.includes("*");
  const corsOrigins = new Set(opts.corsAllowedOrigins);
  const corsEnabled = corsOrigins.size > 0;

  return function handleRequest(req: NodeServerRequest, res: NodeServerResponse): void {
    const path = (req.url ?? "").split("?", 1)[0];

    if (corsEnabled) {
      // Responses differ by Origin, whether it is allowed or not.
      res.setHeader("Vary", "Origin");
      const origin = headerValue(req, "origin");
      if (origin !== undefined && (corsAllowAll || corsOrigins.has(origin))) {
        res.setHeader("Access-Control-Allow-Origin", origin);
        if (req.method === "OPTIONS" && headerValue(req, "access-control-request-method") !== undefined) {
          res.writeHead(204, {
            "Access-Control-Allow-Methods": corsAllowMethods,
            "Access-Control-Allow-Headers": corsAllowHeaders,
            "Access-Control-Max-Age": String(CORS_MAX_AGE_SECONDS),
          });
          res.end();
          return;
        }
        res.setHeader("Access-Control-Expose-Headers", corsExposeHeaders);
      }
    }

    if (path === HEALTHZ_PATH) {
      writeText(res, 200, "OK");
      return;
    }
    if (path === READYZ_PATH) {
      Promise.resolve()
        .then(() => opts.readiness())
        .then(
          () => writeText(res, 200, "OK"),
          (reason: unknown) => {
            const message = reason instanceof Error ? reason.message : String(reason);
            log.warn({ reason: message }, "readiness check failed");
            writeText(res, 503, message);
          },
        );
      return;
    }

    if (opts.metrics && path === opts.metrics.path) {
      serveMetrics(opts.metrics.scrape, res);
      return;
    }

    const plain = opts.httpRoutes?.get(path);
    if (plain) {
      plain(req, res);
      return;
    }

    const handler = handlers.get(path);
    if (!handler) {
      answerUnknownProcedure(req, res, path, { services });
      return;
    }
    serveRpc(handler, req, res);
  };

  function serveMetrics(scrape: () => Promise<{ contentType: string; body: string }>, res: NodeServerResponse): void {
    scrape().then(
      ({ contentType, body }) => {
        const bytes = Buffer.from(body, "utf8");
        res.writeHead(200, { "Content-Type": contentType, "Content-Length": String(bytes.byteLength) });
        res.end(bytes);
      },
      (error: unknown) => {
        log.error({ err: error }, "metrics scrape failed");
        writeText(res, 500, "metrics scrape failed");
      },
    );
  }

  function serveRpc(handler: UniversalHandler, req: NodeServerRequest, res: NodeServerResponse): void {
    const { contextValues, tracking } = createParseErrorContext();
    assignRequestId(req, res, contextValues);
    let uReq: UniversalServerRequest;
    try {
      uReq = universalRequestFromNodeRequest(req, res, undefined, contextValues);
    } catch (e) {
      // e.g. no Host / :authority header
      writeText(res, 400, ConnectError.from(e).rawMessage);
      return;
    }
    const contentType = uReq.header.get("content-type");
    // connect-node's own body iterable destroys the request when a handler
    // stops reading early (e.g. an oversized message), which on HTTP/1.1
    // wrecks the keep-alive connection; the HTTP server drains leftovers.
    uReq = { ...uReq, body: readBody(req) };
    uReq = decodeHttpContentEncoding(uReq, req, contentType);

    failPendingWriteOnClose(res);
    handler(uReq)
      .then((uRes) => rewriteParseErrorResponse(uRes, contentType, tracking))
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .catch((reason: unknown) => {
        const code = ConnectError.from(reason).code;
        if (code === Code.Aborted || code === Code.Canceled || isClientGone(reason)) {
          // The client went away while we were writing.
          log.debug({ rpc: `${handler.service.typeName}/${handler.method.name}`, code: Code[Code.Canceled] }, "client went away");
          return;
        }
        log.error(
          { err: reason, rpc: `${handler.service.typeName}/${handler.method.name}` },
          "rpc handler failed",
        );
        if (!res.headersSent) {
          res.writeHead(500);
        }
        res.end();
      });
  }
}

/**
 * Since Node.js 24 a write that waits for flow control on an HTTP/2 stream the
 * client then resets is never called back, and neither "drain" nor "error"
 * follows. connect-node waits for one of them before it hands the next message
 * (or the end) to the handler, so a watch stream whose client went away while
 * it was blocked would hold its generator, and its event-bus subscription,
 * forever. When the response closes while a write still waits for "drain",
 * fail that write as a destroyed stream: connect-node then ends the handler as
 * a client that hung up (Code.Aborted, not logged as an error).
 */
function failPendingWriteOnClose(res: NodeServerResponse): void {
  res.once("close", () => {
    if (res.listenerCount("drain") === 0 || res.listenerCount("error") === 0) return;
    const err = Object.assign(new Error("the client closed the stream"), { code: "ERR_STREAM_DESTROYED" });
    res.emit("error", err);
  });
}

/**
 * The Go reference decompresses any request carrying `Content-Encoding: gzip`
 * before connect-go sees it. Connect unary requests need nothing here:
 * `Content-Encoding` is their compression header and connect-es decompresses
 * them itself, capped at readMaxBytes. For the other protocols (gRPC, gRPC-Web,
 * Connect streaming) the header is meaningless to connect-es, so the body is
 * gunzipped as a stream here; the per-message readMaxBytes limit then applies
 * to the decompressed envelopes as usual.
 */
function decodeHttpContentEncoding(
  uReq: UniversalServerRequest,
  req: NodeServerRequest,
  contentType: string | null,
): UniversalServerRequest {
  const encoding = uReq.header.get("content-encoding")?.trim().toLowerCase();
  if (!encoding || wireProtocolOf(contentType) === "connect-unary") {
    return uReq;
  }
  if (encoding !== "gzip" && encoding !== "x-gzip") {
    return uReq;
  }
  const header = new Headers(uReq.header);
  header.delete("content-encoding");
  header.delete("content-length");
  return { ...uReq, header, body: gunzipBody(req) };
}

async function* gunzipBody(req: NodeServerRequest): AsyncGenerator<Uint8Array> {
  const gunzip = zlib.createGunzip();
  const source = req as NodeJS.ReadableStream;
  const onSourceError = (err: Error) => gunzip.destroy(err);
  source.on("error", onSourceError);
  source.pipe(gunzip);
  try {
    for await (const chunk of gunzip) {
      yield chunk as Buffer;
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (code.startsWith("Z_") || code.startsWith("ERR__ERROR_FORMAT_") || code === "ERR_PADDING_2") {
      throw new ConnectError("invalid gzip request body", Code.InvalidArgument, undefined, undefined, e);
    }
    throw e;
  } finally {
    source.off("error", onSourceError);
    source.unpipe(gunzip);
    gunzip.destroy();
  }
}

async function* readBody(req: NodeServerRequest): AsyncGenerator<Uint8Array> {
  for await (const chunk of (req as Readable).iterator({ destroyOnReturn: false })) {
    yield chunk as Buffer;
  }
}

function headerValue(req: NodeServerRequest, name: string): string | undefined {
  const v = (req.headers as http.IncomingHttpHeaders)[name];
  return Array.isArray(v) ? v[0] : v;
}

function writeText(res: NodeServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = Buffer.from(text, "utf8");
  res.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": String(body.byteLength),
  });
  res.end(body);
}
